"""The configuration examples in the README are valid settings (docs that cannot rot)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from bridge.agents_config import load_agents
from bridge.config import PROJECT_ROOT, load_brain_settings, load_settings

BLOCKS = re.findall(r"```toml\n(.*?)```", (PROJECT_ROOT / "README.md").read_text(), re.S)


def test_readme_has_examples() -> None:
    assert len(BLOCKS) >= 4
    assert any("[agents." in block for block in BLOCKS)


@pytest.mark.parametrize("block", BLOCKS)
def test_readme_example_loads(block: str, tmp_path: Path) -> None:
    path = tmp_path / "voicebot.toml"
    path.write_text(block)
    settings = load_settings(path)
    load_brain_settings(path)
    # The files an example names are the admin's: stand in for them, then check the rest.
    for table in tomllib.loads(block).get("agents", {}).values():
        for key in ("knowledge", "voice"):
            if table.get(key):
                (tmp_path / table[key]).parent.mkdir(parents=True, exist_ok=True)
                (tmp_path / table[key]).write_text("# Facts\n")
                (tmp_path / (table[key] + ".json")).write_text("{}")
    specs, default = load_agents(path, settings)
    assert default in {spec.name for spec in specs}

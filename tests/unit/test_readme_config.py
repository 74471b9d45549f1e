"""The configuration examples in the README are valid settings (docs that cannot rot)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bridge.config import PROJECT_ROOT, load_brain_settings, load_settings

BLOCKS = re.findall(r"```toml\n(.*?)```", (PROJECT_ROOT / "README.md").read_text(), re.S)


def test_readme_has_examples() -> None:
    assert len(BLOCKS) >= 3


@pytest.mark.parametrize("block", BLOCKS)
def test_readme_example_loads(block: str, tmp_path: Path) -> None:
    path = tmp_path / "voicebot.toml"
    path.write_text(block)
    load_settings(path)
    load_brain_settings(path)

"""The brain knows nothing of the bridge: no module of ``ai/`` imports ``bridge``; and
each stays small enough to read (at most 300 lines)."""

from __future__ import annotations

import ast
from pathlib import Path

AI = Path(__file__).resolve().parents[3] / "ai"


def ai_modules() -> list[Path]:
    modules = sorted(AI.glob("*.py"))
    assert len(modules) > 10, f"ai/ modules not found under {AI}"
    return modules


def imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_ai_never_imports_bridge() -> None:
    offenders = {
        p.name: sorted(n for n in imported(p) if n == "bridge" or n.startswith("bridge."))
        for p in ai_modules()
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_no_ai_module_over_300_lines() -> None:
    sizes = {p.name: len(p.read_text().splitlines()) for p in ai_modules()}
    assert {k: v for k, v in sizes.items() if v > 300} == {}

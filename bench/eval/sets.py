"""Question sets: ``bench/eval/sets/*.toml`` (tuned on) and ``bench/eval/heldout/*.toml``
(never tuned on, reported apart), read and checked before any call is placed.

A file names the agent it tests, that agent's facts and the extension that reaches it,
then its calls: each with a caller voice and turns (what the caller says, the kind of
turn, and for fact turns the facts that must and may be heard). A mistake in a file is
reported with its place ("sets/hours.toml: call 2, turn 3: ...") before the stack starts,
so a long run never dies half-way on a typo.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from bench.eval.score import JUDGES, TurnSpec

ROOT = Path(__file__).resolve().parents[2]
SETS_DIR = Path(__file__).resolve().parent / "sets"
HELDOUT_DIR = Path(__file__).resolve().parent / "heldout"
# The agent name every held-out file is served as, whatever business it describes.
HELDOUT_AGENT = "heldout"
VOICES = ("en-us", "en-gb", "en-us+f3", "en-gb-x-rp", "piper")


class SetError(ValueError):
    """A question set file that cannot be used; the message says where and why."""


@dataclass(frozen=True)
class CallSpec:
    voice: str
    turns: tuple[TurnSpec, ...]


@dataclass(frozen=True)
class EvalSet:
    name: str  # the file's stem, what --set selects
    path: Path
    heldout: bool
    agent: str  # the agent name this set's extension must reach in the eval's config
    knowledge: Path  # absolute
    extension: str
    calls: tuple[CallSpec, ...]

    @property
    def turns(self) -> int:
        return sum(len(c.turns) for c in self.calls)


def _strings(value: object, where: str, key: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SetError(f"{where}: {key} must be a list of strings")
    return tuple(value)


def _turn(table: object, where: str) -> TurnSpec:
    if not isinstance(table, dict):
        raise SetError(f"{where}: must be a table")
    unknown = set(table) - {"say", "kind", "expect", "allow"}
    if unknown:
        raise SetError(f"{where}: unknown keys {sorted(unknown)}")
    say, kind = table.get("say"), table.get("kind")
    if not isinstance(say, str) or not say.strip():
        raise SetError(f"{where}: say must be a non-empty string")
    if kind not in JUDGES:
        raise SetError(f"{where}: kind {kind!r} is not one of {sorted(JUDGES)}")
    expect = _strings(table.get("expect"), where, "expect")
    if kind == "fact" and not expect:
        raise SetError(f"{where}: a fact turn needs expect (the facts that must be heard)")
    if kind == "stored" and (len(expect) != 1 or not expect[0].isdigit()):
        raise SetError(f"{where}: a stored turn expects one callback number, as digits")
    if kind not in ("fact", "stored") and expect:
        raise SetError(f"{where}: only fact and stored turns have expect")
    return TurnSpec(
        say=say, kind=kind, expect=expect, allow=_strings(table.get("allow"), where, "allow")
    )


def parse_set(data: dict, path: Path, heldout: bool, root: Path = ROOT) -> EvalSet:
    """One set from its parsed TOML ``data`` (``path`` names it in errors)."""
    where = path.name if not heldout else f"heldout/{path.name}"
    for key in ("agent", "knowledge", "extension"):
        if not isinstance(data.get(key), str) or not data[key]:
            raise SetError(f"{where}: {key} must be a non-empty string")
    calls = data.get("call")
    if not isinstance(calls, list) or not calls:
        raise SetError(f"{where}: no [[call]] tables")
    parsed = []
    for i, call in enumerate(calls, 1):
        if not isinstance(call, dict):
            raise SetError(f"{where}: call {i} must be a table")
        voice = call.get("voice")
        if voice not in VOICES:
            raise SetError(f"{where}: call {i}: voice {voice!r} is not one of {list(VOICES)}")
        turns = call.get("turn")
        if not isinstance(turns, list) or not turns:
            raise SetError(f"{where}: call {i}: no [[call.turn]] tables")
        parsed.append(
            CallSpec(
                voice,
                tuple(_turn(t, f"{where}: call {i}, turn {j}") for j, t in enumerate(turns, 1)),
            )
        )
    knowledge = Path(data["knowledge"])
    return EvalSet(
        name=path.stem,
        path=path,
        heldout=heldout,
        agent=HELDOUT_AGENT if heldout else data["agent"],
        knowledge=knowledge if knowledge.is_absolute() else root / knowledge,
        extension=data["extension"],
        calls=tuple(parsed),
    )


def load_set(path: Path, heldout: bool) -> EvalSet:
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise SetError(f"{path}: {exc}") from None
    return parse_set(data, path, heldout)


def load_sets(sets_dir: Path = SETS_DIR, heldout_dir: Path = HELDOUT_DIR) -> list[EvalSet]:
    """Every tuned set, then every held-out set, each sorted by file name."""
    found = [load_set(p, heldout=False) for p in sorted(sets_dir.glob("*.toml"))]
    found += [load_set(p, heldout=True) for p in sorted(heldout_dir.glob("*.toml"))]
    names = [s.name for s in found]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise SetError(f"set names must be unique across sets/ and heldout/: {dupes}")
    return found

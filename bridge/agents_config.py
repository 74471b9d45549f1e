"""The agents of one deployment: the ``[agents.NAME]`` tables of the config file, checked.

An agent is what answers a call (greeting, persona, facts, voice); the dialplan names
one per number (``Set(VOICEBOT_AGENT=NAME)``), the browser page with ``/?agent=NAME``.
Without a config file, or with one that has no ``[agents.*]`` table, the two example
agents that ship in ``agents/`` answer (``reception`` by default). A file that has
``[agents.*]`` tables replaces them; its first agent is then the default unless
``[voicebot] default_agent`` names another.

Everything is checked here, at start, so that a typo stops ``voicebot`` with the file
and the key in the message instead of surfacing on a caller's line: unknown keys, wrong
types, names outside ``[A-Za-z0-9_-]+``, a ``default_agent`` naming no agent, and
``knowledge`` or ``voice`` files that are missing or unreadable. Paths are relative to
the config file's folder (the embedded agents' to the project), and leave here absolute.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ai.agent import AgentSpec
from bridge.config import PROJECT_ROOT, ConfigError, Settings, load_settings, read_toml
from bridge.pbx import dialplan

AGENT_NAME = re.compile(r"[A-Za-z0-9_-]+")

# The example agents shipped in agents/, for a deployment that configures none.
EMBEDDED_AGENTS = {
    "reception": {
        "greeting": "Thank you for calling Riverside Dental. How can I help you today?",
        "knowledge": "agents/riverside-dental.md",
        "transfer_to": "people,reception,1",
        "take_messages": True,
    },
    "plumber": {
        "greeting": "Northside Plumbing, good day. How can I help?",
        "knowledge": "agents/northside-plumbing.md",
        "transfer_to": "people,reception,1",
        "take_messages": True,
    },
}
EMBEDDED_DEFAULT = "reception"


class _Invalid(ValueError):
    """A value a key cannot take; the loader adds the file and the key."""


def _text(value: str, base: Path) -> str:
    return value.strip()


def _readable(value: str, base: Path, what: str) -> Path:
    path = (base / Path(value).expanduser()).resolve()
    try:
        with open(path, "rb"):
            pass
    except OSError as exc:
        raise _Invalid(f"cannot read the {what} {path}: {exc.strerror}") from None
    return path


def _facts_file(value: str, base: Path) -> str:
    return str(_readable(value, base, "facts file")) if value else ""


def _voice_file(value: str, base: Path) -> str:
    if not value:
        return ""  # the deployment's voice (tts_voice), else the embedded one
    path = _readable(value, base, "Piper voice")
    _readable(str(path) + ".json", base, "Piper voice's config (it sits beside the .onnx)")
    return str(path)


DIGIT_KEYS = "0123456789*"  # "#" is the hangup digit, and stays so
SAY = "say:"
TRANSFER = "transfer"
TRANSFER_KEY = "0"  # what presses "0" does when the agent transfers and sets nothing else


def _digits(value: dict[str, Any], base: Path) -> tuple[tuple[str, str], ...]:
    """``[agents.NAME.digits]``: ``"1" = "say:We are open..."`` (what a key press says) or
    ``"0" = "transfer"`` (put the caller through to ``transfer_to``). Transfer keys come
    out as ``(key, TRANSFER)``; ``_agent`` splits them from the lines."""
    out: list[tuple[str, str]] = []
    for digit, action in value.items():
        if len(digit) != 1 or digit not in DIGIT_KEYS:
            hint = " ('#' hangs up)" if digit == "#" else ""
            raise _Invalid(f"{digit!r}: a key is one of {' '.join(DIGIT_KEYS)}{hint}")
        if not isinstance(action, str):
            raise _Invalid(f'{digit!r}: must be a string like "say:...", got {action!r}')
        if action.strip() == TRANSFER:
            out.append((digit, TRANSFER))
            continue
        if not action.startswith(SAY) or not action[len(SAY) :].strip():
            raise _Invalid(
                f'{digit!r} = {action!r}: an action is "say:TEXT" (the line spoken when the '
                f'caller presses {digit}) or "transfer" (put the caller through to transfer_to)'
            )
        out.append((digit, action[len(SAY) :].strip()))
    return tuple(out)


# One line per key: its TOML type, and how a value becomes the AgentSpec field (given the
# folder relative paths start from). transfer_to is checked against the dialplan in
# load_agents.
_KEYS: dict[str, tuple[type, Callable[[Any, Path], Any]]] = {
    "greeting": (str, _text),
    "knowledge": (str, _facts_file),
    "persona": (str, _text),
    "voice": (str, _voice_file),
    "transfer_to": (str, _text),
    "digits": (dict, _digits),
    "take_messages": (bool, lambda value, base: value),
}


def load_agents(
    path: str | os.PathLike[str] | None = None, settings: Settings | None = None
) -> tuple[list[AgentSpec], str]:
    """The agents and the default agent's name, from the file at ``path`` (or
    ``$VOICEBOT_CONFIG``), else the embedded ones. ``settings`` are that file's own
    (loaded here if not given): ``greeting`` is the greeting of agents that set none."""
    path = path or os.environ.get("VOICEBOT_CONFIG") or None
    settings = settings or load_settings(path)
    tables = read_toml(path).get("agents", {}) if path is not None else {}
    if not isinstance(tables, dict):
        raise ConfigError(f"{path}: agents: must be tables, [agents.NAME]")
    if tables:
        source, base = str(path), Path(path).resolve().parent  # type: ignore[arg-type]
        default = settings.default_agent or next(iter(tables))
    else:
        source, base, tables = "the embedded agents", PROJECT_ROOT, EMBEDDED_AGENTS
        default = settings.default_agent or EMBEDDED_DEFAULT
    specs = [_agent(name, table, base, settings.greeting, source) for name, table in tables.items()]
    _check_transfers(specs, settings, source)
    if default not in tables:
        raise ConfigError(
            f"{path}: [voicebot] default_agent: no agent {default!r}; "
            f"the agents are {', '.join(tables)}"
        )
    return specs, default


def _agent(name: str, table: object, base: Path, greeting: str, source: str) -> AgentSpec:
    where = f"{source}: [agents.{name}]"
    if not AGENT_NAME.fullmatch(name):
        raise ConfigError(
            f"{where}: an agent's name is letters, digits, '-' and '_' (the dialplan's "
            "Set(VOICEBOT_AGENT=...) and the page's ?agent= use it)"
        )
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: must be a table of settings, got {table!r}")
    fields: dict[str, Any] = {"greeting": greeting}
    for key, value in table.items():
        if key not in _KEYS:
            raise ConfigError(f"{where} {key}: unknown setting; known: {', '.join(sorted(_KEYS))}")
        expected, convert = _KEYS[key]
        if type(value) is not expected:  # TOML gives exact types: no bool for an int
            raise ConfigError(f"{where} {key}: must be {expected.__name__}, got {value!r}")
        try:
            fields[key] = convert(value, base)
        except _Invalid as exc:
            raise ConfigError(f"{where} {key}: {exc}") from None
    digits = fields.pop("digits", ())
    fields["digits"] = tuple((k, line) for k, line in digits if line != TRANSFER)
    keys = tuple(k for k, line in digits if line == TRANSFER)
    if keys and not fields.get("transfer_to"):
        raise ConfigError(
            f'{where} digits: {", ".join(repr(k) for k in keys)} = "transfer" needs '
            'transfer_to (the dialplan place where a person answers, e.g. "people,reception,1")'
        )
    if fields.get("transfer_to") and not any(k == TRANSFER_KEY for k, _ in digits):
        keys += (TRANSFER_KEY,)
    return AgentSpec(name=name, transfer_keys=keys, **fields)


def _check_transfers(specs: list[AgentSpec], settings: Settings, source: str) -> None:
    """Every ``transfer_to`` must be a place the dialplan has (checked in the files, so
    before Asterisk runs: bridge/pbx/dialplan.py)."""
    wanted = [spec for spec in specs if spec.transfer_to]
    if not wanted:
        return
    path = Path(settings.asterisk_config_dir) / "extensions.conf"
    try:
        plan = dialplan.load(path)
    except OSError as exc:
        raise ConfigError(
            f"{source}: transfer_to needs the dialplan, and {path} cannot be read: {exc.strerror}"
        ) from None
    for spec in wanted:
        problem = plan.check_target(spec.transfer_to)
        if problem:
            raise ConfigError(f"{source}: [agents.{spec.name}] transfer_to: {problem} in {path}")

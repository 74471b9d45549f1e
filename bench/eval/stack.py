"""The stack under evaluation: ``voicebot run`` with the eval's own config and dialplan.

The eval never edits the admin's files. It writes, under its work folder:

- a copy of ``asterisk/`` whose ``extensions.conf`` gains, in a ``[from-loopback](+)``
  block (Asterisk's syntax for adding to a context), one extension for each set whose
  extension the shipped dialplan does not route (the held-out set's 300);
- a config with free loopback ports, ``asterisk_config_dir`` pointing at that copy,
  ``default_agent = "reception"`` and one ``[agents.NAME]`` table per agent the sets
  call (reception and plumber always, ``heldout`` from the held-out file).

Before the product knew ``[agents.*]`` the same config made ``voicebot`` stop with a
configuration error; the stack then starts once more without the agents (every
extension reaches the one generic bot) and says so, so the eval still measures.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from bench.eval.sets import ROOT, EvalSet, SetError
from bench.processes import StackPorts, VoicebotProcess, wait_healthy, write_config

DEFAULT_AGENT = "reception"
# The agents the eval always configures (the ones the shipped dialplan routes to).
BASE_AGENTS = {
    "reception": ROOT / "agents" / "riverside-dental.md",
    "plumber": ROOT / "agents" / "northside-plumbing.md",
}
TRANSFER_TO = "people,reception,1"  # the shipped dialplan's desk
RTP_RANGE = (25000, 26999)  # apart from bench's 23000-24999: both may run on one machine
LOOPBACK_CONTEXT = "from-loopback"


def agents_for(sets: list[EvalSet]) -> dict[str, Path]:
    """Agent name -> facts file, for the base agents and every set's agent."""
    agents = dict(BASE_AGENTS)
    for s in sets:
        known = agents.setdefault(s.agent, s.knowledge)
        if known.resolve() != s.knowledge.resolve():
            raise SetError(
                f"{s.path}: agent {s.agent!r} with knowledge {s.knowledge}, but the eval "
                f"serves {s.agent!r} from {known}"
            )
    return agents


def loopback_routes(extensions_conf: str, default_agent: str = DEFAULT_AGENT) -> dict[str, str]:
    """Extension -> agent of the ``[from-loopback]`` context (and its ``(+)`` additions):
    the ``Set(VOICEBOT_AGENT=...)`` of its first priority, the default agent for a plain
    ``Goto(voicebot,...)``, "" for anything else."""
    routes: dict[str, str] = {}
    context = ""
    for raw in extensions_conf.splitlines():
        line = raw.split(";", 1)[0].strip()
        header = re.fullmatch(r"\[([^\]]+)\](?:\(\+?!?\))?", line)
        if header:
            context = header.group(1)
            continue
        m = re.fullmatch(r"exten\s*=>?\s*([^,]+),\s*1\s*,\s*(.*)", line)
        if context != LOOPBACK_CONTEXT or not m:
            continue
        ext, app = m.group(1).strip(), m.group(2)
        agent = re.match(r"Set\(VOICEBOT_AGENT=([^)]*)\)", app)
        if agent:
            routes[ext] = agent.group(1).strip()
        elif app.replace(" ", "").startswith("Goto(voicebot"):
            routes[ext] = default_agent
        else:
            routes[ext] = ""
    return routes


def extra_extensions(sets: list[EvalSet], routes: dict[str, str]) -> dict[str, str]:
    """Extension -> agent for the sets' extensions the shipped dialplan lacks; an error if
    it routes one of them to another agent."""
    extra: dict[str, str] = {}
    for s in sets:
        routed = routes.get(s.extension, extra.get(s.extension))
        if routed is None:
            extra[s.extension] = s.agent
        elif routed != s.agent:
            raise SetError(
                f"{s.path}: extension {s.extension} must reach agent {s.agent!r}, but the "
                f"dialplan sends it to {routed or 'something other than the bot'!r}"
            )
    return extra


def write_asterisk_dir(dst: Path, extra: dict[str, str], src: Path = ROOT / "asterisk") -> Path:
    """A copy of the admin's Asterisk config with ``extra`` extensions added to
    ``[from-loopback]``."""
    dst.mkdir(parents=True, exist_ok=True)
    for conf in sorted(src.glob("*.conf")):
        shutil.copyfile(conf, dst / conf.name)
    if extra:
        lines = [
            "",
            "; Added by bench/eval for its own run: the sets' extensions not routed above.",
            f"[{LOOPBACK_CONTEXT}](+)",
        ]
        for ext, agent in extra.items():
            lines += [
                f"exten => {ext},1,Set(VOICEBOT_AGENT={agent})",
                " same => n,Goto(voicebot,s,1)",
            ]
        with open(dst / "extensions.conf", "a") as f:
            f.write("\n".join(lines) + "\n")
    return dst


def greeting_for(knowledge: Path) -> str:
    """A short greeting naming the business (its facts file's ``# Title``): the callers'
    WAVs wait a fixed time for the greeting to end."""
    title = ""
    if knowledge.exists():
        title = next(
            (ln[2:].strip() for ln in knowledge.read_text().splitlines() if ln.startswith("# ")),
            "",
        )
    return f"Thank you for calling {title}. How can I help?" if title else "Hello, how can I help?"


def _toml_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_eval_config(
    path: Path,
    ports: StackPorts,
    instance: str,
    asterisk_dir: Path,
    agents: dict[str, Path] | None,
) -> Path:
    """The config ``voicebot run`` gets; ``agents`` None leaves out every agent setting."""
    write_config(path, ports, instance, rtp=RTP_RANGE)
    lines = [f"asterisk_config_dir = {_toml_string(str(asterisk_dir))}"]
    if agents is not None:
        lines.append(f"default_agent = {_toml_string(DEFAULT_AGENT)}")
        for name, knowledge in agents.items():
            lines += ["", f"[agents.{name}]", f"greeting = {_toml_string(greeting_for(knowledge))}"]
            if knowledge.exists():
                lines.append(f"knowledge = {_toml_string(str(knowledge))}")
            # Every agent has a desk to put callers through to, as a business would set it;
            # the eval's Asterisk has no phone there, so the caller comes back to the bot.
            lines.append(f"transfer_to = {_toml_string(TRANSFER_TO)}")
            lines.append("take_messages = true")
    with open(path, "a") as f:
        f.write("\n".join(lines) + "\n")
    return path


@dataclass
class StackInfo:
    agents: bool  # whether the stack took the [agents.*] tables
    agents_error: str  # why not, if not
    config: Path
    routes: dict[str, str]  # extension -> agent, as the eval's dialplan has them


class EvalStack:
    """``voicebot run`` on free loopback ports with the eval's config, for one ``with``."""

    def __init__(self, workdir: Path, sets: list[EvalSet], instance: str) -> None:
        self.workdir = workdir
        self.data_dir = workdir / "data"  # what write_config gives every config here
        self.ports = StackPorts.pick()
        self.instance = instance
        self.agents = agents_for(sets)
        for name, knowledge in self.agents.items():
            if not knowledge.exists():
                print(f"eval: WARNING agent {name}: no facts file {knowledge}; it answers without")
        shipped = loopback_routes((ROOT / "asterisk" / "extensions.conf").read_text())
        extra = extra_extensions(sets, shipped)
        self.asterisk_dir = write_asterisk_dir(workdir / "asterisk", extra)
        self.routes = {**shipped, **extra}
        self.process: VoicebotProcess | None = None
        self.info: StackInfo | None = None

    def __enter__(self) -> EvalStack:
        config = write_eval_config(
            self.workdir / "eval.toml", self.ports, self.instance, self.asterisk_dir, self.agents
        )
        error = self._start(config)
        took_agents = error is None
        if error is not None:
            print(
                "eval: WARNING the stack refused the agents config, so every extension "
                f"reaches the one generic bot:\n  {error}",
                flush=True,
            )
            config = write_eval_config(
                self.workdir / "eval-no-agents.toml",
                self.ports,
                self.instance,
                self.asterisk_dir,
                None,
            )
            again = self._start(config)
            if again is not None:
                raise RuntimeError(f"voicebot run did not start: {again}")
        self.info = StackInfo(took_agents, error or "", config, self.routes)
        return self

    def _start(self, config: Path) -> str | None:
        """Start ``voicebot run``; the configuration error it stopped with, if it did."""
        log = self.workdir / f"{config.stem}.log"
        self.process = VoicebotProcess("run", config, log)
        try:
            self.process.wait_ready(timeout=900)
        except AssertionError:
            code = self.process.stop()
            text = self.process.output()
            found = re.search(r"configuration error: (.*)", text)
            if code == 2 and found:
                return found.group(1)
            raise RuntimeError(
                f"voicebot run failed (exit {code}); see {log}:\n{text[-3000:]}"
            ) from None
        wait_healthy(self.ports.http, timeout=60)
        return None

    def output(self) -> str:
        return self.process.output() if self.process else ""

    def __exit__(self, *exc: tuple[type[BaseException], BaseException, TracebackType]) -> None:
        if self.process is not None:
            self.process.stop(timeout=30)

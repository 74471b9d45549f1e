"""What an ``extensions.conf`` offers as a place to send a call: its contexts, their
extensions (literal or ``_`` patterns) and each extension's priority labels.

Why read the file ourselves: an agent's ``transfer_to = "people,reception,1"`` must be
checked when ``voicebot`` starts, which may be before its Asterisk runs, so asking
Asterisk (``dialplan show``) cannot be the check. This parser knows just enough of
Asterisk's dialplan syntax for that question: ``[context]`` headers (templates
``[name](!)`` are skipped, ``[name](tpl)`` inherits nothing we need), ``exten =>``
and ``same =>`` lines with ``n(label)`` labels, ``include =>`` of other contexts, and
``#include``/``#tryinclude`` of files beside it (a missing one is fine: voicebot
writes some at each start). Comments start with ``;``. Pure: text in, answers out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

_HEADER = re.compile(r"^\[([^\]]+)\](\(([^)]*)\))?")
_EXTEN = re.compile(r"^(exten|same)\s*=>?\s*(.*)$", re.IGNORECASE)
_INCLUDE_CONTEXT = re.compile(r"^include\s*=>?\s*([^,\s]+)", re.IGNORECASE)
_INCLUDE_FILE = re.compile(r'^#(?:try)?include\s+"?([^"]+)"?', re.IGNORECASE)
_PRIORITY = re.compile(r"^(\d+|n|s|hint)(?:\(([^)]+)\))?$", re.IGNORECASE)
_PATTERN_CLASS = {"X": "[0-9]", "Z": "[1-9]", "N": "[2-9]"}


@dataclass
class Context:
    extensions: dict[str, set[str]] = field(default_factory=dict)  # exten -> labels
    includes: list[str] = field(default_factory=list)


@dataclass
class Dialplan:
    contexts: dict[str, Context] = field(default_factory=dict)

    def find(self, context: str, exten: str) -> set[str] | None:
        """The labels of the extension that ``exten`` reaches in ``context`` (following
        ``include =>``), or None when the context has no such extension."""
        return self._find(context, exten, set())

    def _find(self, context: str, exten: str, seen: set[str]) -> set[str] | None:
        ctx = self.contexts.get(context)
        if ctx is None or context in seen:
            return None
        seen.add(context)
        if exten in ctx.extensions:
            return ctx.extensions[exten]
        for name, labels in ctx.extensions.items():
            if name.startswith("_") and _pattern(name[1:]).fullmatch(exten):
                return labels
        for included in ctx.includes:
            found = self._find(included, exten, seen)
            if found is not None:
                return found
        return None

    def check_target(self, target: str) -> str:
        """ "" when ``"context,exten,priority"`` is a place in this dialplan, else why not."""
        parts = [p.strip() for p in target.split(",")]
        if len(parts) != 3 or not all(parts):
            return f'{target!r}: must be "context,extension,priority", e.g. "people,reception,1"'
        context, exten, priority = parts
        if context not in self.contexts:
            known = ", ".join(sorted(self.contexts)) or "none"
            return f"{target!r}: the dialplan has no context [{context}] (it has: {known})"
        labels = self.find(context, exten)
        if labels is None:
            return f"{target!r}: context [{context}] has no extension {exten!r}"
        if not priority.isdigit() and priority not in labels:
            return f"{target!r}: extension {exten!r} of [{context}] has no priority {priority!r}"
        if priority.isdigit() and int(priority) < 1:
            return f"{target!r}: priorities start at 1"
        return ""


def _pattern(body: str) -> re.Pattern[str]:
    """An Asterisk extension pattern (after its ``_``) as a regex."""
    out, i = "", 0
    while i < len(body):
        c = body[i]
        if c.upper() in _PATTERN_CLASS:
            out += _PATTERN_CLASS[c.upper()]
        elif c == "[":
            end = body.find("]", i)
            if end < 0:
                out += re.escape(c)
            else:
                out += "[" + body[i + 1 : end].replace("\\", "\\\\") + "]"
                i = end
        elif c == ".":
            out += ".+"
        elif c == "!":
            out += ".*"
        else:
            out += re.escape(c)
        i += 1
    return re.compile(out)


def parse(text: str, folder: Path | None = None, _seen: set[Path] | None = None) -> Dialplan:
    """The dialplan of ``text``; ``#include`` files are read from ``folder`` if given."""
    plan = Dialplan()
    _parse_into(plan, text, folder, _seen or set(), [None])
    return plan


def _parse_into(
    plan: Dialplan, text: str, folder: Path | None, seen: set[Path], current: list[str | None]
) -> None:
    last_exten: str | None = None
    for raw in text.splitlines():
        line = raw.split(";", 1)[0].strip()
        if not line:
            continue
        included = _INCLUDE_FILE.match(line)
        if included:
            if folder is not None:
                path = (folder / included.group(1).strip()).resolve()
                if path.is_file() and path not in seen:
                    seen.add(path)
                    _parse_into(plan, path.read_text(errors="replace"), folder, seen, current)
            continue
        header = _HEADER.match(line)
        if header:
            name, options = header.group(1).strip(), header.group(3) or ""
            template = "!" in options
            current[0] = None if template or name in ("general", "globals") else name
            if current[0] is not None:
                plan.contexts.setdefault(current[0], Context())
            last_exten = None
            continue
        if current[0] is None:
            continue
        ctx = plan.contexts[current[0]]
        inc = _INCLUDE_CONTEXT.match(line)
        if inc:
            ctx.includes.append(inc.group(1))
            continue
        m = _EXTEN.match(line)
        if not m:
            continue
        fields = [f.strip() for f in m.group(2).split(",", 2)]
        if m.group(1).lower() == "exten":
            if len(fields) < 2:
                continue
            last_exten, priority = fields[0].split("/", 1)[0].strip(), fields[1]
        else:
            if last_exten is None or not fields:
                continue
            priority = fields[0]
        labels = ctx.extensions.setdefault(last_exten, set())
        p = _PRIORITY.match(priority)
        if p and p.group(2):
            labels.add(p.group(2))


def load(path: str | Path) -> Dialplan:
    """The dialplan in the file at ``path`` and the files it ``#include``s beside it."""
    p = Path(path)
    return parse(p.read_text(errors="replace"), p.parent, {p.resolve()})

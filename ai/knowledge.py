"""A business's facts, read from the Markdown file its owner wrote, as sentences to speak.

The file is written by a non-programmer: an optional ``# Title`` (the business's
name), then ``##`` sections of plain sentences or ``-`` bullets. A section may say
how callers ask for it on a line ``Also asked as: where are you, how do I find
you``; that line is indexed, never spoken. ``###`` subsections are sections of
their own whose heading carries their parent's ("Prices / Children").

Each fact is one *sentence* the bot may say on its own, exactly as the owner wrote
it (markdown removed): a bullet is one fact (split further if it holds several
sentences), a paragraph is split into its sentences. Sentence ends are ``. ! ?``
followed by a space and a capital or digit, except after a common abbreviation
("Dr.", "St.", "a.m."), so "Dr. Lee works on Fridays." stays one fact.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from ai.sentences import ABBREVIATIONS, clean_for_speech

ALSO_ASKED = re.compile(r"^\s*also asked as\s*:\s*(.*)$", re.IGNORECASE)
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_BULLET = re.compile(r"^\s*(?:[-*+•]|\d{1,3}[.)])\s+")
_SENTENCE_END = re.compile(r"[.!?]+[\"')\]]*\s+(?=[A-Z0-9$\"'(])")


class KnowledgeError(ValueError):
    """The facts file cannot be read; the message names the file."""


@dataclass(frozen=True)
class Fact:
    """One speakable sentence, where it sits in the file."""

    text: str
    section: int  # index into Knowledge.sections
    order: int  # position in the file, for speaking several facts in the owner's order


@dataclass
class Section:
    heading: str
    also_asked: list[str] = field(default_factory=list)
    facts: list[int] = field(default_factory=list)  # indexes into Knowledge.facts


@dataclass
class Knowledge:
    title: str
    sections: list[Section]
    facts: list[Fact]
    source: str = ""

    @property
    def empty(self) -> bool:
        return not self.facts

    def text(self) -> str:
        """Every fact, the title and headings: what a spoken number or name may come from."""
        parts = [self.title, *(s.heading for s in self.sections), *(f.text for f in self.facts)]
        return "\n".join(parts)


def split_sentences(text: str) -> list[str]:
    """``text`` cut at sentence ends, not after abbreviations; each piece stripped."""
    out: list[str] = []
    start = 0
    for m in _SENTENCE_END.finditer(text):
        word = text[start : m.start()].rsplit(None, 1)[-1:] or [""]
        if word[0].lower().rstrip(".") in ABBREVIATIONS or re.fullmatch(r"[A-Z]", word[0]):
            continue
        out.append(text[start : m.end()].strip())
        start = m.end()
    tail = text[start:].strip()
    if tail:
        out.append(tail)
    return [s for s in out if any(c.isalnum() for c in s)]


def _speakable(sentence: str) -> str:
    text = clean_for_speech(sentence)
    if text and text[-1] not in ".!?":
        text += "."
    return text


def parse(markdown: str, source: str = "") -> Knowledge:
    """The facts of one Markdown file (see the module docstring for the format)."""
    title = ""
    sections: list[Section] = []
    facts: list[Fact] = []
    parent = ""
    paragraph: list[str] = []

    def section() -> Section:
        if not sections:
            sections.append(Section(heading=title))
        return sections[-1]

    def add(text: str) -> None:
        for sentence in split_sentences(text):
            spoken = _speakable(sentence)
            if spoken:
                sec = section()
                sec.facts.append(len(facts))
                facts.append(Fact(spoken, len(sections) - 1, len(facts)))

    def end_paragraph() -> None:
        if paragraph:
            add(" ".join(paragraph))
            paragraph.clear()

    for line in markdown.splitlines():
        heading = _HEADING.match(line)
        if heading:
            end_paragraph()
            level, text = len(heading.group(1)), clean_for_speech(heading.group(2))
            if level == 1 and not title:
                title = text
                if sections and not sections[0].heading:
                    sections[0].heading = title
                continue
            if level <= 2:
                parent = text
            else:
                text = f"{parent} / {text}" if parent else text
            sections.append(Section(heading=text))
            continue
        also = ALSO_ASKED.match(line)
        if also:
            end_paragraph()
            section().also_asked.extend(p.strip() for p in also.group(1).split(",") if p.strip())
            continue
        if not line.strip():
            end_paragraph()
        elif _BULLET.match(line):
            end_paragraph()
            add(_BULLET.sub("", line, count=1))
        else:
            paragraph.append(line.strip())
    end_paragraph()
    return Knowledge(title=title, sections=sections, facts=facts, source=source)


def load(path: str | Path) -> Knowledge:
    """The facts file at ``path``; a clear error when it cannot be read as UTF-8 text."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise KnowledgeError(f"cannot read the facts file {path}: {reason}") from None
    return parse(text, source=str(path))

"""Cut a reply streaming from the LLM into speakable chunks, as early as is safe.

TTS speaks chunk by chunk while tokens still arrive, so a chunk is handed out
the moment it is known to be complete. Theory of operation:

- Text is buffered raw and cut at boundaries; each chunk is cleaned for speech
  (``clean_for_speech``) only when it is handed out, so markdown or a URL that
  arrives split over several pieces is still seen whole.
- A boundary is a sentence end (``. ! ? … ; :`` and runs of them, optionally
  followed by closing quotes or brackets) *followed by whitespace*, or a line
  break. A terminator at the very end of the buffer is not a boundary yet: the
  next piece may turn ``3.`` into ``3.5`` or ``e.`` into ``e.g.``. Only
  ``flush()`` treats the end of the text as a boundary. The cost is one token.
- Not boundaries: a period after a common abbreviation (``Mr.``, ``e.g.``,
  ``etc.``, ``U.S.``), after a single capital (an initial, ``J. Smith``), or after a
  number that opens a line (``1. `` is a list marker); ``3.5`` and ``10:30``
  never qualify because no whitespace follows the mark.
- The first chunk of a reply may also end at a comma, semicolon or dash once
  it holds ``first_min_words`` words: the caller hears the reply start sooner.
- A chunk never grows past ``max_words``: without a sentence end it is cut at
  its last comma, else after the ``max_words``-th word.
"""

from __future__ import annotations

import re

# Lower-cased, without the final period.
ABBREVIATIONS = frozenset(
    {"mr", "mrs", "ms", "dr", "st", "prof", "sr", "jr", "vs", "etc", "e.g", "i.e", "a.m", "p.m"}
)
TERMINATORS = ".!?…;:"
CLOSERS = "\"')]}’”»"
DASHES = "–—"  # en and em dash; a hyphen counts only with spaces around it

_URL = re.compile(r"(?:https?://|www\.)[^\s<>()\[\]]*[^\s<>()\[\].,;:!?'\"]", re.IGNORECASE)
_MD_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_BULLET = re.compile(r"^[ \t]*(?:[-*+•·▪‣◦]|\d{1,3}[.)])[ \t]+", re.MULTILINE)
_MARKUP = re.compile(r"[*#`~]+")
_SPACE_BEFORE_PUNCT = re.compile(r"\s+(?=[,.;:!?…])")
_EDGE_DASH = re.compile(r"^(?:[-–—]\s+|[–—])|(?:\s+[-–—]|[–—])$")
_ACRONYM = re.compile(r"^(?:[A-Za-z]\.)+[A-Za-z]$")  # U.S, e.g, a.m: the last period follows
_WORD = re.compile(r"\S+")
_ALNUM = re.compile(r"[^\W_]")
_COMMA = re.compile(r",(?=\s)")


def clean_for_speech(text: str) -> str:
    """Text as it should be read aloud: no markdown, no URLs, single spaces.

    Markdown emphasis, headings and code marks (``* # ` ~``) are removed and
    ``_`` becomes a space; list bullets are dropped; ``[label](url)`` becomes
    ``label`` and a bare URL the word "link", so TTS never spells out
    ``h t t p s``. Edge dashes are trimmed: a chunk cut at a dash must not
    start or end with one. Phone keys must therefore be written as words
    ("press star", "press pound"): say so in the system prompt.
    """
    text = _MD_LINK.sub(r"\1", text)
    text = _URL.sub("link", text)
    text = _BULLET.sub("", text)
    text = _MARKUP.sub("", text).replace("_", " ")
    text = " ".join(text.split())
    text = _SPACE_BEFORE_PUNCT.sub("", text)
    return _EDGE_DASH.sub("", text).strip()


def has_speech(text: str) -> bool:
    """True when there is a letter or digit to say."""
    return _ALNUM.search(text) is not None


def _count_words(text: str) -> int:
    return sum(1 for m in _WORD.finditer(text) if has_speech(m.group()))


class SentenceSplitter:
    """Feed LLM pieces with ``push``; get speakable chunks back as soon as they are complete.

    One splitter per reply: ``flush()`` hands out the rest and resets it.
    """

    def __init__(self, first_min_words: int = 4, max_words: int = 30) -> None:
        if first_min_words < 1 or max_words < first_min_words:
            raise ValueError("need 1 <= first_min_words <= max_words")
        self.first_min_words = first_min_words
        self.max_words = max_words
        self._buffer = ""
        self._first = True

    def push(self, piece: str) -> list[str]:
        """Add a piece of the reply; return the chunks it completed (often none)."""
        self._buffer += piece
        return self._drain(final=False)

    def flush(self) -> list[str]:
        """The reply has ended: return what is left, and get ready for the next reply."""
        chunks = self._drain(final=True)
        rest = clean_for_speech(self._buffer)
        if has_speech(rest):
            chunks.append(rest)
        self._buffer = ""
        self._first = True
        return chunks

    def _drain(self, final: bool) -> list[str]:
        chunks: list[str] = []
        while (cut := self._next_cut(final)) is not None:
            raw, self._buffer = self._buffer[:cut], self._buffer[cut:]
            chunk = clean_for_speech(raw)
            if has_speech(chunk):
                chunks.append(chunk)
                self._first = False
        return chunks

    def _next_cut(self, final: bool) -> int | None:
        """Where the next chunk ends in the buffer, or None if it is not complete yet."""
        cut = self._boundary(final)
        if cut is not None and _count_words(self._buffer[:cut]) <= self.max_words:
            return cut
        long_cut = self._long_cut()
        return long_cut if long_cut is not None else cut

    def _boundary(self, final: bool) -> int | None:
        buf = self._buffer
        i = 0
        while i < len(buf):
            ch = buf[i]
            if ch == "\n":
                return i + 1
            if ch in TERMINATORS:
                end = i
                while end < len(buf) and buf[end] in TERMINATORS:
                    end += 1
                while end < len(buf) and buf[end] in CLOSERS:
                    end += 1
                if end == len(buf):
                    return end if final else None  # the next piece decides
                if buf[end].isspace() and not self._protected(i, end):
                    return end
                i = end
                continue
            if self._first and self._is_soft_break(i):
                if i + 1 == len(buf):
                    return None  # "1," could become "1,000"
                if (buf[i + 1].isspace() or ch in DASHES) and _count_words(
                    buf[:i]
                ) >= self.first_min_words:
                    return i + 1
            i += 1
        return None

    def _is_soft_break(self, i: int) -> bool:
        buf = self._buffer
        ch = buf[i]
        if ch in ",;" or ch in DASHES:
            return True
        return ch == "-" and i > 0 and buf[i - 1] == " "

    def _protected(self, mark: int, end: int) -> bool:
        """True when the mark at ``mark`` only looks like a sentence end."""
        buf = self._buffer
        if buf[mark:end].rstrip(CLOSERS) != ".":
            return False  # "!", "?", "...", ":" and ";" always end a chunk
        line_start = buf.rfind("\n", 0, mark) + 1
        word = buf[line_start:mark].split()[-1:] or [""]
        token = word[0].lstrip("\"'([{“‘«")
        if token.lower() in ABBREVIATIONS or _ACRONYM.match(token):
            return True
        if len(token) == 1 and token.isupper():
            return True  # an initial: "John F. Kennedy"
        before = buf[line_start:mark].strip()
        return before.isdigit() and len(before) <= 3  # "1. " opening a line: a list marker

    def _long_cut(self) -> int | None:
        """Cut a chunk that ran past ``max_words``: at its last comma, else after the word."""
        words = [m for m in _WORD.finditer(self._buffer) if has_speech(m.group())]
        if len(words) <= self.max_words:
            return None
        limit = words[self.max_words - 1].end()
        if not self._buffer[limit:].strip():
            return None  # the last counted word may still be growing
        commas = [m.end() for m in _COMMA.finditer(self._buffer, 0, limit + 1)]
        if commas and _count_words(self._buffer[: commas[-1]]) >= self.first_min_words:
            return commas[-1]
        return limit

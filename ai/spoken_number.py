"""A phone number as a caller says it, and as the bot reads it back.

Whisper writes a spoken number in whichever way it likes: "555 0123", "555-0123",
"five five five, oh one two three", "double five five". ``digits_in`` takes the
digits out of any of these, in order: numerals as written, number words one per
digit ("oh" is 0 in a run of digits), "double"/"triple" repeating the next digit, and
the tens a caller may group digits in ("twenty-three" -> 23, "fifty five" -> 55). A
leading "+" is kept, the way a callback number may start.

``read_back`` renders the digits the way a receptionist reads a number back: each
digit a word, in groups of three or four separated by commas, so that TTS pauses
between the groups and the caller can follow. Pure functions of the text.
"""

from __future__ import annotations

import re

_ONES = {
    "zero": 0, "oh": 0, "o": 0, "nought": 0, "one": 1, "two": 2, "three": 3, "four": 4,
    "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
}  # fmt: skip
_TEENS = {
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
}  # fmt: skip
_TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
    "eighty": 80, "ninety": 90,
}  # fmt: skip
_REPEAT = {"double": 2, "triple": 3}
_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
_TOKEN = re.compile(r"\+?\d+|[a-z]+", re.IGNORECASE)


def digits_in(text: str) -> str:
    """Every digit the caller said in ``text``, in order ("" if none)."""
    out: list[str] = []
    repeat = 1
    tokens = _TOKEN.findall(text.replace("-", " "))
    for i, raw in enumerate(tokens):
        token = raw.lower()
        if token.lstrip("+").isdigit():
            if token.startswith("+") and not out:
                out.append("+")
            numeral = token.lstrip("+")
            out.append(numeral[0] * repeat + numeral[1:])
            repeat = 1
        elif token == "plus" and not out:
            out.append("+")
        elif token in _REPEAT:
            repeat = _REPEAT[token]
        elif token in _ONES:
            if token in ("o", "oh") and not _near_digits(tokens, i):
                continue  # "oh, it's ..." is not a zero
            out.append(str(_ONES[token]) * repeat)
            repeat = 1
        elif token in _TEENS:
            out.append(str(_TEENS[token]))
            repeat = 1
        elif token in _TENS:
            following = tokens[i + 1].lower() if i + 1 < len(tokens) else ""
            tens = _TENS[token]
            # "fifty five" is 55, "fifty" alone 50; the ones word is then consumed.
            if following in _ONES and _ONES[following] and following not in ("o", "oh"):
                tokens[i + 1] = ""
                tens += _ONES[following]
            out.append(str(tens))
            repeat = 1
        elif token == "hundred" and out:
            out.append("00")
        elif token == "thousand" and out:
            out.append("000")
    return "".join(out)


def _near_digits(tokens: list[str], i: int) -> bool:
    """ "oh" counts as zero only between or next to other digits."""
    for j in (i - 1, i + 1):
        if 0 <= j < len(tokens):
            t = tokens[j].lower()
            if t.lstrip("+").isdigit() or (t in _ONES and t not in ("o", "oh")) or t in _REPEAT:
                return True
    return False


def read_back(digits: str) -> str:
    """ "5550123" -> "five five five, zero one two three": each digit a word, grouped."""
    plus = digits.startswith("+")
    body = [d for d in digits if d.isdigit()]
    groups = _groups(len(body))
    words: list[str] = []
    at = 0
    for size in groups:
        words.append(" ".join(_WORDS[int(d)] for d in body[at : at + size]))
        at += size
    spoken = ", ".join(words)
    return f"plus {spoken}" if plus else spoken


def _groups(n: int) -> list[int]:
    """Group sizes of 3 and 4 that add up to ``n``, the way numbers are read in blocks
    (7 -> 3 4, 10 -> 3 3 4, 11 -> 3 4 4); a short run is one group."""
    if n <= 4:
        return [n] if n else []
    fours = 0
    while (n - 4 * fours) % 3:
        fours += 1
        if 4 * fours > n:
            return [n]
    threes = (n - 4 * fours) // 3
    return [3] * threes + [4] * fours

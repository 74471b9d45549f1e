"""Check a generated reply against the business's facts: every number, time, price, day,
month or name it states must appear in them.

A small LLM phrases well and invents freely ("we open at 9" where the facts say 8).
So the brain never lets a generated reply state anything the facts do not: it lists
the reply's *claims* and keeps the reply only if each is supported; otherwise the
caller hears a sentence of the business's own instead. A claim is a number (digits,
or a number word: "nine" is 9), a weekday or month, or a capitalised word that does
not start a sentence (a name: "Dr. Patel", "Mill Road"). Conservative on purpose: a
false alarm costs a plainer reply, a missed one costs a wrong fact.
"""

from __future__ import annotations

import re

from ai.fact_types import DAYS, day_of

MONTHS = (
    "january february march april may june july august september october november december"
).split()
_NUMBER_WORDS = {
    w: str(i)
    for i, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen "
        "fourteen fifteen sixteen seventeen eighteen nineteen twenty".split()
    )
}
_TENS = "thirty forty fifty sixty seventy eighty ninety".split()
_NUMBER_WORDS.update({w: str(10 * i) for i, w in enumerate(_TENS, 3)})
_NUMBER_WORDS.update({"hundred": "100", "thousand": "1000", "half": "0.5", "noon": "12"})
_TOKEN = re.compile(r"\d+(?:[.,:]\d+)*|[A-Za-z]+(?:'[a-z]+)?")
# Capitalised words that are not names wherever they stand.
_NOT_NAMES = frozenset({"i", "i'm", "i'll", "i'd", "i've", "ok", "okay", "oh", "hi", "hello"})


def _numbers(token: str) -> list[str]:
    """ "9:30" -> ["9", "30"], "$1,200" -> ["1200"], "nine" -> ["9"]."""
    low = token.lower()
    if low in _NUMBER_WORDS:
        return [_NUMBER_WORDS[low]]
    if token[0].isdigit():
        token = token.replace(",", "")
        return [str(int(p)) if p.isdigit() else p for p in re.split(r"[.:]", token) if p]
    return []


def claims(text: str) -> set[str]:
    """What ``text`` states that must be true: numbers, days, months, names (lower-cased)."""
    out: set[str] = set()
    sentence_start = True
    for m in _TOKEN.finditer(text):
        token = m.group(0)
        numbers = _numbers(token)
        low = token.lower()
        if numbers:
            out.update(n for n in numbers if n != "0" or token == "0")
        elif day_of(low) and (low in DAYS or token[0].isupper()):
            out.add(day_of(low) or low)
        elif low in MONTHS and low != "may":
            out.add(low)
        elif token[0].isupper() and not sentence_start and low not in _NOT_NAMES:
            out.add(low)
        end = text[m.end() : m.end() + 2]
        sentence_start = bool(re.match(r"[.!?]", end))
    return out


def support(sources: str) -> set[str]:
    """Everything a reply may state, from the facts and the agent's own words."""
    words = {w.lower() for w in _TOKEN.findall(sources)}
    return claims(sources) | words | {n for w in words for n in _numbers(w)}


def unsupported(reply: str, supported: set[str]) -> list[str]:
    """The claims of ``reply`` that ``supported`` (from ``support()``) does not hold."""
    return sorted(c for c in claims(reply) if c not in supported)

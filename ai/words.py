"""The words of a question that say what it is about, and how much each says.

Shared by retrieval (ai/retrieval.py): filler a caller says around any question
is dropped; a word's weight comes from how rare it is in English at large
(``wordfreq``), not from the business's file, so a rare word the file lacks
("braces") counts as much as it says; ``root`` joins derived forms that the
Snowball stemmer keeps apart ("payment" / "pay").
"""

from __future__ import annotations

import re

from wordfreq import zipf_frequency

# Function words and what callers say around a question, in any business.
FILLER = frozenset(
    """
    a about actually again all also anywhere somewhere someplace anyhow am an and any anybody
    anyone anything are as ask asking hiya hullo howdy
    at be been being but by can could did do does doing done for from get getting go going
    got guys had has have having he hello her here hey hi him his how i i'd i'll i'm if in
    into is it it's its just know let like likely look looking maybe me mean might mine my
    need no not now of oh ok okay on one or our ours please pretty quick quickly really
    right say she should so some someone something sorry sure tell thank thanks that that's
    the their them then there there's these they this those to too uh um umm er erm us
    very want wanted wanting was we we're well were what what's whats when where which who
    whom why will wish with wonder wondered wondering would yeah yes yet you you're your
    yours hmm hm mm sir madam ma'am excuse kind sort of lot bit question questions
    """.split()
)
WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
# Words that point back at the previous question ("how much is *that*?", "and on Sunday?").
ANAPHORA = re.compile(
    r"\b(?:that|it|this|those|these|them|their|they|there|one|ones)\b|^\W*(?:and|so|but)\b|"
    r"\b(?:what|how) about\b",
    re.IGNORECASE,
)
# Resolved to the day they mean (ai/fact_types.days_in), not searched as words.
RELATIVE_DAYS = frozenset({"today", "tonight", "tomorrow"})


_DERIVATIONAL = (
    "ation",
    "ition",
    "ment",
    "ance",
    "ence",
    "ness",
    "ship",
    "able",
    "ible",
    "ful",
    "ion",
    "ity",
    "ive",
    "al",
    "er",
    "or",
    "ist",
    "y",
)


def root(stem: str) -> str:
    """``stem`` without one derivational suffix ("payment" -> "pay", "locat" stays): a second,
    coarser match between forms Snowball keeps apart. Never shorter than 3 letters."""
    for suffix in _DERIVATIONAL:
        if stem.endswith(suffix) and len(stem) - len(suffix) >= 3:
            return stem[: -len(suffix)]
    return stem


def rarity(word: str) -> float:
    """How much ``word`` says about what is asked, from its frequency in English at large
    (``wordfreq``'s Zipf scale): "normal" ~2, "emergency" ~5, "braces" 10 (the cap). A word the
    facts never use weighs by the same scale, so a rare one the caller asks about (and
    the facts lack) sinks the coverage, while a common modifier barely moves it."""
    return float(min(10.0, max(1.0, 10 ** ((6.0 - zipf_frequency(word, "en")) / 2))))

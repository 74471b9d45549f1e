"""Scoring one turn of an evaluation call: what the caller heard, against what it had to hear.

Pure functions, no I/O: text in, verdicts out.

Theory of operation
-------------------
The transcript of a reply (Whisper's words) and the set's facts ("$95", "8 am",
"Thursday", "42 Mill Road") are first brought to one canonical form by
``normalise``: lower case, number words as digits ("ninety five dollars" ->
"$95", "nine thirty" -> "9:30", "a hundred and twenty" -> "120", "five five
five oh one four two" -> "5550142"), "a.m."/"A.M." -> "am", "9.30" -> "9:30",
"8 o'clock" and "8:00" -> "8", "$95.00" -> "$95". ``extract_facts`` then pulls
the *fact tokens* out of canonical text: prices, times, other numbers (phone
and street numbers as digit strings) and weekday names.

A token that lacks a qualifier matches one that has it (``compatible``): a
heard "8" matches an expected "8 am" (callers hear "we open at eight" as the
right answer), "5:30" matches "5:30 pm" and "95" matches "$95". A token that
carries a *different* qualifier does not: "8 pm" is not "8 am". So a reply is
only wrong where it says something a caller would take as a different fact.
Fact tokens the caller said in the question ("on a Tuesday") may be echoed
without being wrong; what the reply had to say still has to be heard.
Names (streets, towns, people) are matched when expected, but a wrong name is
not detected: only numbers, prices, times and weekdays are extracted.

Each turn kind has one judge in ``JUDGES``; any kind is SILENT when nothing was heard.

- fact: WRONG if a heard fact token is outside expect + allow (+ the question's),
  listing them; else RIGHT if every expected item was heard; else MISSED (an honest
  "I don't know" to an answerable question is MISSED, and noted).
- unknown: YES_TO_UNKNOWN if the reply affirms ("yes", "we do", "sure", "of course";
  not "not sure" or "we do not"), even next to a don't-know: the strict reading, as a
  caller who hears "sure" stops listening; WRONG if it states facts; RIGHT for an
  honest don't-know; else MISSED.
- smalltalk: RIGHT unless it states facts (WRONG).
- goodbye: RIGHT if the bot spoke and then hung up (its BYE), else MISSED.
- person (a request to speak to a person): RIGHT if the caller heard that they are
  being put through ("put you through", "transferring you", "connect you"), else
  MISSED. Any *other* kind whose reply says so is WRONG ("put through on an ordinary
  question"): a false transfer takes the caller away from the answer.
- message (a step of leaving a message: the request, the name, the number, the "yes"):
  RIGHT when the bot answered it (facts are not checked: a read-back number is not one).
- stored (the message's last turn): RIGHT if, after the call, the agent's store holds a
  complete message whose callback number is the digits in ``expect``; else MISSED,
  noting what was stored.

A new kind (transfer honoured, message stored) is one more function there, and
``Heard`` gains whatever the call observed that the new judge needs.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

# -- verdicts ----------------------------------------------------------------------------

RIGHT = "RIGHT"
WRONG = "WRONG"  # a fact token outside expect + allow: a wrong number, day or price
YES_TO_UNKNOWN = "YES_TO_UNKNOWN"  # affirmed what the facts do not say: the worst
MISSED = "MISSED"  # no wrong fact, but not the right one either (or no honest don't-know)
SILENT = "SILENT"  # the caller heard nothing at all after the question
VERDICTS = (RIGHT, WRONG, YES_TO_UNKNOWN, MISSED, SILENT)
FALSE_TRANSFER = "put through on an ordinary question"  # the note of that WRONG


@dataclass(frozen=True)
class TurnSpec:
    """One ``[[call.turn]]`` of a question set."""

    say: str
    kind: str
    expect: tuple[str, ...] = ()
    allow: tuple[str, ...] = ()


@dataclass(frozen=True)
class Heard:
    """What the caller observed after one question. Judges of new kinds add fields here."""

    text: str  # Whisper's transcript of the reply ("" when nothing was heard)
    bot_hung_up: bool = False  # the bot sent BYE after this question (and after speaking)
    # Callback numbers of the complete messages the store held after the call.
    stored_numbers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Verdict:
    verdict: str
    offending: tuple[str, ...] = ()  # fact tokens heard that the set does not allow
    missing: tuple[str, ...] = ()  # expected facts not heard
    note: str = ""


# -- normalisation -------------------------------------------------------------------------

_UNITS = {w: v for v, w in enumerate("zero one two three four five six seven eight nine".split())}
_UNITS["oh"] = 0  # "five five five oh one", "nine oh five"
_TEENS = {
    w: 10 + v
    for v, w in enumerate(
        "ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen".split()
    )
}
_TENS = {
    w: 20 + 10 * v
    for v, w in enumerate("twenty thirty forty fifty sixty seventy eighty ninety".split())
}
_TENS["fourty"] = 40  # Whisper's spelling, now and then
_SCALES = {"hundred": 100, "thousand": 1000}
_NUMBER_WORDS = (set(_UNITS) - {"oh"}) | set(_TEENS) | set(_TENS) | set(_SCALES)
_HOURS = {w: v for w, v in {**_UNITS, **_TEENS}.items() if 1 <= v <= 12 and w != "oh"}
_CURRENCY_WORDS = {"dollar", "dollars", "buck", "bucks"}
# After a lone "one" these make it a number; otherwise "one" is a pronoun ("one moment").
_ONE_AS_NUMBER = {"am", "pm", "o'clock", "oclock", "hundred", "thousand", *_CURRENCY_WORDS}

DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DAY_ALT = "|".join(DAYS)


def _digit_run(words: list[str], i: int) -> int:
    """How many single-digit words ("five", "oh") follow from ``i``; "oh" only after one."""
    k = i
    while k < len(words) and words[k] in _UNITS and (words[k] != "oh" or k > i):
        k += 1
    return k - i


def _minutes_at(words: list[str], i: int) -> tuple[int, int] | None:
    """Minutes spoken from ``i`` ("thirty", "forty five", "fifteen", "oh five") and the
    index after them, or None."""
    w = words[i] if i < len(words) else ""
    if w in _TEENS:
        return _TEENS[w], i + 1
    if w in _TENS and _TENS[w] <= 50:
        nxt = words[i + 1] if i + 1 < len(words) else ""
        if nxt in _UNITS and 1 <= _UNITS[nxt] <= 9 and nxt != "oh":
            return _TENS[w] + _UNITS[nxt], i + 2
        return _TENS[w], i + 1
    if w == "oh" and i + 1 < len(words) and 1 <= _UNITS.get(words[i + 1], 0) <= 9:
        return _UNITS[words[i + 1]], i + 2
    return None


def _time_at(words: list[str], i: int) -> tuple[str, int] | None:
    """A spoken clock time ("nine thirty", "eleven oh five") at ``i``, unless a currency word
    or a scale follows (then it is an amount)."""
    if words[i] not in _HOURS:
        return None
    minutes = _minutes_at(words, i + 1)
    if minutes is None:
        return None
    value, end = minutes
    nxt = words[end] if end < len(words) else ""
    if nxt in _CURRENCY_WORDS or nxt in _SCALES:
        return None
    return f"{_HOURS[words[i]]}:{value:02d}", end


def _cardinal_at(words: list[str], i: int) -> tuple[int, int]:
    """One cardinal number from ``i`` ("a hundred and twenty", "forty two") and the index
    after it. A word that cannot continue the number ("nine" after "five") ends it."""
    total, group, last = 0, 0, ""
    k = i
    while k < len(words):
        w = words[k]
        if w == "a" and k == i and k + 1 < len(words) and words[k + 1] in _SCALES:
            group, last = 1, "units"
        elif w == "and" and last == "scale" and k + 1 < len(words):
            nxt = words[k + 1]
            if nxt not in _UNITS and nxt not in _TEENS and nxt not in _TENS:
                break
        elif w in _UNITS and w != "oh":
            if last and last not in ("tens", "scale"):
                break
            group += _UNITS[w]
            last = "units"
        elif w in _TEENS:
            if last and last != "scale":
                break
            group += _TEENS[w]
            last = "teens"
        elif w in _TENS:
            if last and last != "scale":
                break
            group += _TENS[w]
            last = "tens"
        elif w == "hundred":
            if last not in ("", "units", "teens"):
                break
            group = (group or 1) * 100
            last = "scale"
        elif w == "thousand":
            total += (group or 1) * 1000
            group, last = 0, "scale"
        else:
            break
        k += 1
    return total + group, k


def _starts_number(words: list[str], i: int) -> bool:
    w = words[i]
    if w == "a":
        return i + 1 < len(words) and words[i + 1] in _SCALES
    return w in _NUMBER_WORDS


def numbers_to_digits(words: list[str]) -> list[str]:
    """Number words as digits: runs of single digits as one digit string (phone numbers),
    clock times as "H:MM", anything else as a cardinal. A lone "one" stays a word unless a
    unit follows ("one pm", "one dollar")."""
    out: list[str] = []
    i = 0
    while i < len(words):
        if not _starts_number(words, i):
            out.append(words[i])
            i += 1
            continue
        run = _digit_run(words, i)
        h_oh_d = run == 3 and words[i + 1] == "oh"  # "nine oh five" is a time, not "905"
        if run >= 4 or (run == 3 and not h_oh_d):
            out.append("".join(str(_UNITS[w]) for w in words[i : i + run]))
            i += run
            continue
        clock = _time_at(words, i)
        if clock is not None:
            out.append(clock[0])
            i = clock[1]
            continue
        value, end = _cardinal_at(words, i)
        nxt = words[end] if end < len(words) else ""
        if words[i:end] == ["one"] and nxt not in _ONE_AS_NUMBER:
            out.append("one")
        else:
            out.append(str(value))
        i = end
    return out


_DOTTED_MERIDIEM = re.compile(r"\b([ap])\.\s?m\b\.?")
# Phone numbers as Whisper writes them: "(555) 123-4567", "555-123-4567", "555-0142".
_PHONE = re.compile(r"\(?\b\d{3}\)?[-. ]?\d{3}[-. ]\d{4}\b|\b\d{3}[-.]\d{4}\b")
_SINGLE_DIGITS = re.compile(r"\b\d(?:[ ,-]+\d\b){3,}")  # "5 5 5 0 1 4 2"
_KEEP = re.compile(r"[^a-z0-9$£€:.'\s-]")


def _digits_only(m: re.Match[str]) -> str:
    return re.sub(r"\D", "", m.group(0))


def _clock(m: re.Match[str]) -> str:
    hour, minute = int(m.group(1)), int(m.group(2))
    if hour > 23 or minute > 59:
        return m.group(0)
    return f"{hour}:{minute:02d}"


def _24h(m: re.Match[str]) -> str:
    return f"{int(m.group(1)) - 12}:{m.group(2)} pm"


def _quarter_to(m: re.Match[str]) -> str:
    hour = int(m.group(1))
    return f"{hour - 1 if hour > 1 else 12}:45"


def _cents(m: re.Match[str]) -> str:
    return f"{m.group(1)}${m.group(2)}.{int(m.group(3)):02d}"


_RULES: tuple[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]], ...] = (
    (re.compile(r"(\d)(am|pm)\b"), r"\1 \2"),
    (re.compile(r"(\d) ([ap]) m\b"), r"\1 \2m"),
    (re.compile(r"(\d) ?o ?'? ?clock\b"), r"\1"),
    (re.compile(r"\bhalf past (\d{1,2})\b"), r"\1:30"),
    (re.compile(r"\bquarter past (\d{1,2})\b"), r"\1:15"),
    (re.compile(r"\bquarter to (\d{1,2})\b"), _quarter_to),
    (re.compile(r"([$£€]) (\d)"), r"\1\2"),
    (re.compile(r"(^|[^$£€\d])(\d+) dollars? and (\d{1,2}) cents?\b"), _cents),
    (re.compile(r"\$(\d+(?:\.\d{2})?) (?:dollars?|bucks?)\b"), r"$\1"),
    (re.compile(r"(?<![$£€\d.])(\d+(?:\.\d{2})?) (?:dollars?|bucks?)\b"), r"$\1"),
    (re.compile(r"£(\d+(?:\.\d{2})?) pounds?\b"), r"£\1"),
    (re.compile(r"(?<![$£€\d.])(\d+(?:\.\d{2})?) pounds?\b"), r"£\1"),
    (re.compile(r"([$£€]\d+)\.00\b"), r"\1"),
    (re.compile(r"(?<![\d$£€.:])(\d{1,2})[.:](\d{2})(?![\d.:])"), _clock),
    (re.compile(r"\b(?:12 )?noon\b|\bmidday\b"), "12 pm"),
    (re.compile(r"\bmidnight\b"), "12 am"),
    (re.compile(r"\b(1[3-9]|2[0-3]):(\d{2})\b(?! ?[ap]m\b)"), _24h),
    (re.compile(r"\b(\d{1,2}):00\b"), r"\1"),
    (re.compile(r"\b(" + _DAY_ALT + r")s\b"), r"\1"),
    (re.compile(r"\brd\b"), "road"),
    (re.compile(r"\bave\b"), "avenue"),
    (re.compile(r"\bst\b"), "street"),
    (re.compile(r"\b(\d{3}) (\d{4})\b"), r"\1\2"),
)


# Contractions spelled out (so "don't", "dont" and "do not" read alike), and the few
# British spellings of the sets' words that Whisper (tiny.en, American) writes otherwise.
_WORD_FORMS = {
    "can't": "can not",
    "cant": "can not",
    "cannot": "can not",
    "won't": "will not",
    "wont": "will not",
    "cheque": "check",
    "cheques": "checks",
    "tyre": "tire",
    "tyres": "tires",
    "centre": "center",
    "colour": "color",
    "metre": "meter",
    "metres": "meters",
}
_BARE_NEGATIONS = {"dont", "doesnt", "didnt", "isnt", "arent", "wasnt", "couldnt", "wouldnt"}


def _expand(word: str) -> str:
    if word.endswith("n't"):
        return word[:-3] + " not"
    if word in _BARE_NEGATIONS:
        return word[:-2] + " not"
    return word


def normalise(text: str) -> str:
    """``text`` in the canonical form facts are compared in (see the module docstring)."""
    s = text.lower()
    s = s.replace("\u2019", "'").replace("\u2018", "'").replace("\u2013", "-")
    s = s.replace("\u2014", " ").replace("\u00a0", " ")
    s = _DOTTED_MERIDIEM.sub(lambda m: f" {m.group(1)}m ", s)
    s = re.sub(r"(?<=\d),(?=\d{3}\b)", "", s)  # 1,200 -> 1200
    s = _PHONE.sub(_digits_only, s)
    s = _KEEP.sub(" ", s)
    s = _SINGLE_DIGITS.sub(_digits_only, s)
    s = re.sub(r"(?<!\d)[.:]|[.:](?!\d)", " ", s)  # sentence punctuation, not 9.30 / 9:30
    s = re.sub(r"-", " ", s)
    s = re.sub(r"(?<![a-z])'|'(?![a-z])", " ", s)
    words = [w for word in s.split() for w in _WORD_FORMS.get(word, _expand(word)).split()]
    s = " ".join(numbers_to_digits(words))
    for pattern, replacement in _RULES:
        s = pattern.sub(replacement, s)
    return " ".join(s.split())


# -- fact tokens ---------------------------------------------------------------------------

_FACT = re.compile(
    r"(?P<price>[$£€]\d+(?:\.\d{2})?)"
    r"|(?P<time>\b\d{1,2}(?::\d{2})? [ap]m\b|\b\d{1,2}:\d{2}\b)"
    r"|(?P<number>\b\d+(?:\.\d+)?\b)"
    r"|(?P<day>\b(?:" + _DAY_ALT + r")\b)"
)


@dataclass(frozen=True)
class Fact:
    """A fact token in canonical form: kind is price, time, number or day."""

    kind: str
    text: str

    def clock(self) -> tuple[int, int, str]:
        """(hour, minute, "am"/"pm"/"") of a time token."""
        m = re.fullmatch(r"(\d{1,2})(?::(\d{2}))?(?: ([ap]m))?", self.text)
        assert m is not None, self.text
        return int(m.group(1)), int(m.group(2) or 0), m.group(3) or ""


def extract_facts(canonical: str) -> list[Fact]:
    """The fact tokens of ``normalise``d text, in order."""
    return [Fact(m.lastgroup or "", m.group(0)) for m in _FACT.finditer(canonical)]


def compatible(a: Fact, b: Fact) -> bool:
    """Whether ``a`` and ``b`` name the same fact, one perhaps less precisely: a bare "8"
    and "8 am", "5:30" and "5:30 pm", "95" and "$95". Symmetric."""
    if a == b:
        return True
    if a.kind == b.kind == "time":
        (ha, ma, pa), (hb, mb, pb) = a.clock(), b.clock()
        return ha == hb and ma == mb and (not pa or not pb or pa == pb)
    for x, y in ((a, b), (b, a)):
        if x.kind == "number" and y.kind == "time":
            hour, minute, _ = y.clock()
            return minute == 0 and x.text == str(hour)
        if x.kind == "number" and y.kind == "price":
            return x.text == y.text[1:]
    return False


_STOPWORDS = frozenset({"the", "a", "an", "at", "on", "in", "of", "and", "to", "is", "are"})


def _contains(haystack: str, needle: str) -> bool:
    return re.search(rf"(?<![\w$£€:]){re.escape(needle)}(?![\w:])", haystack) is not None


def _stem(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def expected_heard(item: str, heard: str, heard_facts: Sequence[Fact]) -> bool:
    """Whether the expected fact ``item`` (as the set spells it) is in ``heard`` (canonical):
    as a phrase, or as compatible fact tokens plus every other word of the item (but
    "the", "a", ...; plurals alike) anywhere in the reply: "behind the building" is heard
    in "it's behind our building", "2 hour" in "a 2-hour window"."""
    want = normalise(item)
    if not want or _contains(heard, want):
        return True
    tokens = extract_facts(want)
    if not all(any(compatible(t, h) for h in heard_facts) for t in tokens):
        return False
    rest = _FACT.sub(" ", want).split()
    words = {_stem(w) for w in heard.split()}
    return all(_stem(w) in words for w in rest if w not in _STOPWORDS)


def _allowed(items: Sequence[str]) -> list[Fact]:
    return [f for item in items for f in extract_facts(normalise(item))]


def offending_facts(heard_facts: Sequence[Fact], allowed: Sequence[str]) -> tuple[str, ...]:
    """Heard fact tokens that match no fact token of ``allowed`` (expect + allow)."""
    universe = _allowed(allowed)
    bad = [f.text for f in heard_facts if not any(compatible(f, u) for u in universe)]
    return tuple(dict.fromkeys(bad))


# -- judges ----------------------------------------------------------------------------------

# An honest "I don't know" (contractions are spelled out by ``normalise``).
DONT_KNOW = re.compile(
    r"\b(?:do|does|did) not (?:know|have (?:that|this|the|any|information|details|specific|"
    r"an? answer))"
    r"|\bnot (?:sure|certain)\b|\bno (?:information|details|idea)\b"
    r"|\b(?:can not|could not|unable to) (?:answer|say|tell|help with that)"
    r"|\bnot something i (?:know|can answer)"
)
# Negated or idiomatic uses of the affirmations, masked before looking for them.
_NOT_AFFIRMING = re.compile(r"\b(?:not|make|be) sure\b|\bwe do not\b")
_AFFIRMING = re.compile(r"\b(?:yes|yeah|yep|yup|we do|sure|of course|absolutely)\b")


def honest_dont_know(canonical: str) -> bool:
    return DONT_KNOW.search(canonical) is not None


def affirms(canonical: str) -> bool:
    """Whether the reply says yes ("yes", "we do", "sure", "of course"), not counting
    "not sure", "make sure" or "we do not"."""
    return _AFFIRMING.search(_NOT_AFFIRMING.sub(" ", canonical)) is not None


# How any receptionist says a transfer is under way; not the product's own line.
_PUTS_THROUGH = re.compile(
    r"\b(?:put(?:ting)? you (?:through|on)|transfer(?:ring)? you|connect(?:ing)? you|"
    r"pass(?:ing)? you (?:on|over|to))\b"
)


def puts_through(canonical: str) -> bool:
    return _PUTS_THROUGH.search(canonical) is not None


def judge_person(turn: TurnSpec, heard: Heard) -> Verdict:
    if puts_through(normalise(heard.text)):
        return Verdict(RIGHT)
    return Verdict(MISSED, note="not put through")


def judge_fact(turn: TurnSpec, heard: Heard) -> Verdict:
    text = normalise(heard.text)
    facts = extract_facts(text)
    offending = offending_facts(facts, (*turn.expect, *turn.allow, turn.say))
    missing = tuple(item for item in turn.expect if not expected_heard(item, text, facts))
    if offending:
        return Verdict(WRONG, offending, missing)
    if missing:
        note = "said it does not know" if honest_dont_know(text) else ""
        return Verdict(MISSED, (), missing, note)
    return Verdict(RIGHT)


def judge_unknown(turn: TurnSpec, heard: Heard) -> Verdict:
    text = normalise(heard.text)
    offending = offending_facts(extract_facts(text), (*turn.allow, turn.say))
    if affirms(text):
        return Verdict(YES_TO_UNKNOWN, offending, note="affirmed what the facts do not say")
    if offending:
        return Verdict(WRONG, offending, note="stated facts it does not have")
    if honest_dont_know(text):
        return Verdict(RIGHT)
    return Verdict(MISSED, note="no honest don't-know")


def judge_smalltalk(turn: TurnSpec, heard: Heard) -> Verdict:
    offending = offending_facts(extract_facts(normalise(heard.text)), (*turn.allow, turn.say))
    if offending:
        return Verdict(WRONG, offending, note="facts in small talk")
    return Verdict(RIGHT)


def judge_goodbye(turn: TurnSpec, heard: Heard) -> Verdict:
    if heard.bot_hung_up:
        return Verdict(RIGHT)
    return Verdict(MISSED, note="said something but did not hang up")


def judge_message(turn: TurnSpec, heard: Heard) -> Verdict:
    return Verdict(RIGHT)


def judge_stored(turn: TurnSpec, heard: Heard) -> Verdict:
    if turn.expect[0] in heard.stored_numbers:
        return Verdict(RIGHT)
    return Verdict(MISSED, missing=turn.expect, note=f"stored: {list(heard.stored_numbers)}")


JUDGES: dict[str, Callable[[TurnSpec, Heard], Verdict]] = {
    "fact": judge_fact,
    "unknown": judge_unknown,
    "smalltalk": judge_smalltalk,
    "goodbye": judge_goodbye,
    "person": judge_person,
    "message": judge_message,
    "stored": judge_stored,
}


def judge(turn: TurnSpec, heard: Heard) -> Verdict:
    """The verdict on one turn: SILENT when nothing was heard, else its kind's judge."""
    if not heard.text.strip():
        return Verdict(SILENT, note="nothing heard")
    if turn.kind != "person" and puts_through(normalise(heard.text)):
        return Verdict(WRONG, note=FALSE_TRANSFER)
    return JUDGES[turn.kind](turn, heard)


# -- summary -----------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear-interpolated percentile ``q`` (0-100), None for no values."""
    ordered = sorted(values)
    if not ordered:
        return None
    k = (len(ordered) - 1) * q / 100.0
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


@dataclass(frozen=True)
class Summary:
    turns: int
    counts: dict[str, int] = field(default_factory=dict)
    wrong_facts: int = 0  # offending fact tokens over all turns
    latency_p50_ms: float | None = None
    latency_p95_ms: float | None = None
    latency_n: int = 0

    @property
    def right_pct(self) -> float:
        return 100.0 * self.counts.get(RIGHT, 0) / self.turns if self.turns else 0.0


def summarise(verdicts: Sequence[Verdict], latencies_ms: Sequence[float | None]) -> Summary:
    """Counts per verdict, offending tokens and latency percentiles of a set's turns."""
    counts = {v: sum(1 for x in verdicts if x.verdict == v) for v in VERDICTS}
    measured = [x for x in latencies_ms if x is not None]
    p50, p95 = percentile(measured, 50), percentile(measured, 95)
    return Summary(
        turns=len(verdicts),
        counts=counts,
        wrong_facts=sum(len(v.offending) for v in verdicts),
        latency_p50_ms=None if p50 is None else round(p50, 1),
        latency_p95_ms=None if p95 is None else round(p95, 1),
        latency_n=len(measured),
    )

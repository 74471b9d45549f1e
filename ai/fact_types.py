"""What kind of fact a question asks for, and which kinds a sentence holds: times, prices,
places, phone numbers. Generic English, written for no business in particular.

Classic question answering (TREC-style "answer typing"): "what time...", "how
much...", "where..." each ask for a kind of fact that a sentence either holds or
not, whatever the business. A caller's "are you open on Saturday?" shares no
word with the owner's "Saturday: 9 am to 1 pm.", but it asks for a time and that
sentence holds one. The cue words of a kind are removed from the question's
search terms (they are about the *kind* of answer, not its subject), and each
kind has a few *concept* stems that a section heading may use instead ("Opening
hours", "Prices", "Address").

Days are understood as days: a range "Monday to Thursday" (or "Mon-Thu",
"weekdays", "every day") holds every day inside it, and a caller's "today" or
"tomorrow" is the day it is.
"""

from __future__ import annotations

import datetime as dt
import re

DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DAY_ALIASES = {
    "mon": "monday",
    "tue": "tuesday",
    "tues": "tuesday",
    "wed": "wednesday",
    "weds": "wednesday",
    "thu": "thursday",
    "thur": "thursday",
    "thurs": "thursday",
    "fri": "friday",
    "sat": "saturday",
    "sun": "sunday",
}
_DAY_WORD = "(?:" + "|".join(sorted([*DAYS, *_DAY_ALIASES], key=len, reverse=True)) + ")"
_DAY_RANGE = re.compile(
    rf"\b({_DAY_WORD})s?\.?\s*(?:to|through|thru|until|till|-|–|—)\s*({_DAY_WORD})s?\b",
    re.IGNORECASE,
)
_WEEKDAYS = re.compile(r"\b(?:week\s?days?|monday to friday)\b", re.IGNORECASE)
_WEEKEND = re.compile(r"\bweek\s?ends?\b", re.IGNORECASE)
_EVERY_DAY = re.compile(r"\b(?:every day|daily|seven days a week|7 days a week)\b", re.IGNORECASE)


def day_of(word: str) -> str | None:
    w = word.lower().rstrip(".")
    w = w[:-1] if w.endswith("s") and w[:-1] in DAYS else w
    return w if w in DAYS else _DAY_ALIASES.get(w)


def days_in(text: str, today: dt.date | None = None) -> set[str]:
    """Every weekday ``text`` names or spans ("Mon to Thu" holds Tuesday and Wednesday)."""
    found: set[str] = set()
    for m in _DAY_RANGE.finditer(text):
        a, b = DAYS.index(day_of(m.group(1)) or ""), DAYS.index(day_of(m.group(2)) or "")
        i = a
        while True:
            found.add(DAYS[i])
            if i == b:
                break
            i = (i + 1) % 7
    if _WEEKDAYS.search(text):
        found.update(DAYS[:5])
    if _WEEKEND.search(text):
        found.update(DAYS[5:])
    if _EVERY_DAY.search(text):
        found.update(DAYS)
    for word in re.findall(r"[A-Za-z]+\.?", text):
        day = day_of(word)
        if day and (len(word.rstrip(".")) > 3 or word[0].isupper()):
            found.add(day)
    if today is not None:
        low = text.lower()
        if re.search(r"\btoday\b|\btonight\b|\bthis (?:morning|afternoon|evening)\b", low):
            found.add(DAYS[today.weekday()])
        if re.search(r"\btomorrow\b", low):
            found.add(DAYS[(today.weekday() + 1) % 7])
    return found


# kind -> (cue phrases in a question, concept stems a heading may use, entity in a sentence)
KINDS: dict[str, tuple[re.Pattern[str], tuple[str, ...], re.Pattern[str]]] = {
    "time": (
        re.compile(
            r"\b(?:what time|when|how late|how early|until what|till what|hours?|"
            r"open(?:ing)?|close[sd]?|closing)\b",
            re.IGNORECASE,
        ),
        ("hour", "open", "close", "time"),
        re.compile(
            r"\b\d{1,2}(?::\d{2})?\s*(?:am|pm|a\.m\.|p\.m\.)|\bnoon\b|\bmidnight\b|"
            r"\bclosed\b|\b24 hours\b|\b\d{1,2}:\d{2}\b",
            re.IGNORECASE,
        ),
    ),
    "price": (
        re.compile(
            # "how much is...", "how much?" ask a price; "how much notice" asks about notice.
            r"\b(?:how much(?=\s+(?:is|are|was|were|does|do|did|would|will|could|can|should|"
            r"for|to|it|that|this|they|you|i|we|money|extra|more|less)\b|\s*[?.!,]|\s*$)|"
            r"costs?|price[sd]?|pricing|charges?|fees?|rates?|expensive|cheap|afford)\b",
            re.IGNORECASE,
        ),
        ("price", "cost", "fee", "charg", "rate"),
        re.compile(
            r"[$€£]\s?\d|\b\d+(?:\.\d\d)?\s*(?:dollars?|euros?|pounds?|cents?)\b|\bfree\b",
            re.IGNORECASE,
        ),
    ),
    "place": (
        re.compile(
            r"\b(?:where|address|located|location|directions?|find you|get there|"
            r"get to you)\b",
            re.IGNORECASE,
        ),
        ("address", "locat", "direct"),
        re.compile(
            r"\b\d+[A-Za-z]?\s+(?:[A-Z][a-z]+\s+){1,3}(?:Street|St|Road|Rd|Avenue|Ave|Lane|Ln|"
            r"Drive|Dr|Boulevard|Blvd|Way|Place|Pl|Court|Ct|Square|Sq|Parkway|Highway|Hwy|"
            r"Terrace|Crescent|Close|Row|Quay|Wharf)\b|"
            r"\b(?:behind|next to|opposite|beside|across from|near|above|below|inside|"
            r"outside|around the corner|on the (?:first|second|ground|top) floor)\b",
            re.IGNORECASE,
        ),
    ),
    "duration": (
        re.compile(r"\b(?:how long|how soon|how fast|how quickly|how much notice)\b", re.I),
        ("long", "time", "notic"),
        re.compile(
            r"\b(?:\d+|an?|one|two|three|four|five|ten|fifteen|twenty|thirty|few)\s*"
            r"(?:minutes?|mins?|hours?|hrs?|days?|weeks?|months?|years?)\b|"
            r"\bsame day\b|\bnext (?:working )?day\b|\bwithin\b",
            re.IGNORECASE,
        ),
    ),
    "phone": (
        re.compile(
            r"\b(?:phone|telephone|number to call|what number|which number|call you|"
            r"ring you|reach you|contact you|your number|text you)\b",
            re.IGNORECASE,
        ),
        ("phone", "call", "contact", "text"),
        re.compile(r"\b\d{3}[-.\s]\d{3,4}(?:[-.\s]\d{4})?\b"),
    ),
}


def asked_kinds(question: str) -> tuple[set[str], str, dict[str, list[str]]]:
    """The kinds of fact ``question`` asks for, the question without their cue words, and
    the cue words of each kind (a fact that uses one, "arrive 15 minutes early" for "how
    early", states that kind too)."""
    kinds: set[str] = set()
    cues: dict[str, list[str]] = {}
    rest = question
    for kind, (cue, _, _) in KINDS.items():
        found = cue.findall(rest)
        if found:
            kinds.add(kind)
            cues[kind] = found
            rest = cue.sub(" ", rest)
    return kinds, rest, cues


def held_kinds(sentence: str) -> set[str]:
    """The kinds of fact ``sentence`` states."""
    return {kind for kind, (_, _, entity) in KINDS.items() if entity.search(sentence)}


def concept_stems(kind: str) -> tuple[str, ...]:
    return KINDS[kind][1]

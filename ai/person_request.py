"""Whether a caller asks to be put through to a person: "can I speak to someone?", "a
human, please", "operator", "put me through to reception".

Callers of any business ask for a person in the same few ways, so this is generic
English, with no business's words in it. Two shapes count:

- a *request to speak with* someone ("can I / I'd like to / let me / I need to ...
  speak, talk (to|with) X", "put me through", "transfer me", "connect me with",
  "is there someone I can talk to"), whatever else the turn says ("can I talk to
  somebody about my bill"): X may be anyone but the bot ("talk to you");
- a *short turn naming a person* ("operator", "a real person please", "can I get a
  human?", "reception"): at most a few words besides politeness, so that "do you
  have a receptionist?" or "who is your manager?" stay questions about the business.

Reported speech and identity questions are not requests: "I talked to someone
yesterday", "am I talking to a person?" (ai/dialogue_acts.py answers that one).
Pure functions of the text.
"""

from __future__ import annotations

import re

_PEOPLE = (
    r"(?:(?:a |an |the |some |your |one of (?:the|your) )?(?:real |live |actual |human |"
    r"proper )?(?:person|people|human(?: being)?s?|some ?one|some ?body|any ?one|any ?body|"
    r"operator|receptionist|reception|representative|rep|agent|staff(?: member)?|"
    r"member of (?:staff|the team)|manager|supervisor|front desk|front office|"
    r"customer (?:service|support|care)|advisor|adviser|colleague)s?)"
)
_REQUEST = (
    r"(?:can|could|may|might|shall) (?:i|we)(?: please)?|i'?d (?:like|love|prefer|rather)(?: to)?|"
    r"i would (?:like|love|prefer|rather)(?: to)?|i (?:want|need|wanna|have)(?: to)?|"
    r"i'?m (?:trying|hoping|calling|looking|wanting) to|let me|please|is it possible to|"
    r"i'?d rather|rather|just"
)
_SPEAK = r"(?:speak|talk|chat)(?:ing)?"
_ASK_TO_SPEAK = re.compile(
    rf"\b(?:{_REQUEST})\s+(?:to\s+)?{_SPEAK}\s+(?:to|with)\s+(?!you\b|yourself\b)\w",
    re.IGNORECASE,
)
_HAND_ME_OVER = re.compile(
    rf"^\W*(?:please\s+)?{_SPEAK}\s+(?:to|with)\s+{_PEOPLE}\b|"
    r"\b(?:put|transfer|connect|patch|pass|send|forward)\s+me\s+(?:through|over|on|across|"
    r"to|with)\b|\b(?:get|find|fetch)\s+me\s+" + _PEOPLE + r"\b|"
    r"\b(?:some ?one|some ?body|any ?one|any ?body|a (?:real |live |actual )?(?:person|human))"
    r"(?:\s+(?:else|there|here|in|at|from)(?:\s+the)?(?:\s+\w+)?)??"
    r"\s+(?:i|we)\s+(?:can|could|may)\s+" + _SPEAK + r"\b",
    re.IGNORECASE,
)
_FILLER = (
    r"(?:(?:hi|hello|hey|yes|yeah|yep|ok|okay|um+|uh+|er+|oh|well|so|no|just|please|thanks?|"
    r"thank you|sorry|i said|can i (?:get|have)|could i (?:get|have)|may i have|i (?:want|need)|"
    r"i'?d like|give me|get me|let me have)\b[\s,.!?]*)*"
)
_SHORT_ASK = re.compile(
    rf"^\W*{_FILLER}{_PEOPLE}\W*(?:{_FILLER})\W*$",
    re.IGNORECASE,
)
# "Do I need to talk to my insurer first?": a question about what to do, not a request.
_PROCEDURE = re.compile(
    rf"\b(?:do|does|did|should|would|will|must)\s+(?:i|we)\s+(?:need|have|want)\s+to\s+{_SPEAK}",
    re.IGNORECASE,
)
_WORD = re.compile(r"[a-z']+", re.IGNORECASE)
_SHORT_WORDS = 7


def asks_for_person(text: str) -> bool:
    """True when ``text`` asks to be put through to a person."""
    text = text.strip()
    if not text:
        return False
    if _HAND_ME_OVER.search(text):
        return True
    if _ASK_TO_SPEAK.search(text) and not _PROCEDURE.search(text):
        return True
    return len(_WORD.findall(text)) <= _SHORT_WORDS and bool(_SHORT_ASK.match(text))

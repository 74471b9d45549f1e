"""Taking a message, the way a receptionist does: name, callback number (read back digit
by digit and confirmed), then the message itself.

Theory of operation
-------------------
``MessageTaking`` is an immutable state: ``heard(text)`` returns the next state and
the line to say, and changes nothing. The responder (ai/responder.py) keeps the
state of its call and replaces it only once the caller's turn is known to be over,
so a speculative reply that is thrown away (the caller went on talking) leaves the
dialogue where it was. Steps:

1. ``NAME``: what the caller says, less "my name is" and the like, is the name. A
   turn that also holds a number ("John, on 555 0123") fills both.
2. ``NUMBER``: the digits the caller says or types (ai/spoken_number.py; typed keys
   arrive as a turn of digits); "this number" takes the caller's own number when the
   call has one. Too few digits: asked again.
3. ``CONFIRM``: the number read back in groups; yes goes on, no (or a corrected
   number) asks again.
4. ``TEXT``: the message, whatever it says (a fragment of two words or fewer is asked
   about once: it is most often the end of the last answer, cut at a pause); the
   message is complete.

"Never mind" at any step stops; a goodbye before the message stops and ends the
call. Either way the message keeps what was said, marked incomplete, as it is after
a hang-up: the owner of the store (ai/message_keeper.py) writes every step as it
happens. Every line is generic receptionist English, the same for every business.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, replace

from ai.spoken_number import digits_in, read_back

OFFER = "Would you like to leave a message?"
START = "Of course, I can take a message. May I have your name, please?"
NAME_AGAIN = "Sorry, I didn't catch your name. Could you say it again?"
ASK_NUMBER = (
    "Thank you. What's the best number to call you back on? You can also type it on your keypad."
)
NUMBER_AGAIN = (
    "Sorry, I didn't get the whole number. Could you say it again, digit by digit, "
    "or type it on your keypad?"
)
NUMBER_AFTER_NO = "Sorry about that. What's the right number, please?"
ASK_TEXT = "Thank you. And what's your message?"
TEXT_AGAIN = "Sorry, what would you like the message to say?"
DONE = "Thank you, I've taken your message and I'll pass it on. Is there anything else?"
DONE_BYE = "Thank you, I've taken your message and I'll pass it on. Goodbye!"
CANCELLED = "No problem. Is there anything else I can help you with?"
DECLINED = "Alright. Is there anything else I can help you with?"
NO_MESSAGES = (
    "I'm sorry, I can't take a message on this line. Is there anything else I can help with?"
)

MIN_MESSAGE_WORDS = 3  # fewer is a fragment ("that's right"), asked about once
MIN_DIGITS = 5  # fewer is not a phone number anywhere (and Whisper dropped some)
MAX_TRIES = 3  # asked this often without an answer, the step is passed with what there is

_YES = re.compile(
    r"^\W*(?:yes|yeah|yep|yup|ya|yah|correct|right|exactly|sure|absolutely|definitely|perfect|"
    r"that'?s (?:right|correct|it|fine|good)|that is (?:right|correct)|it is|uh-?huh|mm-?hmm|"
    r"ok(?:ay)?|please|go ahead|i would|i'?d like (?:that|to)|that would be)\b",
    re.IGNORECASE,
)
_NO = re.compile(
    r"^\W*(?:no|nope|nah|not (?:quite|right|really|correct)|wrong|incorrect|"
    r"that'?s (?:wrong|not (?:right|correct|it))|it'?s not|it isn'?t)\b",
    re.IGNORECASE,
)
_STOP = re.compile(
    r"\b(?:never ?mind|forget (?:it|that|about it)|cancel(?: (?:it|that|the message))?|"
    r"don'?t (?:bother|worry about it)|no need)\b",
    re.IGNORECASE,
)
_BYE = re.compile(r"\b(?:good ?bye|bye(?: bye)?)\W*$", re.IGNORECASE)
_OWN_NUMBER = re.compile(
    r"\b(?:this|same|my (?:own|mobile|cell)|the (?:one|number) i'?m (?:calling|ringing) "
    r"(?:you )?(?:from|on))(?: (?:phone )?number| one)?\b|\bcalling (?:from|on)\b|\bcaller id\b",
    re.IGNORECASE,
)
_ASK = re.compile(
    r"\b(?:leave|take|send|record|give (?:him|her|them|you))\s+(?:a|my|him a|her a|them a)?\s*"
    r"(?:message|voice ?mail|note)\b|^\W*(?:a\s+)?(?:message|voice ?mail)(?:,? please)?\W*$",
    re.IGNORECASE,
)
_NAME_LEAD = re.compile(
    r"^\W*(?:(?:yes|yeah|sure|ok(?:ay)?|hi|hello|well|so|um+|uh+|er+|oh)\b\W*)*"
    r"(?:(?:my name is|my name's|the name is|the name's|name's|it's|it is|this is|i am|"
    r"i'm|you can call me|call me)\s+)?",
    re.IGNORECASE,
)
_NAME_TAIL = re.compile(r"(?:\s+(?:here|speaking|please|thanks?|thank you))+\W*$", re.IGNORECASE)


def asks_to_leave_message(text: str) -> bool:
    """ "Can I leave a message?", "could you take a message for Sam", "voicemail please"."""
    return bool(_ASK.search(text))


def says_yes(text: str) -> bool:
    return bool(_YES.match(text)) and not _NO.match(text)


def says_no(text: str) -> bool:
    return bool(_NO.match(text))


class Step(enum.Enum):
    NAME = "name"
    NUMBER = "number"
    CONFIRM = "confirm"
    TEXT = "text"
    DONE = "done"


@dataclass(frozen=True)
class Message:
    """What the caller has said for the message so far."""

    name: str = ""
    number: str = ""  # digits (a leading "+" kept), as confirmed or last heard
    text: str = ""
    complete: bool = False
    answers: tuple[str, ...] = ()  # every caller turn of the dialogue, as transcribed


@dataclass(frozen=True)
class Said:
    """The outcome of one caller turn: the next state, the line to say, and whether the
    call ends after it."""

    state: MessageTaking
    line: str
    hang_up: bool = False

    @property
    def over(self) -> bool:
        return self.state.step is Step.DONE


@dataclass(frozen=True)
class MessageTaking:
    caller: str = ""  # the caller's own number, for "call me back on this number"
    step: Step = Step.NAME
    message: Message = Message()
    tries: int = 0

    def heard(self, text: str) -> Said:
        """The caller said (or typed) ``text`` at this step."""
        text = text.strip()
        kept = replace(self.message, answers=(*self.message.answers, text))
        here = replace(self, message=kept)
        if _STOP.search(text) and self.step is not Step.TEXT:
            return Said(replace(here, step=Step.DONE), CANCELLED)
        if _BYE.search(text) and self.step is not Step.TEXT:
            return Said(replace(here, step=Step.DONE), "", hang_up=True)
        if self.step is Step.NAME:
            return here._name(text)
        if self.step is Step.NUMBER:
            return here._number(text)
        if self.step is Step.CONFIRM:
            return here._confirm(text)
        if self.step is Step.TEXT:
            if len(text.split()) < MIN_MESSAGE_WORDS and not self.tries:
                # "Yes, that's right" cut at its comma leaves "that's right" for the
                # message: a fragment is asked about, not taken as the message.
                return Said(replace(here, tries=self.tries + 1), TEXT_AGAIN)
            done = replace(kept, text=text, complete=True)
            bye = bool(_BYE.search(text))
            return Said(replace(here, step=Step.DONE, message=done), DONE_BYE if bye else DONE, bye)
        return Said(here, "")

    def _name(self, text: str) -> Said:
        digits = digits_in(text)
        said_name = text.split(",")[0] if len(digits) >= MIN_DIGITS else text
        name = _name_in(said_name)
        if not name and self.tries + 1 < MAX_TRIES:
            return Said(replace(self, tries=self.tries + 1), NAME_AGAIN)
        named = replace(self, message=replace(self.message, name=name), tries=0)
        if len(digits) >= MIN_DIGITS:
            return named._read_back(digits)
        return Said(replace(named, step=Step.NUMBER), ASK_NUMBER)

    def _number(self, text: str) -> Said:
        digits = digits_in(text)
        own = digits_in(self.caller)
        if len(digits) < MIN_DIGITS and len(own) >= MIN_DIGITS and _OWN_NUMBER.search(text):
            digits = own
        if len(digits) >= MIN_DIGITS:
            return self._read_back(digits)
        if self.tries + 1 < MAX_TRIES:
            return Said(replace(self, tries=self.tries + 1), NUMBER_AGAIN)
        # No number after all: the caller's own, if the call has one, is better than none.
        kept = replace(self.message, number=own if len(own) >= MIN_DIGITS else "")
        return Said(replace(self, step=Step.TEXT, message=kept, tries=0), ASK_TEXT)

    def _confirm(self, text: str) -> Said:
        digits = digits_in(text)
        if says_yes(text) and len(digits) < MIN_DIGITS:
            return Said(replace(self, step=Step.TEXT, tries=0), ASK_TEXT)
        if len(digits) >= MIN_DIGITS:  # "no, it's 555 0124", or the number said again
            return self._read_back(digits)
        if says_no(text):
            return Said(replace(self, step=Step.NUMBER, tries=0), NUMBER_AFTER_NO)
        if self.tries + 1 < MAX_TRIES:
            again = f"Is {read_back(self.message.number)} the right number? Please say yes or no."
            return Said(replace(self, tries=self.tries + 1), again)
        return Said(replace(self, step=Step.TEXT, tries=0), ASK_TEXT)

    def _read_back(self, digits: str) -> Said:
        heard = replace(self.message, number=digits)
        state = replace(self, step=Step.CONFIRM, message=heard, tries=0)
        return Said(state, f"I have {read_back(digits)}. Is that right?")

    @property
    def wants_digits(self) -> bool:
        """The caller is asked for a number: typed keys are the answer."""
        return self.step in (Step.NUMBER, Step.CONFIRM)


def _name_in(text: str) -> str:
    name = _NAME_LEAD.sub("", text, count=1)
    name = _NAME_TAIL.sub("", name)
    return re.sub(r"[^\w\s'.-]", "", name).strip(" .-")[:80]

"""Decide what an agent says to one caller turn: the business's own sentences, a polite
line, an honest "I don't know", or (for chat that asks nothing) a generated reply.

Theory of operation
-------------------
``Responder.decide()`` is pure (text in, a ``Decision`` out) and runs before any
model, so a fact answer goes to TTS right after the final transcript. In order:

0. while a message is being taken (ai/message_taking.py), every turn is its answer;
1. a goodbye ("ok thanks, bye") gets the closing line, and the call ends after it;
   a request to leave a message (or a yes to the offer of one) starts taking it, for
   an agent that takes messages; a request for a person (ai/person_request.py) is
   put through when the call can be (ai/transfer.py), or told it cannot;
2. a fact that answers the words (ai/retrieval.py, with the previous question for
   follow-ups) is spoken as the owner wrote it, and only that fact;
3. a greeting, thanks, "how are you" or "are you a robot?" (ai/dialogue_acts.py)
   gets a short line in the agent's name;
4. a question the facts do not answer gets "I'm sorry, I don't know that" (the
   first time with what the agent can tell, from the facts' headings). Never an
   invented yes: a small LLM asked an out-of-scope question tends to say yes;
5. anything else (the caller tells something, asks nothing) is ``CHAT``: the LLM
   replies in the agent's persona, and ``checked()`` keeps that reply only if every
   number, day or name in it is in the facts (ai/fact_check.py).

An agent without facts has no index: everything but the goodbye (and messages and
transfers) goes to the LLM, as a general assistant would.

What the responder remembers of its call (``CallState``: topics told, a message
offered, a message in progress) changes only through ``commit(decision)``: the reply
pipeline decides speculatively, before the caller's turn is known to be over, and
commits once it is (ai/reply.py), so a reply thrown away changes nothing.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, replace

from ai import fact_check, message_taking, transfer
from ai.dialogue_acts import Act, acts, is_question
from ai.knowledge import Knowledge
from ai.message_taking import Message, MessageTaking, asks_to_leave_message, says_no, says_yes
from ai.person_request import asks_for_person
from ai.retrieval import FactIndex


class Kind(enum.Enum):
    FACT = "fact"
    SMALL_TALK = "small_talk"
    GOODBYE = "goodbye"
    UNKNOWN = "unknown"
    CHAT = "chat"  # the LLM phrases it (checked)
    TRANSFER = "transfer"  # put through to a person after saying ``text``
    MESSAGE = "message"  # a step of taking a message (``message`` holds it so far)


@dataclass(frozen=True)
class CallState:
    """What the responder remembers of its call."""

    told_topics: bool = False  # "I can tell you about ..." was said once
    offered: bool = False  # the bot's last line offered to take a message
    taking: MessageTaking | None = None  # a message in progress


@dataclass(frozen=True)
class Decision:
    kind: Kind
    text: str = ""  # what to say; "" for CHAT (the LLM's reply, then checked())
    hang_up: bool = False
    coverage: float = 0.0
    state: CallState | None = None  # the call's state once this turn is over; None: as is
    message: Message | None = None  # the message as this turn leaves it, to be stored
    new_message: bool = False  # this turn starts a message

    @property
    def transfer(self) -> bool:
        return self.kind is Kind.TRANSFER


CHAT_FALLBACK = "I see. How can I help you today?"
CHAT_RULES = (
    "You are talking on the phone: answer in one short, friendly sentence. Never state a "
    "time, day, price, number, address or name, and never promise anything."
)


class Responder:
    def __init__(
        self,
        knowledge: Knowledge | None,
        persona: str = "",
        index: FactIndex | None = None,
        can_transfer: bool = False,
        take_messages: bool = False,
        caller: str = "",
    ) -> None:
        """``index`` (read-only, shared by every call of the agent) is built if not given;
        ``can_transfer``: this call can be put through to a person (ai/transfer.py);
        ``take_messages``: the agent takes messages; ``caller``: the caller's number."""
        self.knowledge = knowledge
        self.can_transfer = can_transfer
        self.take_messages = take_messages
        self.caller = caller
        self.state = CallState()
        self.title = knowledge.title if knowledge else ""
        if index is None and knowledge is not None and not knowledge.empty:
            index = FactIndex(knowledge)
            index.find("warm up")  # bm25s pays its one-off costs here, not on a turn
        self.index = index
        self.topics = _topics(knowledge) if knowledge else ""
        name = self.title or "this business"
        self.persona = persona or f"You are the receptionist of {name}. Be brief and warm."
        self.system_prompt = f"{self.persona} {CHAT_RULES}"
        self._support = fact_check.support(
            " ".join([knowledge.text() if knowledge else "", self.persona])
        )

    @property
    def has_facts(self) -> bool:
        return self.index is not None

    @property
    def wants_digits(self) -> bool:
        """A callback number is asked for: the caller's keys are its digits."""
        return self.state.taking is not None and self.state.taking.wants_digits

    def commit(self, decision: Decision) -> None:
        """The caller's turn is over: the call is in the state ``decision`` leaves."""
        if decision.state is not None:
            self.state = decision.state

    def note_said(self, text: str) -> None:
        """The bot said a fixed line (a greeting, a key's or a transfer's line)."""
        offered = self.take_messages and text.endswith(message_taking.OFFER)
        self.state = replace(self.state, offered=offered)

    def decide(self, text: str, previous: str = "", today: dt.date | None = None) -> Decision:
        """What to say to ``text``; changes nothing until ``commit()``."""
        if self.state.taking is not None:
            return self._take(self.state.taking, text)
        nxt = replace(self.state, offered=False)  # the offer of a message holds one turn
        decision = self._decide(text, nxt, previous, today)
        return decision if decision.state is not None else replace(decision, state=nxt)

    def _decide(self, text: str, nxt: CallState, previous: str, today: dt.date | None) -> Decision:
        said, offered = acts(text), self.state.offered
        if Act.GOODBYE in said:
            return Decision(Kind.GOODBYE, self.closing(), hang_up=True)
        if asks_to_leave_message(text) or (offered and _accepts(text)):
            if self.take_messages:
                taking = MessageTaking(caller=self.caller)
                state = replace(nxt, taking=taking)
                return Decision(
                    Kind.MESSAGE, message_taking.START, state=state, message=taking.message,
                    new_message=True,
                )  # fmt: skip
            return Decision(Kind.SMALL_TALK, message_taking.NO_MESSAGES)
        if offered and says_no(text) and len(text.split()) <= 4 and not is_question(text):
            return Decision(Kind.SMALL_TALK, message_taking.DECLINED)
        if asks_for_person(text):
            if self.can_transfer:
                return Decision(Kind.TRANSFER, transfer.GOING)
            offering = transfer.line(transfer.CANNOT, message_taking.OFFER)
            return self._offering(Kind.SMALL_TALK, transfer.CANNOT, offering, nxt)
        if self.index is None:
            return Decision(Kind.CHAT)
        if said:
            return Decision(Kind.SMALL_TALK, self._small_talk(said))
        if self._names_us(text):
            return Decision(Kind.SMALL_TALK, f"Yes, this is {self.title}. How can I help you?")
        found = self.index.find(text, previous=previous, today=today or dt.date.today())
        if found is not None:
            return Decision(Kind.FACT, found.text, coverage=found.coverage)
        if is_question(text):
            line = "I'm sorry, I don't know that."
            if self.topics and not nxt.told_topics:
                nxt = replace(nxt, told_topics=True)
                line += f" I can tell you about {self.topics}."
            return self._offering(Kind.UNKNOWN, line, f"{line} {message_taking.OFFER}", nxt)
        return Decision(Kind.CHAT)

    def _offering(self, kind: Kind, line: str, offering: str, nxt: CallState) -> Decision:
        """``line``; for an agent that takes messages, ``offering`` (the line that offers
        one instead), with the offer noted for the next turn."""
        if not self.take_messages:
            return Decision(kind, line, state=nxt)
        return Decision(kind, offering, state=replace(nxt, offered=True))

    def _take(self, taking: MessageTaking, text: str) -> Decision:
        step = taking.heard(text)
        state = replace(self.state, offered=False, taking=None if step.over else step.state)
        line = step.line or self.closing()
        message = step.state.message
        return Decision(Kind.MESSAGE, line, step.hang_up, state=state, message=message)

    def checked(self, generated: str) -> str:
        """``generated`` if everything it states is in the facts, else the fallback line."""
        text = generated.strip()
        if not text or fact_check.unsupported(text, self._support):
            return CHAT_FALLBACK
        return text

    def _names_us(self, text: str) -> bool:
        """ "Is that Riverside Dental?": nothing asked but whether this is the business."""
        if not self.title or self.index is None or not is_question(text):
            return False
        title = {t for t, _ in self.index.terms(self.title)}
        words = {t for t, _ in self.index.terms(text)}
        return bool(words) and words <= title

    def closing(self) -> str:
        return f"Thank you for calling {self.title}. Goodbye!" if self.title else "Goodbye!"

    def _small_talk(self, said: set[Act]) -> str:
        if Act.IDENTITY in said:
            where = f" of {self.title}" if self.title else ""
            can = f" I can tell you about {self.topics}." if self.topics else ""
            return f"I'm the automated assistant{where}.{can}"
        if Act.HEARING in said:
            return "Yes, I can hear you. How can I help?"
        if Act.HOW_ARE_YOU in said:
            return "I'm doing well, thank you. How can I help you today?"
        if Act.THANKS in said:
            return "You're welcome. Is there anything else I can help you with?"
        return "Hello! How can I help you?"


def _accepts(text: str) -> bool:
    """A yes to the offer of a message ("yes please"; not "yes, and when do you close?")."""
    return says_yes(text) and (len(text.split()) <= 5 or not is_question(text))


def _topics(knowledge: Knowledge, most: int = 3) -> str:
    """ "our opening hours, prices or parking": the first headings that name a topic."""
    names = [
        s.heading.lower()
        for s in knowledge.sections
        if s.heading and s.heading != knowledge.title and s.facts and "/" not in s.heading
    ][:most]
    if not names:
        return ""
    names[0] = f"our {names[0]}"
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"

"""Who answers a call: an agent (one business's greeting, persona, voice and facts), and what
the channel knows of the call that picks it.

An ``AgentSpec`` is what an admin wrote in an ``[agents.NAME]`` table, already checked
and with paths resolved (the bridge's config loader does that); the brain turns each
into a loaded ``Agent`` once, at start. A ``CallInfo`` is what the door learned of one
call: the agent the dialplan (or the page's ``?agent=``) named, the caller's number and
the number dialled. Neither knows anything of SIP or WebRTC.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from ai import knowledge, message_taking, transfer
from ai.embedding import SentenceEncoder
from ai.knowledge import Knowledge
from ai.responder import Responder
from ai.retrieval import FactIndex
from ai.tts import PiperTts

log = logging.getLogger(__name__)

DEFAULT_AGENT_GREETING = "Hello, thanks for calling. How can I help you?"


@dataclass(frozen=True)
class AgentSpec:
    """One ``[agents.NAME]`` table. ``knowledge`` and ``voice`` are absolute paths or ""."""

    name: str
    greeting: str = DEFAULT_AGENT_GREETING
    knowledge: str = ""  # the business's facts (Markdown); "" = an agent without facts
    persona: str = ""  # "" = a plain receptionist persona built from the facts' title
    voice: str = ""  # a Piper .onnx; "" = the embedded voice
    digits: tuple[tuple[str, str], ...] = ()  # (key, line spoken when the caller presses it)
    transfer_to: str = ""  # "context,exten,priority" where a person answers; "" = none
    transfer_keys: tuple[str, ...] = ()  # keys that put the caller through ("0" by default)
    take_messages: bool = False  # take a message on request, or offered after "I don't know"


@dataclass(frozen=True)
class CallInfo:
    """What the door knows of a call; every field may be empty."""

    agent: str = ""  # the agent named for this call ("" = the default agent)
    caller: str = ""  # the caller's number (CALLERID(num)), as the trunk gave it
    dialled: str = ""  # the number the caller dialled (the DID), as the trunk gave it
    # Back from a transfer that found nobody: the Dial's status (NOANSWER, BUSY, ...).
    transfer_status: str = ""


class Agent:
    """One agent, loaded: its facts (and their index), its voice, its greeting's audio.

    Built once per process by the brain (``Brain.load``) and shared by every call the
    agent answers; what differs per call (memory, "told the topics already") lives in
    the call's own ``Responder``.
    """

    def __init__(
        self, spec: AgentSpec, tts: PiperTts, encoder: SentenceEncoder | None = None
    ) -> None:
        self.spec = spec
        self.tts = tts
        self.encoder = encoder
        self.knowledge: Knowledge | None = None
        self.index: FactIndex | None = None
        self.greeting_pcm = b""
        self.digit_lines: dict[str, tuple[str, bytes]] = {}  # key -> (line, its audio)
        # ai/transfer.py's lines -> what this agent says for each, and its audio
        self.transfer_lines: dict[str, tuple[str, bytes]] = {}

    @property
    def name(self) -> str:
        return self.spec.name

    def load(self) -> None:
        """Read the facts and render the greeting (blocking: on the loading thread)."""
        if self.spec.knowledge:
            self.knowledge = knowledge.load(self.spec.knowledge)
            log.info(
                "agent %s: %d facts in %d sections from %s",
                self.name,
                len(self.knowledge.facts),
                len(self.knowledge.sections),
                self.spec.knowledge,
            )
            if not self.knowledge.empty:
                self.index = FactIndex(self.knowledge, encoder=self.encoder)
                self.index.find("warm up")  # one-off costs (bm25s, ONNX), here and not on a call
        else:
            log.warning("agent %s has no facts file: the LLM answers its calls alone", self.name)
        if self.spec.greeting:
            self.greeting_pcm = self.tts.synthesize_sync(self.spec.greeting)
        # Rendered now, like the greeting: a key press is answered without waiting for TTS.
        for key, line in self.spec.digits:
            self.digit_lines[key] = (line, self.tts.synthesize_sync(line))
        if self.spec.transfer_to:
            offer = message_taking.OFFER if self.spec.take_messages else ""
            for key in transfer.LINES:
                text = transfer.line(key, offer)
                self.transfer_lines[key] = (text, self.tts.synthesize_sync(text))

    def opening(self, info: CallInfo) -> tuple[str, bytes] | None:
        """What the bot says first on a call: the greeting, or, for a caller back from a
        transfer that found nobody, that nobody is available (ai/transfer.py)."""
        if info.transfer_status and transfer.NOBODY in self.transfer_lines:
            log.info("agent %s: a caller back from a transfer: %s", self.name, info.transfer_status)
            return self.transfer_lines[transfer.NOBODY]
        if self.greeting_pcm:
            return self.spec.greeting, self.greeting_pcm
        return None

    def responder(self, can_transfer: bool = False, caller: str = "") -> Responder:
        """A fresh responder for one call; ``can_transfer``: that call's channel can be put
        through (the agent must have a ``transfer_to`` too); ``caller``: the caller's number,
        for a message's "call me back on this number"."""
        return Responder(
            self.knowledge,
            self.spec.persona,
            self.index,
            can_transfer=can_transfer and bool(self.spec.transfer_to),
            take_messages=self.spec.take_messages,
            caller=caller,
        )

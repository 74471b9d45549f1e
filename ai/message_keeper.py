"""Keeping the messages a call takes: every step handed to the deployment's store as it
happens, so that a hang-up (or a crash) in the middle leaves what was said so far.

The brain knows the store only as a ``MessageBox``: ``submit()`` must not block (it is
called on the event loop between two turns) and keeps every submission of one message
in order, the last one standing; records/messages.py is the SQLite one, with a writer
thread of its own. A message is identified by an id made when it starts; each
submission carries the whole message so far, with the caller's audio of its answers
(16 kHz mono PCM), so the store never has to merge.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from typing import Protocol

from ai.agent import CallInfo
from ai.message_taking import Message

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StoredMessage:
    """One message as the store keeps it."""

    id: str
    started: float  # Unix time the caller began leaving it
    agent: str
    call: str  # the channel's name (the call's id in logs and records)
    caller: str  # the caller's own number, as the trunk gave it ("" if none)
    dialled: str
    name: str
    number: str  # the callback number: digits, a leading "+" kept
    text: str
    complete: bool
    answers: tuple[str, ...]  # every caller turn of the dialogue, as transcribed


class MessageBox(Protocol):
    def submit(self, message: StoredMessage, audio: bytes) -> None:
        """Store ``message`` (replacing an earlier submission with its id); never blocks."""
        ...


class MessageKeeper:
    """The messages of one call, handed to ``box`` (None: the brain has no store)."""

    def __init__(self, box: MessageBox | None, agent: str, call: str, info: CallInfo) -> None:
        self.box = box
        self.agent = agent
        self.call = call
        self.info = info
        self._id = ""
        self._started = 0.0
        self._audio: list[bytes] = []

    def keep(self, message: Message, audio: bytes, new: bool) -> None:
        """``message`` as the caller's last turn (``audio``) left it; ``new``: it starts."""
        if new or not self._id:
            self._id, self._started, self._audio = uuid.uuid4().hex, time.time(), []
        elif audio:
            self._audio.append(audio)
        if self.box is None:
            log.warning("session %s: no store for messages; this one is only logged", self.call)
            log.info("session %s: message so far %r", self.call, message)
            return
        stored = StoredMessage(
            id=self._id,
            started=self._started,
            agent=self.agent,
            call=self.call,
            caller=self.info.caller,
            dialled=self.info.dialled,
            name=message.name,
            number=message.number,
            text=message.text,
            complete=message.complete,
            answers=message.answers,
        )
        self.box.submit(stored, b"".join(self._audio))
        if message.complete:
            log.info(
                "session %s: message %s taken (callback %s)", self.call, self._id, stored.number
            )

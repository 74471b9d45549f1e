"""What listeners (the browser page, tests) see of a conversation as it happens.

Events are plain dicts, pushed to an optional ``listener`` callable: the caller's
words (``partial`` while they speak, then ``turn``/``user``), each bot turn with
its latency and stage stamps, barge-ins, and the end. A listener that raises is
logged and ignored: a UI must never break a call.

Partial transcripts cost a Whisper run each, so they run only when someone
listens, every ``interval`` seconds while the caller speaks, as one task the
session's supervisor owns.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from ai.stamps import TurnRecord
from ai.stt import Transcript
from ai.supervisor import CallSupervisor

log = logging.getLogger(__name__)

SessionListener = Callable[[dict[str, Any]], None]


class LiveFeed:
    def __init__(self, call_name: str, listener: SessionListener | None) -> None:
        self.call_name = call_name
        self.listener = listener
        self.records: list[TurnRecord] = []
        self._partial: asyncio.Task[None] | None = None

    def emit(self, event: dict[str, Any]) -> None:
        if self.listener is not None:
            try:
                self.listener(event)
            except Exception:  # a UI listener must never break the conversation
                log.exception("session %s: listener failed", self.call_name)

    def user_text(self, record: TurnRecord) -> None:
        """The caller's words of a turn, once."""
        if not record.announced:
            record.announced = True
            self.emit({"type": "turn", "role": "user", "text": record.user_text})

    def turn_done(self, record: TurnRecord) -> None:
        """A finished turn: kept, logged as one JSON line, shown."""
        self.records.append(record)
        record.log()
        self.emit(
            {
                "type": "turn",
                "role": "bot",
                "text": record.bot_text,
                "interrupted": record.interrupted,
                "latency_ms": record.latency_ms,
                "stages_ms": record.stages_ms(),
            }
        )

    # -- partial transcripts ------------------------------------------------------------

    def start_partials(
        self,
        supervisor: CallSupervisor,
        interval: float,
        audio: Callable[[], bytes | None],
        transcribe: Callable[[bytes], Awaitable[Transcript | None]],
    ) -> None:
        """While ``audio()`` gives the utterance so far (None: the caller stopped)."""
        if interval > 0 and self.listener is not None:
            self.stop_partials()
            self._partial = supervisor.spawn(
                self._partials(interval, audio, transcribe), "partials"
            )

    def stop_partials(self) -> None:
        if self._partial is not None:
            self._partial.cancel()
            self._partial = None

    async def _partials(
        self,
        interval: float,
        audio: Callable[[], bytes | None],
        transcribe: Callable[[bytes], Awaitable[Transcript | None]],
    ) -> None:
        while (pcm := audio()) is not None:
            await asyncio.sleep(interval)
            pcm = audio()
            if pcm is None:
                return
            transcript = await transcribe(pcm)
            if transcript and not transcript.rejected and audio() is not None:
                self.emit({"type": "partial", "role": "user", "text": transcript.text})

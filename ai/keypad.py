"""The caller's keys (DTMF): the hangup digit ends the call, a key of the agent's menu
(``[agents.NAME.digits]``) cuts the bot short with that key's line. Digits never reach
the LLM. Another key is logged and ignored.

A key's line is rendered at load (ai/agent.py), so it plays at once; a second key
pressed while a line plays replaces it. The session gives the keypad what it needs as a
``Speaker``, so this module knows nothing of replies or turn-taking.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any, Protocol

from ai.channel import Channel

log = logging.getLogger(__name__)


class Speaker(Protocol):
    """What the keypad needs of the session: cut the bot short, say a rendered line."""

    async def stop_speaking(self) -> None: ...

    async def say(self, text: str, pcm: bytes) -> None: ...


class Keypad:
    def __init__(
        self,
        channel: Channel,
        hangup_digit: str,
        lines: dict[str, tuple[str, bytes]],
        speaker: Speaker,
        spawn: Callable[[Coroutine[Any, Any, None], str], asyncio.Task[None]],
    ) -> None:
        self.ch = channel
        self.hangup_digit = hangup_digit
        self.lines = lines
        self.speaker = speaker
        self._spawn = spawn
        self._saying: asyncio.Task[None] | None = None

    async def run(self) -> None:
        while True:
            digit = (await self.ch.events.get()).digit
            log.info("session %s: DTMF %s", self.ch.name, digit)
            if digit == self.hangup_digit:
                await self.ch.hangup(f"caller pressed {digit}")
                return
            line = self.lines.get(digit)
            if line is None:
                continue
            await self.speaker.stop_speaking()
            if self._saying is not None:
                self._saying.cancel()  # pressed again: the new line replaces the old one
            self._saying = self._spawn(self.speaker.say(*line), "key")

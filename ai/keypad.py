"""The caller's keys (DTMF): the hangup digit ends the call, a transfer key (``0`` when the
agent has a ``transfer_to``) puts the caller through to a person, a key of the agent's
menu (``[agents.NAME.digits]``) cuts the bot short with that key's line. Digits never
reach the LLM. Another key is logged and ignored.

While the bot asks for a callback number (ai/message_taking.py), digit keys are that
number instead: they are collected until the caller stops typing for ``DIGIT_GAP_S``
and then answered as a turn of its own (``*`` starts the number over).

Every line a key can bring is rendered at load (ai/agent.py), so it plays at once; a
second key pressed while a line plays replaces it. The session gives the keypad what
it needs as a ``Speaker``, so this module knows nothing of replies or turn-taking.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, Protocol

from ai import transfer
from ai.channel import Channel

if TYPE_CHECKING:
    from ai.agent import Agent

log = logging.getLogger(__name__)

DIGIT_GAP_S = 3.0  # a pause in typing this long ends a typed number


class Speaker(Protocol):
    """What the keypad needs of the session: cut the bot short, say a rendered line."""

    async def stop_speaking(self) -> None: ...

    async def say(self, text: str, pcm: bytes) -> None: ...

    @property
    def wants_digits(self) -> bool:
        """A number is asked for: digit keys are its digits."""
        ...

    def answer_typed(self, text: str) -> None:
        """Answer the keys typed for a number as the caller's turn."""
        ...


class Keypad:
    def __init__(
        self,
        channel: Channel,
        hangup_digit: str,
        agent: Agent,
        speaker: Speaker,
        spawn: Callable[[Coroutine[Any, Any, None], str], asyncio.Task[None]],
    ) -> None:
        self.ch = channel
        self.hangup_digit = hangup_digit
        self.lines = agent.digit_lines
        self.transfer_keys = frozenset(agent.spec.transfer_keys)
        self.target = agent.spec.transfer_to
        self.transfer_lines = agent.transfer_lines
        self.speaker = speaker
        self._spawn = spawn
        self._saying: asyncio.Task[None] | None = None

    async def run(self) -> None:
        typed = ""
        while True:
            try:
                async with asyncio.timeout(DIGIT_GAP_S if typed else None):
                    digit = (await self.ch.events.get()).digit
            except TimeoutError:
                log.info("session %s: typed %s", self.ch.name, typed)
                self.speaker.answer_typed(typed)
                typed = ""
                continue
            log.info("session %s: DTMF %s", self.ch.name, digit)
            if digit == self.hangup_digit:
                await self.ch.hangup(f"caller pressed {digit}")
                return
            if self.speaker.wants_digits and (digit.isdigit() or digit == "*"):
                if not typed:
                    await self.speaker.stop_speaking()  # typing cuts the question short
                typed = "" if digit == "*" else typed + digit
                continue
            if digit in self.transfer_keys and self.target:
                action = self._put_through()
            elif digit in self.lines:
                action = self.speaker.say(*self.lines[digit])
            else:
                continue
            await self.speaker.stop_speaking()
            if self._saying is not None:
                self._saying.cancel()  # pressed again: the new action replaces the old one
            self._saying = self._spawn(action, "key")

    async def _put_through(self) -> None:
        if not self.ch.can_transfer:
            await self._say(transfer.CANNOT)
            return
        await self._say(transfer.GOING)
        await transfer.hand_over(self.ch, self.target, lambda: self._say(transfer.FAILED))

    async def _say(self, key: str) -> None:
        await self.speaker.say(*self.transfer_lines[key])

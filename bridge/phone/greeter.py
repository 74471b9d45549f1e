"""The first voice: greet each caller with a Piper sentence, then keep the line open.

Until the brain (ai/) takes the call, this is the call's app: it plays the
greeting, then waits for the call to end, keeping the caller's audio queue
drained; the DTMF ``hangup_digit`` ends the call from the bot's side.
"""

from __future__ import annotations

import asyncio
import logging

from bridge.phone.call import Call

log = logging.getLogger(__name__)


class Greeter:
    def __init__(self, greeting_pcm: bytes, rate: int, hangup_digit: str = "#") -> None:
        self.greeting_pcm = greeting_pcm
        self.rate = rate  # of greeting_pcm (Piper's, or the phone's for a prompt made for it)
        self.hangup_digit = hangup_digit

    async def __call__(self, call: Call) -> None:
        async with asyncio.TaskGroup() as tg:
            tg.create_task(self._drain_caller_audio(call))
            tg.create_task(self._watch_dtmf(call))
            await call.play(self.greeting_pcm, self.rate)

    async def _drain_caller_audio(self, call: Call) -> None:
        while True:
            await call.audio_in.get()

    async def _watch_dtmf(self, call: Call) -> None:
        while True:
            event = await call.events.get()
            log.info("call %s: DTMF %s", call.name, event.digit)
            if self.hangup_digit and event.digit == self.hangup_digit:
                await call.hangup(f"caller pressed {event.digit}")
                return

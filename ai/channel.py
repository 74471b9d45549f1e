"""What the brain needs from a channel (a phone call, a browser session), and nothing more.

A channel delivers the caller's audio as 20 ms frames of 16-bit mono PCM at
``sample_rate``, which is the brain's rate (``BRAIN_RATE``, 16 kHz: what the VAD
and Whisper take), and plays PCM at whatever rate the brain's voice speaks
(``play(pcm, rate)``). Converting between those and the wire (8 kHz AudioSocket,
48 kHz WebRTC) is the channel's job, with one streaming resampler per direction
per call; the brain never resamples. The channel tells the brain about DTMF and
the end of the call, and it knows what it sent: whether the bot is being heard
right now and how loud (used to tell the bot's own echo from a caller cutting
in). ``ai/`` depends only on this protocol, never on SIP, AudioSocket, WebRTC
or anything in ``bridge/`` (a test checks the imports).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Protocol

BRAIN_RATE = 16000
"""The rate of ``Channel.audio_in``: Silero VAD and Whisper both take 16 kHz."""


@dataclass(frozen=True)
class Dtmf:
    digit: str


class Channel(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def sample_rate(self) -> int:
        """The rate of ``audio_in``; ``BRAIN_RATE`` (the session refuses any other)."""
        ...

    @property
    def audio_in(self) -> asyncio.Queue[bytes]:
        """Steady 20 ms frames of caller audio (bounded; oldest dropped if not read)."""
        ...

    @property
    def events(self) -> asyncio.Queue[Dtmf]: ...

    @property
    def ended(self) -> bool: ...

    async def wait_ended(self) -> None: ...

    async def play(self, pcm: bytes, rate: int) -> None:
        """Queue one utterance of bot audio at ``rate`` Hz (the channel converts it to the
        wire's rate); waits while the channel's bounded output buffer is full."""
        ...

    def flush_output(self) -> int:
        """Drop all queued bot audio (barge-in); returns bytes dropped."""
        ...

    def pause_output(self) -> None:
        """Hold queued bot audio (silence goes out meanwhile) until resume_output()."""
        ...

    def resume_output(self) -> None: ...

    def output_queued_s(self) -> float:
        """Seconds of bot audio queued and not yet sent."""
        ...

    async def wait_output_idle(self) -> None:
        """Return once every queued bot sample has been sent (or the channel ended)."""
        ...

    def next_speech_onset(self) -> asyncio.Future[float]:
        """A future set to the loop time at which the next bot audio frame is sent."""
        ...

    def recent_output_dbfs(self) -> float | None:
        """Level of the bot audio sent in the last ~200 ms, or None if it sent only silence."""
        ...

    async def hangup(self, reason: str) -> None: ...

    @property
    def can_transfer(self) -> bool:
        """Whether ``transfer`` can work on this channel (a phone call whose PBX channel is
        known can; a browser session cannot)."""
        ...

    async def transfer(self, target: str) -> bool:
        """Hand the call over to ``target`` ("context,exten,priority" of the dialplan); the
        channel ends when it has left. False (and the call goes on) when it cannot."""
        ...

"""Both directions of one channel's audio, between its media clock and the brain.

A phone call (``bridge/phone/call.py``) and a browser session
(``bridge/web/browser_channel.py``) differ in their transport and their clock's
owner (our AudioSocket writer, aiortc's track), not in what happens on each
20 ms tick: send one frame of queued speech (silence when there is none or
the bot is paused), note when speech starts and how loud it was (the onset
stamp and the echo gate of the brain), wake a ``play()`` waiting for room,
and hand the brain one steady frame of caller audio. That shared part lives
here, so both channels implement the brain's ``Channel`` protocol the same
way. Nothing here sleeps: the owner calls ``tick(now)`` on each deadline.

Theory of operation. The state is two buffers and a few flags. Caller audio
goes *in* at ``in_rate`` (the owner ``push``es it into the ``BurstAbsorber``
in whatever chunks it arrives); each tick pops at most one frame of it, turns
it to the brain's rate (``BRAIN_RATE``) with the call's single inbound
``FrameResampler``, and puts the whole frames that yields (soxr works in blocks:
usually none, then several at once) on the bounded ``audio_in`` queue (the
oldest frame is dropped, and counted, when the brain falls behind).
Bot audio goes *out* at ``out_rate`` (the wire's): ``play(pcm, rate)``
converts one utterance from its own rate with the call's
``UtteranceResampler`` (one stream resampler per source rate, reused, flushed
per utterance) and pushes it into ``OutboundAudio``, waiting for room; each
tick pops one frame of it (silence when it is empty or paused). The events
move with it: ``_room`` is set when a tick frees space (wakes ``play()``),
``_idle`` when the last queued byte left (``wait_idle()``), onset futures are
resolved by the first tick that carries speech, and ``_ended`` once, by
``end()``, which also wakes a blocked ``play()`` so it raises
``ChannelEnded``.
"""

from __future__ import annotations

import asyncio

from ai.channel import BRAIN_RATE
from ai.hearing import level_dbfs
from bridge.media.jitter import BurstAbsorber
from bridge.media.pacer import OutboundAudio, frame_bytes
from bridge.media.resample import FrameResampler, UtteranceResampler

LEVEL_FRAMES = 10  # recent_output_dbfs() looks back this many frames (200 ms)


class ChannelEnded(Exception):
    """Raised by a channel's ``play()`` once the call or session is over."""


class ChannelMedia:
    def __init__(
        self,
        *,
        in_rate: int,
        out_rate: int,
        outbound_max_s: float,
        inbound_max_frames: int,
        inbound_prefill_frames: int,
        audio_in_max_frames: int,
    ) -> None:
        out_frame_bytes = frame_bytes(out_rate)
        self.inbound = BurstAbsorber(
            frame_bytes=frame_bytes(in_rate),
            max_frames=inbound_max_frames,
            prefill_frames=inbound_prefill_frames,
        )
        self.outbound = OutboundAudio(
            frame_bytes=out_frame_bytes, max_bytes=int(outbound_max_s * out_rate) * 2
        )
        self.in_rate = in_rate
        self.out_rate = out_rate
        # One resampler per direction per call: caller audio to the brain's rate, and
        # bot audio from whatever rate it is spoken at to the wire's.
        self.to_brain = FrameResampler(in_rate, BRAIN_RATE, frame_bytes(BRAIN_RATE))
        self.to_wire = UtteranceResampler(out_rate)
        self.audio_in: asyncio.Queue[bytes] = asyncio.Queue(audio_in_max_frames)
        self.audio_in_dropped = 0
        # Loop time of the first frame that carried speech.
        self.first_speech_out: float | None = None
        self.end_reason = ""
        self._silence = bytes(out_frame_bytes)
        self._paused = False
        self._ended = asyncio.Event()
        self._room = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._onsets: list[asyncio.Future[float]] = []
        # Levels (dBFS) of the last frames sent; None for silence frames.
        self._levels: list[float | None] = [None] * LEVEL_FRAMES
        self._level_i = 0

    # -- the brain's side ----------------------------------------------------------

    @property
    def ended(self) -> bool:
        return self._ended.is_set()

    async def wait_ended(self) -> None:
        await self._ended.wait()

    async def play(self, pcm: bytes, rate: int) -> None:
        """Queue one utterance spoken at ``rate``, waiting while the outbound buffer is full.

        It is converted to ``out_rate`` in one pass, before any of it is queued.
        """
        if self.ended:
            raise ChannelEnded(self.end_reason)
        view = memoryview(self.to_wire.convert(pcm, rate))
        while view:
            if self.ended:
                raise ChannelEnded(self.end_reason)
            taken = self.outbound.push(bytes(view))
            if taken:
                self._idle.clear()
            view = view[taken:]
            if view:
                self._room.clear()
                await self._room.wait()
        self.outbound.mark_end_of_utterance()

    def flush(self) -> int:
        """Drop everything not yet sent (barge-in); returns bytes dropped."""
        dropped = self.outbound.flush()
        self._idle.set()
        self._room.set()
        return dropped

    def pause(self) -> None:
        """Hold the queued speech: ticks send silence until resume()."""
        self._paused = True

    def resume(self) -> None:
        self._paused = False

    def queued_s(self) -> float:
        return self.outbound.queued_bytes / (2.0 * self.out_rate)

    async def wait_idle(self) -> None:
        """Return once everything queued has been sent, or the channel ended."""
        while not self.ended and not self._idle.is_set():
            ended = asyncio.ensure_future(self._ended.wait())
            idle = asyncio.ensure_future(self._idle.wait())
            try:
                await asyncio.wait({ended, idle}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                ended.cancel()
                idle.cancel()

    def next_speech_onset(self) -> asyncio.Future[float]:
        """Resolved with the loop time at which the next frame carrying speech is sent."""
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        if self.ended:
            future.cancel()
        else:
            self._onsets.append(future)
        return future

    def recent_output_dbfs(self) -> float | None:
        """Loudest of the last 200 ms of speech sent, or None if only silence was sent."""
        levels = [lv for lv in self._levels if lv is not None]
        return max(levels) if levels else None

    # -- the owner's side ----------------------------------------------------------

    def end(self, reason: str) -> bool:
        """Mark the channel over; False if it already was (the first reason is kept)."""
        if self._ended.is_set():
            return False
        self.end_reason = reason
        self._ended.set()
        self._room.set()  # wake a blocked play(), which then sees the end
        for future in self._onsets:
            if not future.done():
                future.cancel()
        self._onsets.clear()
        return True

    def tick(self, now: float) -> bytes:
        """The frame due at ``now`` (loop time it leaves); also moves one caller frame on."""
        if self._paused:
            frame, speech = self._silence, False
        else:
            frame, speech = self.outbound.pop_frame()
        self._note_output(frame, speech, now)
        if not self._room.is_set() and self.outbound.free_bytes > 0:
            self._room.set()
        if self.outbound.queued_bytes == 0 and not self._idle.is_set():
            self._idle.set()
        caller = self.inbound.pop()
        if caller is not None:
            for brain_frame in self.to_brain.frames(caller):
                if self.audio_in.full():
                    self.audio_in.get_nowait()
                    self.audio_in_dropped += 1
                self.audio_in.put_nowait(brain_frame)
        return frame

    def _note_output(self, frame: bytes, speech: bool, now: float) -> None:
        level: float | None = None
        if speech:
            if self.first_speech_out is None:
                self.first_speech_out = now
            for future in self._onsets:
                if not future.done():
                    future.set_result(now)
            self._onsets.clear()
            level = level_dbfs(frame)
        self._levels[self._level_i] = level
        self._level_i = (self._level_i + 1) % LEVEL_FRAMES


class MediaChannel:
    """The brain's ``Channel`` methods that every channel answers from its ``ChannelMedia``.

    A phone call and a browser session set ``self.media`` and add what differs
    (name, events, hangup, their clock); the rest is here once.
    """

    sample_rate = BRAIN_RATE  # of audio_in; the wire's own rate is ChannelMedia.in_rate
    media: ChannelMedia
    can_transfer = False  # a phone call whose Asterisk channel is known can (bridge/phone)

    async def transfer(self, target: str) -> bool:
        """This channel cannot hand its call over (the phone call overrides this)."""
        return False

    @property
    def audio_in(self) -> asyncio.Queue[bytes]:
        return self.media.audio_in

    @property
    def ended(self) -> bool:
        return self.media.ended

    async def wait_ended(self) -> None:
        await self.media.wait_ended()

    @property
    def end_reason(self) -> str:
        return self.media.end_reason

    @property
    def audio_in_dropped(self) -> int:
        return self.media.audio_in_dropped

    @property
    def first_speech_out(self) -> float | None:
        return self.media.first_speech_out

    async def play(self, pcm: bytes, rate: int) -> None:
        """Queue one utterance at ``rate`` Hz (resampled once to the wire's rate),
        waiting while the outbound buffer is full."""
        await self.media.play(pcm, rate)

    def flush_output(self) -> int:
        """Drop everything not yet sent (barge-in); returns bytes dropped (wire rate)."""
        return self.media.flush()

    def pause_output(self) -> None:
        """Hold the queued speech: the clock sends silence until resume_output()."""
        self.media.pause()

    def resume_output(self) -> None:
        self.media.resume()

    def output_queued_s(self) -> float:
        return self.media.queued_s()

    async def wait_output_idle(self) -> None:
        """Return once everything queued has been sent, or the channel ended."""
        await self.media.wait_idle()

    def next_speech_onset(self) -> asyncio.Future[float]:
        """Resolved with the loop time at which the next frame carrying speech is sent."""
        return self.media.next_speech_onset()

    def recent_output_dbfs(self) -> float | None:
        """Loudest of the last 200 ms of bot audio sent, or None if only silence was sent."""
        return self.media.recent_output_dbfs()

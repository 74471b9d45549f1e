"""One browser session's audio, as the ``ai.channel.Channel`` the brain talks to.

Theory of operation. The browser sends Opus, which aiortc decodes to 48 kHz
``av.AudioFrame``s; the brain wants 20 ms frames of 16 kHz mono PCM. The bot
speaks at its voice's rate (Piper: 22050 Hz); aiortc wants one 48 kHz frame
each time its RTP sender calls the outbound track's ``recv()``. The pure parts
are the phone call's (``bridge/phone/call.py``), shared in ``ChannelMedia``
(bridge/media/channel_media.py): ``OutboundAudio`` and ``PacingSchedule``
(bridge/media/pacer.py), ``BurstAbsorber`` (bridge/media/jitter.py), one
resampler per direction (bridge/media/resample.py).

- *Inbound*: :meth:`BrowserChannel.receive_from` reads the browser's track,
  downmixes to mono, resamples 48k -> 16k with one stateful resampler and
  pushes the bytes into the absorber, which re-frames them into 20 ms frames.
- *The media clock* is :class:`BotAudioTrack.recv`: aiortc's sender calls it
  in a loop, and it returns one 20 ms frame on an absolute monotonic grid
  (``PacingSchedule``): speech from ``OutboundAudio`` or silence. Each tick
  also moves one steady frame of caller audio from the absorber to the
  bounded ``audio_in`` queue, so one clock drives both directions, as on the
  phone. The clock runs only once the peer is connected: before that, bot
  audio simply waits in ``OutboundAudio``.
- ``play(pcm, rate)`` resamples each utterance once, from its own rate
  straight to 48k (one resampler per source rate, reused, flushed at the end
  of each utterance so no tail of it stays in the filter), and waits for room.

The channel ends once, for the first reason that comes (``hangup()``, the
peer connection failing or closing, the signalling WebSocket closing); the
owner (``bridge/web/webrtc.py``) then cancels the session's tasks and closes the
peer connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from typing import Protocol

import av
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from ai.channel import BRAIN_RATE, Dtmf
from bridge.media.channel_media import ChannelMedia, MediaChannel
from bridge.media.pacer import FRAME_MS, PacingSchedule, frame_bytes
from bridge.media.resample import StreamResampler
from bridge.web.browser_audio import frame_to_mono, mono_to_frame

log = logging.getLogger(__name__)

TRACK_RATE = 48000  # what WebRTC's Opus carries
TRACK_FRAME_SAMPLES = TRACK_RATE * FRAME_MS // 1000


class Closable(Protocol):
    """What ``hangup()`` closes: the session's ``RTCPeerConnection``."""

    async def close(self) -> None: ...


@dataclass(frozen=True)
class BrowserChannelOptions:
    inbound_max_frames: int = 50  # 1 s of caller audio waiting for the clock
    inbound_prefill_frames: int = 2  # resampled Opus arrives in uneven chunks
    audio_in_max_frames: int = 250  # 5 s of steady frames waiting for the brain
    outbound_max_s: float = 30.0  # bot speech queued for the browser
    events_max: int = 32
    close_timeout_s: float = 5.0


class BrowserChannel(MediaChannel):
    def __init__(
        self,
        name: str,
        options: BrowserChannelOptions = BrowserChannelOptions(),
        peer: Closable | None = None,
    ) -> None:
        self._name = name
        self.options = options
        self.peer = peer
        self.frame_bytes = frame_bytes(BRAIN_RATE)
        self.media = ChannelMedia(
            in_rate=BRAIN_RATE,  # push_inbound() resamples to it before the absorber
            out_rate=TRACK_RATE,
            outbound_max_s=options.outbound_max_s,
            inbound_max_frames=options.inbound_max_frames,
            inbound_prefill_frames=options.inbound_prefill_frames,
            audio_in_max_frames=options.audio_in_max_frames,
        )
        self.inbound = self.media.inbound
        self.outbound = self.media.outbound
        self.schedule = PacingSchedule()
        self.clock_started = False
        self._in_resampler: StreamResampler | None = None
        self._events: asyncio.Queue[Dtmf] = asyncio.Queue(options.events_max)
        self.frames_received = 0
        self.started_at = time.monotonic()
        self.track = BotAudioTrack(self)

    # -- the Channel protocol ----------------------------------------------------

    @property
    def name(self) -> str:
        return self._name

    @property
    def events(self) -> asyncio.Queue[Dtmf]:
        return self._events

    async def hangup(self, reason: str = "bridge hung up") -> None:
        """End the session from our side and close the peer connection."""
        self.end(reason)
        if self.peer is not None:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(self.options.close_timeout_s):
                    await self.peer.close()

    # -- for the owner -------------------------------------------------------------

    def end(self, reason: str) -> None:
        """Mark the session over (idempotent: the first reason is kept)."""
        if self.media.end(reason):
            self.track.stop()

    async def receive_from(self, track: MediaStreamTrack) -> None:
        """Read the browser's audio track until it ends; feed the absorber."""
        while not self.ended:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            if isinstance(frame, av.AudioFrame):
                self.push_inbound(frame)

    def push_inbound(self, frame: av.AudioFrame) -> None:
        """One decoded browser frame: to mono, to 16 kHz, into the absorber."""
        pcm, rate = frame_to_mono(frame)
        if self._in_resampler is None or self._in_resampler.in_rate != rate:
            self._in_resampler = StreamResampler(rate, BRAIN_RATE)
        self.frames_received += 1
        self.inbound.push(self._in_resampler.process(pcm))

    def media_tick(self, now: float) -> bytes:
        """The frame due now (48 kHz mono bytes); also hands the brain one caller frame.

        Called by the outbound track once per 20 ms deadline; ``now`` is the
        loop time at which the frame leaves (the onset stamp of a reply).
        """
        frame = self.media.tick(now)
        self.schedule.frame_sent(now)
        return frame

    def summary(self) -> str:
        s, a = self.schedule, self.inbound
        return (
            f"ended ({self.end_reason}) after {time.monotonic() - self.started_at:.1f} s; "
            f"out {s.frames_sent} frames ({self.outbound.frames_speech} speech), "
            f"max late {s.max_late_s * 1000:.1f} ms, {s.resyncs} resyncs; "
            f"in {self.frames_received} browser frames, {a.frames_in} 20 ms frames, "
            f"absorber dropped {a.dropped_frames}, underruns {a.underruns}, "
            f"app-queue drops {self.audio_in_dropped}"
        )


class BotAudioTrack(MediaStreamTrack):
    """The bot's voice as aiortc pulls it: one 48 kHz 20 ms frame per ``recv()``, paced.

    Deadlines sit on the channel's ``PacingSchedule`` grid (``loop.time()``,
    monotonic), anchored at the first ``recv()``: the sender never bursts and
    never drifts, whatever the lateness of a single wake-up.
    """

    kind = "audio"

    def __init__(self, channel: BrowserChannel) -> None:
        super().__init__()
        self._channel = channel
        self._pts = 0

    async def recv(self) -> av.AudioFrame:
        ch = self._channel
        if self.readyState != "live" or ch.ended:
            raise MediaStreamError
        loop = asyncio.get_running_loop()
        if not ch.clock_started:
            ch.schedule.start(loop.time())
            ch.clock_started = True
        delay = ch.schedule.next_deadline() - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        if self.readyState != "live" or ch.ended:
            raise MediaStreamError
        pcm = ch.media_tick(loop.time())
        frame = mono_to_frame(pcm, TRACK_RATE, self._pts)
        self._pts += TRACK_FRAME_SAMPLES
        return frame

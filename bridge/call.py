"""One phone call on one AudioSocket connection: the thin asyncio shell around the pure parts.

Theory of operation. A call owns three tasks and cancels all of them when it
ends, whichever side ends it:

- the *reader* feeds socket bytes to the sans-I/O ``AudioSocketProtocol``
  and dispatches its events: caller audio into the ``BurstAbsorber``, DTMF
  into the bounded ``events`` queue, a hangup, an error or a protocol
  violation end the call (with one clear log line);
- the *media clock* wakes on absolute ``loop.time()`` (monotonic) deadlines,
  20 ms apart (``PacingSchedule``). Each tick it sends exactly one frame
  from ``OutboundAudio`` (silence when there is nothing to say: Asterisk hangs
  up after 2 s without data) and moves one steady frame of caller audio from
  the absorber to the bounded ``audio_in`` queue. One clock per call drives
  both directions, so there is no per-direction timer drift;
- the *app* (the greeter now, the brain later) is handed the call and talks
  through ``play()``, ``flush_output()``, ``audio_in``, ``events`` and
  ``hangup()``.

Queues are bounded: ``audio_in`` drops its oldest frame when the app falls
behind (counted), ``play()`` waits for room in ``OutboundAudio``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
import uuid as uuidlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import numpy as np

from ai.channel import Dtmf as ChannelDtmf
from bridge.audiosocket import (
    Audio,
    AudioSocketProtocol,
    CallUuid,
    Dtmf,
    Hangup,
    ProtocolViolation,
    RemoteError,
)
from bridge.jitter import BurstAbsorber
from bridge.pacer import OutboundAudio, PacingSchedule, frame_bytes

log = logging.getLogger(__name__)

PHONE_RATE = 8000


@dataclass(frozen=True)
class CallOptions:
    """Limits of one call; the defaults suit 8 kHz AudioSocket."""

    max_payload: int = 8192
    uuid_timeout_s: float = 5.0
    write_timeout_s: float = 2.0
    inbound_max_frames: int = 50  # 1 s of caller audio waiting in the absorber
    inbound_prefill_frames: int = 1
    audio_in_max_frames: int = 250  # 5 s of steady frames waiting for the app
    outbound_max_s: float = 30.0  # speech queued for the line
    events_max: int = 32


class CallEnded(Exception):
    """Raised by the call's API once the call is over."""


AppHandler = Callable[["Call"], Awaitable[None]]


class Call:
    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        options: CallOptions = CallOptions(),
    ) -> None:
        self._reader = reader
        self._writer = writer
        self.options = options
        self.protocol = AudioSocketProtocol(max_payload=options.max_payload)
        self.uuid: uuidlib.UUID | None = None
        self.sample_rate = PHONE_RATE
        self.frame_bytes = frame_bytes(PHONE_RATE)
        self._silence = bytes(self.frame_bytes)
        self.inbound = BurstAbsorber(
            frame_bytes=self.frame_bytes,
            max_frames=options.inbound_max_frames,
            prefill_frames=options.inbound_prefill_frames,
        )
        self.outbound = OutboundAudio(
            frame_bytes=self.frame_bytes,
            max_bytes=int(options.outbound_max_s * PHONE_RATE) * 2,
        )
        self.schedule = PacingSchedule()
        self.audio_in: asyncio.Queue[bytes] = asyncio.Queue(options.audio_in_max_frames)
        self.events: asyncio.Queue[ChannelDtmf] = asyncio.Queue(options.events_max)
        self.audio_in_dropped = 0
        self.end_reason = ""
        self.started_at = time.monotonic()
        peer = writer.get_extra_info("peername")
        self.peer = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer)
        self._ended = asyncio.Event()
        self._room = asyncio.Event()
        self._hangup_sent = False
        # Stage stamps (loop.time()) of the first audio frame carrying speech.
        self.first_speech_out: float | None = None
        self._paused = False
        self._idle = asyncio.Event()
        self._idle.set()
        self._onsets: list[asyncio.Future[float]] = []
        # Levels (dBFS) of the last 10 frames sent; None for silence frames.
        self._out_levels: list[float | None] = [None] * 10
        self._out_level_i = 0

    # -- API for the app -------------------------------------------------------

    @property
    def ended(self) -> bool:
        return self._ended.is_set()

    async def wait_ended(self) -> None:
        await self._ended.wait()

    @property
    def name(self) -> str:
        return str(self.uuid) if self.uuid else self.peer

    async def play(self, pcm: bytes) -> None:
        """Queue 8 kHz 16-bit PCM for the line, waiting while the outbound buffer is full."""
        view = memoryview(pcm)
        while view:
            if self.ended:
                raise CallEnded(self.end_reason)
            taken = self.outbound.push(bytes(view))
            if taken:
                self._idle.clear()
            view = view[taken:]
            if view:
                self._room.clear()
                await self._room.wait()
        self.outbound.mark_end_of_utterance()

    def flush_output(self) -> int:
        """Drop everything not yet sent (barge-in); returns bytes dropped."""
        dropped = self.outbound.flush()
        self._idle.set()
        self._room.set()
        return dropped

    def pause_output(self) -> None:
        """Hold the queued speech: the clock sends silence until resume_output()."""
        self._paused = True

    def resume_output(self) -> None:
        self._paused = False

    def output_queued_s(self) -> float:
        return self.outbound.queued_bytes / (2.0 * self.sample_rate)

    async def wait_output_idle(self) -> None:
        """Return once everything queued has been sent, or the call ended."""
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
        self._onsets.append(future)
        return future

    def recent_output_dbfs(self) -> float | None:
        """Loudest of the last 200 ms of bot audio sent, or None if only silence was sent."""
        levels = [lv for lv in self._out_levels if lv is not None]
        return max(levels) if levels else None

    async def hangup(self, reason: str = "bridge hung up") -> None:
        """End the call from our side: AudioSocket hangup to Asterisk, then close."""
        if self.ended:
            return
        self._send_hangup()
        with contextlib.suppress(Exception):
            async with asyncio.timeout(self.options.write_timeout_s):
                await self._writer.drain()
        self._end(reason)
        if self.uuid is None:
            self._writer.close()  # run() is still in _await_uuid's read: EOF ends it now

    # -- the owner -------------------------------------------------------------

    async def run(self, app: AppHandler) -> None:
        """Serve the call until it ends, then cancel and await every task it started."""
        try:
            if not await self._await_uuid():
                return
            log.info("call %s: started from %s", self.name, self.peer)
            loop = asyncio.get_running_loop()
            self.schedule.start(loop.time())
            tasks = [
                asyncio.create_task(self._read_loop(), name=f"call-{self.name}-reader"),
                asyncio.create_task(self._media_clock(), name=f"call-{self.name}-clock"),
                asyncio.create_task(self._run_app(app), name=f"call-{self.name}-app"),
            ]
            try:
                await self._ended.wait()
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.wait(tasks, timeout=5.0)
        finally:
            self._end(self.end_reason or "bridge shutting down")
            self._writer.close()
            with contextlib.suppress(Exception):
                async with asyncio.timeout(1.0):
                    await self._writer.wait_closed()
            self._log_summary()

    async def _await_uuid(self) -> bool:
        try:
            async with asyncio.timeout(self.options.uuid_timeout_s):
                while True:
                    data = await self._reader.read(65536)
                    if not data:
                        self.protocol.receive_eof()
                    else:
                        self.protocol.receive_data(data)
                    for event in self.protocol.events_received():
                        if isinstance(event, CallUuid) and self.uuid is None:
                            self.uuid = event.uuid
                        else:
                            self._dispatch(event)
                    if self.ended:
                        return False
                    if self.uuid is not None:
                        return True
                    if not data:
                        self._end("connection closed before the call id (UUID) frame")
                        return False
        except TimeoutError:
            self._end(f"no call id (UUID) frame within {self.options.uuid_timeout_s:g} s")
            log.warning("call %s: %s", self.name, self.end_reason)
            return False

    async def _read_loop(self) -> None:
        reader, proto = self._reader, self.protocol
        while not self.ended:
            try:
                data = await reader.read(65536)
            except ConnectionError as exc:
                self._end(f"connection lost: {exc}")
                return
            if data:
                proto.receive_data(data)
            else:
                proto.receive_eof()
            for event in proto.events_received():
                self._dispatch(event)
            if not data:
                self._end("Asterisk closed the connection")
                return

    def _dispatch(self, event: object) -> None:
        if isinstance(event, Audio):
            if event.sample_rate != self.sample_rate:
                self._violation(f"audio at {event.sample_rate} Hz, expected {self.sample_rate} Hz")
                return
            self.inbound.push(event.pcm)
        elif isinstance(event, Dtmf):
            if self.events.full():
                self.events.get_nowait()
            self.events.put_nowait(ChannelDtmf(event.digit))
        elif isinstance(event, Hangup):
            self._end("caller hung up")
        elif isinstance(event, RemoteError):
            self._end(f"Asterisk reported error code {event.code}")
        elif isinstance(event, ProtocolViolation):
            self._violation(event.reason)
        elif isinstance(event, CallUuid):
            self._violation("second call id (UUID) frame")

    def _violation(self, reason: str) -> None:
        if self.ended:
            return
        log.error("call %s: protocol error from %s, closing: %s", self.name, self.peer, reason)
        self._send_hangup()
        self._end(f"protocol error: {reason}")

    async def _media_clock(self) -> None:
        loop = asyncio.get_running_loop()
        sched, out, proto, writer = self.schedule, self.outbound, self.protocol, self._writer
        while not self.ended:
            delay = sched.next_deadline() - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            if self.ended or proto.hangup_sent:
                return  # ended, or hangup() is draining: no frame may follow a hangup
            if self._paused:
                frame, speech = self._silence, False
            else:
                frame, speech = out.pop_frame()
            proto.send_audio(frame, PHONE_RATE)
            writer.write(proto.data_to_send())
            now = loop.time()
            sched.frame_sent(now)
            self._note_output(frame, speech, now)
            if not self._room.is_set() and out.free_bytes > 0:
                self._room.set()
            if out.queued_bytes == 0 and not self._idle.is_set():
                self._idle.set()
            caller = self.inbound.pop()
            if caller is not None:
                if self.audio_in.full():
                    self.audio_in.get_nowait()
                    self.audio_in_dropped += 1
                self.audio_in.put_nowait(caller)
            if writer.transport.get_write_buffer_size() > 64 * self.frame_bytes:
                try:
                    async with asyncio.timeout(self.options.write_timeout_s):
                        await writer.drain()
                except (TimeoutError, ConnectionError) as exc:
                    self._end(f"Asterisk stopped reading audio ({exc.__class__.__name__})")
                    return

    def _note_output(self, frame: bytes, speech: bool, now: float) -> None:
        level: float | None = None
        if speech:
            if self.first_speech_out is None:
                self.first_speech_out = now
            if self._onsets:
                for future in self._onsets:
                    if not future.done():
                        future.set_result(now)
                self._onsets.clear()
            a = np.frombuffer(frame, dtype=np.int16).astype(np.float32)
            rms = float(np.sqrt(np.mean(a * a)))
            level = 20.0 * math.log10(max(rms, 1e-3) / 32768.0)
        self._out_levels[self._out_level_i] = level
        self._out_level_i = (self._out_level_i + 1) % len(self._out_levels)

    async def _run_app(self, app: AppHandler) -> None:
        try:
            await app(self)
        except CallEnded:
            pass
        except Exception:
            log.exception("call %s: the call's app failed", self.name)
            await self.hangup("app error")

    def _send_hangup(self) -> None:
        if self._hangup_sent or self._writer.is_closing():
            return
        self._hangup_sent = True
        with contextlib.suppress(RuntimeError):
            self.protocol.send_hangup()
            self._writer.write(self.protocol.data_to_send())

    def _end(self, reason: str) -> None:
        if not self._ended.is_set():
            self.end_reason = reason
            self._ended.set()
            self._room.set()  # wake a blocked play(), which then sees the end
            for future in self._onsets:
                if not future.done():
                    future.cancel()
            self._onsets.clear()

    def _log_summary(self) -> None:
        s, a = self.schedule, self.inbound
        log.info(
            "call %s: ended (%s) after %.1f s; out %d frames (%d speech), max late %.1f ms, "
            "%d resyncs; in %d frames, absorber max depth %d, dropped %d, underruns %d, "
            "app-queue drops %d",
            self.name,
            self.end_reason,
            time.monotonic() - self.started_at,
            s.frames_sent,
            self.outbound.frames_speech,
            s.max_late_s * 1000,
            s.resyncs,
            a.frames_in,
            a.max_depth,
            a.dropped_frames,
            a.underruns,
            self.audio_in_dropped,
        )

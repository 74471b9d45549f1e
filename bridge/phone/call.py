"""One phone call on one AudioSocket connection: the thin asyncio shell around the pure parts.

Theory of operation. A call owns three tasks and cancels all of them when it
ends, whichever side ends it:

- the *reader* feeds socket bytes to the sans-I/O ``AudioSocketProtocol``
  and dispatches its events: caller audio (8 kHz, the wire's rate) into the
  ``BurstAbsorber``, DTMF
  into the bounded ``events`` queue, a hangup, an error or a protocol
  violation end the call (with one clear log line);
- the *media clock* wakes on absolute ``loop.time()`` (monotonic) deadlines,
  20 ms apart (``PacingSchedule``). Each tick it sends exactly one frame
  from ``OutboundAudio`` (silence when there is nothing to say: Asterisk hangs
  up after 2 s without data) and moves one steady frame of caller audio from
  the absorber to the bounded ``audio_in`` queue, resampled from 8 to 16 kHz
  (the brain's rate) by the call's one inbound resampler. One clock per call
  drives both directions, so there is no per-direction timer drift;
- the *app* (the greeter now, the brain later) is handed the call and talks
  through ``play()``, ``flush_output()``, ``audio_in``, ``events`` and
  ``hangup()``. ``play(pcm, rate)`` takes each utterance at its own rate
  (Piper's 22050 Hz) and resamples it once, straight to the wire's 8 kHz.

The wire side (absorber, ``OutboundAudio``, pacing) is all 8 kHz frames of
320 bytes; only ``audio_in`` is at 16 kHz (640-byte frames), as the brain's
``Channel`` protocol says (``ai/channel.py``).

Queues are bounded: ``audio_in`` drops its oldest frame when the app falls
behind (counted), ``play()`` waits for room in ``OutboundAudio``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid as uuidlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from ai.channel import Dtmf as ChannelDtmf
from bridge.media.channel_media import ChannelEnded, ChannelMedia, MediaChannel
from bridge.media.pacer import PacingSchedule, frame_bytes
from bridge.phone.audiosocket import (
    Audio,
    AudioSocketProtocol,
    CallUuid,
    Dtmf,
    Hangup,
    ProtocolViolation,
    RemoteError,
)

log = logging.getLogger(__name__)

PHONE_RATE = 8000  # the AudioSocket wire, both directions


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


# Raised by the call's API once the call is over.
CallEnded = ChannelEnded


AppHandler = Callable[["Call"], Awaitable[None]]


class Call(MediaChannel):
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
        self.wire_rate = PHONE_RATE
        self.frame_bytes = frame_bytes(PHONE_RATE)  # one 20 ms wire frame
        self.media = ChannelMedia(
            in_rate=PHONE_RATE,
            out_rate=PHONE_RATE,
            outbound_max_s=options.outbound_max_s,
            inbound_max_frames=options.inbound_max_frames,
            inbound_prefill_frames=options.inbound_prefill_frames,
            audio_in_max_frames=options.audio_in_max_frames,
        )
        self.inbound = self.media.inbound
        self.outbound = self.media.outbound
        self.schedule = PacingSchedule()
        self.events: asyncio.Queue[ChannelDtmf] = asyncio.Queue(options.events_max)
        self.started_at = time.monotonic()
        peer = writer.get_extra_info("peername")
        self.peer = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer)
        self._hangup_sent = False
        # Set by the app's wiring once it knows the call's Asterisk channel: sends that
        # channel on to a dialplan place (AMI Redirect); False when Asterisk refused.
        self.redirect: Callable[[str], Awaitable[bool]] | None = None
        self._leaving = ""  # the end reason while a transfer is under way

    # -- API for the app -------------------------------------------------------

    @property
    def name(self) -> str:
        return str(self.uuid) if self.uuid else self.peer

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

    @property
    def can_transfer(self) -> bool:  # type: ignore[override]
        return self.redirect is not None and not self.ended

    async def transfer(self, target: str) -> bool:
        """Send the caller on to ``target`` of the dialplan. Asterisk ends AudioSocket()
        itself (the channel leaves the application), so no hangup goes out: the call is
        over for the bridge, not for the caller."""
        if self.redirect is None or self.ended:
            return False
        # Asterisk may close AudioSocket before its answer to the Redirect reaches us: the
        # call then ends for this reason, not as "Asterisk closed the connection".
        self._leaving = f"transferred to {target}"
        try:
            moved = await self.redirect(target)
        finally:
            if not self.ended:
                self._leaving = ""
        if moved:
            self._end(f"transferred to {target}")
        return moved

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
                await self.media.wait_ended()
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
            if event.sample_rate != self.wire_rate:
                self._violation(f"audio at {event.sample_rate} Hz, expected {self.wire_rate} Hz")
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
        sched, media, proto, writer = self.schedule, self.media, self.protocol, self._writer
        while not self.ended:
            delay = sched.next_deadline() - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            if self.ended or proto.hangup_sent:
                return  # ended, or hangup() is draining: no frame may follow a hangup
            now = loop.time()
            proto.send_audio(media.tick(now), PHONE_RATE)
            writer.write(proto.data_to_send())
            sched.frame_sent(now)
            if writer.transport.get_write_buffer_size() > 64 * self.frame_bytes:
                try:
                    async with asyncio.timeout(self.options.write_timeout_s):
                        await writer.drain()
                except (TimeoutError, ConnectionError) as exc:
                    self._end(f"Asterisk stopped reading audio ({exc.__class__.__name__})")
                    return

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
        self.media.end(self._leaving or reason)

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

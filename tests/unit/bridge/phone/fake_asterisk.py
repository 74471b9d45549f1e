"""Helpers for the phone tests: a fake Asterisk and a tone on its 8 kHz wire.

The fake Asterisk is a plain asyncio client around the sans-I/O
``AudioSocketProtocol``: it sends what Asterisk sends (UUID, audio, DTMF) and
parses what the bridge answers (audio frames, hangup), stamping each message
with the loop time its bytes arrived.
"""

import asyncio
import uuid
from typing import Any

import numpy as np

from bridge.phone.audiosocket import Audio, AudioSocketProtocol, Event, Hangup

CALL_ID = uuid.UUID("0c9a2f58-3e5d-4d6b-9a51-6f0e3c1b2a77")
OTHER_CALL_ID = uuid.UUID("5b1d7e0a-9c44-4f2e-8d3b-2a6c0f9e1d55")
FRAME_S = 0.020  # one AudioSocket frame
FRAME_BYTES = 320  # 20 ms of 16-bit mono at 8 kHz
SILENCE = bytes(FRAME_BYTES)


def tone(seconds: float, freq_hz: float = 440.0, level: int = 8000) -> bytes:
    """A sine at 8 kHz as 16-bit little-endian PCM; only its first sample is zero."""
    t = np.arange(round(8000 * seconds)) / 8000
    return np.round(level * np.sin(2 * np.pi * freq_hz * t)).astype("<i2").tobytes()


def frames_of(pcm: bytes) -> list[bytes]:
    return [pcm[i : i + FRAME_BYTES] for i in range(0, len(pcm), FRAME_BYTES)]


def audio(events: list[Event]) -> list[bytes]:
    """The payloads of the audio events, in order."""
    return [e.pcm for e in events if isinstance(e, Audio)]


class FakeAsterisk:
    """The Asterisk end of one AudioSocket connection."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.proto = AudioSocketProtocol()
        self.eof = False

    @classmethod
    async def connect(cls, **kwargs: Any) -> "FakeAsterisk":
        """``asyncio.open_connection(**kwargs)``: a host and port, or ``sock=``."""
        reader, writer = await asyncio.open_connection(**kwargs)
        return cls(reader, writer)

    # -- sending: each call is one write, however many messages it holds

    def send_uuid(self, call_id: uuid.UUID = CALL_ID) -> None:
        self.proto.send_uuid(call_id)
        self._flush()

    def send_audio(self, *frames: bytes) -> None:
        for pcm in frames:
            self.proto.send_audio(pcm)
        self._flush()

    def send_dtmf(self, digit: str) -> None:
        self.proto.send_dtmf(digit)
        self._flush()

    def send_hangup(self) -> None:
        self.proto.send_hangup()
        self._flush()

    def send_raw(self, data: bytes) -> None:
        """Bytes the protocol would refuse to produce: malformed frames."""
        self.writer.write(data)

    def _flush(self) -> None:
        self.writer.write(self.proto.data_to_send())

    async def close(self) -> None:
        self.writer.close()
        try:
            await self.writer.wait_closed()
        except ConnectionError:
            pass  # the bridge reset the connection first: closed either way

    # -- receiving

    async def _read(self) -> list[tuple[float, Event]]:
        data = await self.reader.read(65536)
        now = asyncio.get_running_loop().time()
        if data:
            self.proto.receive_data(data)
        else:
            self.proto.receive_eof()
            self.eof = True
        return [(now, event) for event in self.proto.events_received()]

    async def receive_timed(self, seconds: float) -> list[tuple[float, Event]]:
        """What the bridge sends within ``seconds`` (less if it closes), with arrival times."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        received: list[tuple[float, Event]] = []
        while not self.eof:
            try:
                async with asyncio.timeout_at(deadline):
                    received += await self._read()
            except TimeoutError:
                break
        return received

    async def receive(self, seconds: float) -> list[Event]:
        return [event for _, event in await self.receive_timed(seconds)]

    async def receive_frames(self, n: int, within_s: float = 1.0) -> list[bytes]:
        """Read until at least ``n`` audio frames came; fail on anything else."""
        frames: list[bytes] = []
        async with asyncio.timeout(within_s):
            while len(frames) < n:
                for _, event in await self._read():
                    assert isinstance(event, Audio), event
                    frames.append(event.pcm)
                assert not self.eof, f"the bridge closed the connection after {len(frames)} frames"
        return frames

    async def receive_until_closed(self, within_s: float = 1.0) -> list[Event]:
        """Everything the bridge sends until it closes the connection, which it must."""
        events: list[Event] = []
        async with asyncio.timeout(within_s):
            while not self.eof:
                events += [event for _, event in await self._read()]
        return events


def assert_hung_up(events: list[Event]) -> None:
    """The bridge's last word was a hangup, and nothing it sent broke the protocol."""
    assert events, "the bridge sent nothing before closing"
    assert isinstance(events[-1], Hangup), events[-1]
    assert all(isinstance(e, Audio) for e in events[:-1]), events

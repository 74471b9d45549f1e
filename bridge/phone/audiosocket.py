"""Sans-I/O implementation of Asterisk's AudioSocket protocol.

Theory of operation
===================

AudioSocket is a TCP stream of messages, each one ``kind`` (1 byte), ``length``
(2 bytes, big-endian) and ``length`` bytes of payload. Asterisk connects to us,
sends the call's UUID, then 20 ms frames of 16-bit little-endian mono PCM; we
answer with audio of our own and may ask for a hangup.

:class:`AudioSocketProtocol` does no I/O. The asyncio shell around it feeds
whatever bytes the socket produced to :meth:`~AudioSocketProtocol.receive_data`
(any split: one byte or a hundred frames at a time), calls
:meth:`~AudioSocketProtocol.receive_eof` when the peer closes, and collects
parsed messages with :meth:`~AudioSocketProtocol.events_received`. Outbound,
``send_*`` methods queue encoded bytes that the shell writes after calling
:meth:`~AudioSocketProtocol.data_to_send`. Keeping I/O out makes every rule
below testable by feeding bytes and asserting events.

The protocol has two states. It is OPEN until the peer sends a Hangup, the
stream ends, or the input breaks a rule; then it is CLOSED and ignores any
further input. Input never raises: a broken rule becomes exactly one
:class:`ProtocolViolation` event (the peer is misbehaving, not our caller), and
the shell decides what to do (log, send a hangup, close). The checks that can
be made on the 3-byte header alone (unknown kind, length over the cap, wrong
length for a fixed-size kind) are made as soon as the header is in, so a peer
announcing 60 kB cannot make us buffer them.

Parsing walks a ``bytearray`` with an offset and deletes the consumed prefix
once per :meth:`~AudioSocketProtocol.receive_data` call; CPython trims a
bytearray's front in O(1), and what remains is always less than one frame, so
the cost stays linear in the bytes received however the stream is split.

Audio kinds 0x11-0x18 and their rates were checked against Asterisk's
``include/asterisk/res_audiosocket.h`` (commit ff0523a3d0, "res_audiosocket:
add message types for all slin sample rates", October 2025). Older Asterisk
only sends 0x10 (8 kHz), which is what the ``AudioSocket()`` dialplan
application uses. Asterisk itself never sends HANGUP or ERROR messages (it
just closes the socket, which is an EOF here); we parse them anyway so that a
fake Asterisk in tests, or a future one, can use them.
"""

import enum
import uuid
from dataclasses import dataclass
from typing import TypeAlias


class Kind(enum.IntEnum):
    """Message kinds (``enum ast_audiosocket_msg_kind`` in Asterisk)."""

    HANGUP = 0x00
    UUID = 0x01
    DTMF = 0x03
    AUDIO = 0x10  # slin, 8 kHz
    AUDIO_12K = 0x11
    AUDIO_16K = 0x12
    AUDIO_24K = 0x13
    AUDIO_32K = 0x14
    AUDIO_44K = 0x15  # 44.1 kHz
    AUDIO_48K = 0x16
    AUDIO_96K = 0x17
    AUDIO_192K = 0x18
    ERROR = 0xFF


class ErrorCode(enum.IntEnum):
    """Codes Asterisk may put in the payload of an ERROR message."""

    NONE = 0x00
    HANGUP = 0x01
    FRAME_FORWARDING = 0x02
    MEMORY = 0x03


class State(enum.Enum):
    """OPEN until a Hangup, the end of the stream or a violation; then CLOSED."""

    OPEN = enum.auto()
    CLOSED = enum.auto()


#: Audio kind -> sample rate in Hz. Every audio kind is 16-bit signed LE mono.
AUDIO_RATES: dict[int, int] = {
    Kind.AUDIO: 8000,
    Kind.AUDIO_12K: 12000,
    Kind.AUDIO_16K: 16000,
    Kind.AUDIO_24K: 24000,
    Kind.AUDIO_32K: 32000,
    Kind.AUDIO_44K: 44100,
    Kind.AUDIO_48K: 48000,
    Kind.AUDIO_96K: 96000,
    Kind.AUDIO_192K: 192000,
}
#: Sample rate in Hz -> audio kind (the inverse of :data:`AUDIO_RATES`).
AUDIO_KINDS: dict[int, int] = {rate: kind for kind, rate in AUDIO_RATES.items()}

#: The digits Asterisk reports in a DTMF message.
DTMF_DIGITS = frozenset("0123456789*#ABCD")

#: Hard cap on a payload. 20 ms at 192 kHz is 7680 bytes; nothing legitimate is larger.
DEFAULT_MAX_PAYLOAD = 8192

_HEADER = 3
_MAX_LENGTH = 0xFFFF  # what the 2-byte length field can carry
_FIXED_LENGTH: dict[int, int] = {Kind.HANGUP: 0, Kind.UUID: 16, Kind.DTMF: 1}
_KNOWN_KINDS = frozenset(Kind)
_DTMF_LIST = "0-9, *, #, A-D"


@dataclass(frozen=True)
class CallUuid:
    """The call's identifier, the first message of every connection."""

    uuid: uuid.UUID


@dataclass(frozen=True)
class Audio:
    """16-bit signed little-endian mono PCM at ``sample_rate`` Hz."""

    pcm: bytes
    sample_rate: int


@dataclass(frozen=True)
class Dtmf:
    """One key the caller pressed: a character of :data:`DTMF_DIGITS`."""

    digit: str


@dataclass(frozen=True)
class Hangup:
    """The peer ended the call; nothing may follow it."""


@dataclass(frozen=True)
class RemoteError:
    """Asterisk reported an error; ``code`` is an :class:`ErrorCode` value or None.

    It does not close the protocol: Asterisk normally closes the socket next,
    and the application decides whether to give up earlier.
    """

    code: int | None


@dataclass(frozen=True)
class ProtocolViolation:
    """The input broke the protocol; the protocol is now CLOSED."""

    reason: str


Event: TypeAlias = CallUuid | Audio | Dtmf | Hangup | RemoteError | ProtocolViolation


def _describe(kind: int) -> str:
    try:
        return f"0x{kind:02x} ({Kind(kind).name})"
    except ValueError:
        return f"0x{kind:02x}"


class AudioSocketProtocol:
    """One AudioSocket connection, either side, without I/O."""

    def __init__(self, max_payload: int = DEFAULT_MAX_PAYLOAD) -> None:
        if not 16 <= max_payload <= _MAX_LENGTH:
            raise ValueError(f"max_payload must be in 16..{_MAX_LENGTH}, got {max_payload}")
        self.max_payload = max_payload
        self.bytes_received = 0
        self.frames_received = 0
        self._state = State.OPEN
        self._inbuf = bytearray()
        self._events: list[Event] = []
        self._outbuf = bytearray()
        self._hangup_received = False
        self._hangup_sent = False
        # Set once closed by a violation or EOF: all input is dropped. A received Hangup
        # closes too, but data after it is still reported once, as a violation.
        self._ignoring = False

    @property
    def state(self) -> State:
        return self._state

    @property
    def hangup_sent(self) -> bool:
        """True once :meth:`send_hangup` queued a Hangup; the state stays OPEN until
        Asterisk closes the socket, so audio already in flight still parses."""
        return self._hangup_sent

    # -- receiving ---------------------------------------------------------------------

    def receive_data(self, data: bytes) -> None:
        """Parse ``data``, which may hold any part of any number of messages."""
        if self._ignoring or not data:
            return
        self.bytes_received += len(data)
        if self._hangup_received:
            self._violation(f"{len(data)} bytes received after hangup")
            return
        self._inbuf += data
        self._parse()

    def receive_eof(self) -> None:
        """Record that the peer closed its side of the stream."""
        if self._ignoring:
            return
        pending = len(self._inbuf)
        if pending:
            if pending < _HEADER:
                detail = f"got {pending} of {_HEADER} header bytes"
            else:
                kind = self._inbuf[0]
                total = _HEADER + int.from_bytes(self._inbuf[1:3], "big")
                detail = f"kind {_describe(kind)}, got {pending} of {total} bytes"
            self._violation(f"truncated frame at end of stream: {detail}")
            return
        self._state = State.CLOSED
        self._ignoring = True

    def events_received(self) -> list[Event]:
        """Return the events parsed since the last call, oldest first."""
        events, self._events = self._events, []
        return events

    def _parse(self) -> None:
        buf = self._inbuf
        end = len(buf)
        pos = 0
        with memoryview(buf) as view:
            while end - pos >= _HEADER:
                kind = buf[pos]
                length = (buf[pos + 1] << 8) | buf[pos + 2]
                reason = self._check_header(kind, length)
                if reason is not None:
                    self._violation(reason)
                    return
                if end - pos - _HEADER < length:
                    break  # wait for the rest of the payload
                start = pos + _HEADER
                pos = start + length
                event = self._decode(kind, bytes(view[start:pos]))
                if isinstance(event, ProtocolViolation):
                    self._violation(event.reason)
                    return
                self.frames_received += 1
                self._events.append(event)
                if isinstance(event, Hangup):
                    self._hangup_received = True
                    self._state = State.CLOSED
                    if pos < end:
                        self._violation(f"{end - pos} bytes received after hangup")
                        return
        del buf[:pos]

    def _check_header(self, kind: int, length: int) -> str | None:
        """Return why a header is unacceptable, or None; needs no payload."""
        if kind in AUDIO_RATES:  # the hot path: 50 times a second per call
            if 0 < length <= self.max_payload and not length & 1:
                return None
        elif kind not in _KNOWN_KINDS:
            return f"unknown message kind {_describe(kind)} (payload length {length})"
        name = _describe(kind)
        if length > self.max_payload:
            return f"kind {name}: payload length {length} exceeds the limit of {self.max_payload}"
        expected = _FIXED_LENGTH.get(kind)
        if expected is not None and length != expected:
            return f"kind {name}: payload length must be {expected}, got {length}"
        if kind in AUDIO_RATES:
            what = "empty" if length == 0 else "odd"
            return f"kind {name}: {what} audio payload length {length}, need whole 16-bit samples"
        return None

    @staticmethod
    def _decode(kind: int, payload: bytes) -> Event:
        """Turn a complete message whose header passed the checks into an event."""
        if kind in AUDIO_RATES:
            return Audio(payload, AUDIO_RATES[kind])
        if kind == Kind.UUID:
            return CallUuid(uuid.UUID(bytes=payload))
        if kind == Kind.DTMF:
            digit = chr(payload[0])
            if digit not in DTMF_DIGITS:
                return ProtocolViolation(
                    f"kind {_describe(kind)}: invalid DTMF byte 0x{payload[0]:02x}, "
                    f"expected one of {_DTMF_LIST}"
                )
            return Dtmf(digit)
        if kind == Kind.HANGUP:
            return Hangup()
        # ERROR: the code is optional; extra bytes are tolerated, it is a last word anyway.
        return RemoteError(payload[0] if payload else None)

    def _violation(self, reason: str) -> None:
        """Report the one violation, close, and drop all input from now on."""
        self._events.append(ProtocolViolation(reason))
        self._state = State.CLOSED
        self._ignoring = True
        self._inbuf = bytearray()  # rebinding: a memoryview may still hold the old one

    # -- sending -----------------------------------------------------------------------

    def send_audio(self, pcm: bytes, sample_rate: int = 8000) -> None:
        """Queue one audio message of 16-bit LE mono PCM at ``sample_rate`` Hz."""
        kind = AUDIO_KINDS.get(sample_rate)
        if kind is None:
            known = ", ".join(str(rate) for rate in sorted(AUDIO_KINDS))
            raise ValueError(f"no AudioSocket audio kind for {sample_rate} Hz; known: {known}")
        n = len(pcm)
        if n == 0 or n % 2:
            # Asterisk rejects an empty frame and ends the call.
            raise ValueError(f"audio payload must be a positive even length, got {n}")
        if n > self.max_payload:
            raise ValueError(f"audio payload of {n} bytes exceeds the limit of {self.max_payload}")
        self._send(kind, pcm)

    def send_hangup(self) -> None:
        """Queue a hangup request; later calls, or one after the peer left, do nothing.

        It is accepted after a violation closed the protocol: asking Asterisk to hang
        up is the right last word to a misbehaving peer.
        """
        if self._hangup_sent or self._hangup_received:
            return
        self._hangup_sent = True
        self._outbuf += bytes((Kind.HANGUP, 0, 0))

    def send_uuid(self, u: uuid.UUID) -> None:
        """Queue a UUID message (Asterisk's side; for tests and fake peers)."""
        self._send(Kind.UUID, u.bytes)

    def send_dtmf(self, digit: str) -> None:
        """Queue a DTMF message (Asterisk's side; for tests and fake peers)."""
        if len(digit) != 1 or digit not in DTMF_DIGITS:
            raise ValueError(f"DTMF digit must be one of {_DTMF_LIST}, got {digit!r}")
        self._send(Kind.DTMF, digit.encode("ascii"))

    def send_error(self, code: int | None = None) -> None:
        """Queue an ERROR message with an optional one-byte code."""
        if code is not None and not 0 <= code <= 0xFF:
            raise ValueError(f"error code must fit in one byte, got {code}")
        self._send(Kind.ERROR, b"" if code is None else bytes((code,)))

    def data_to_send(self) -> bytes:
        """Return the bytes queued by ``send_*`` since the last call."""
        data = bytes(self._outbuf)
        self._outbuf.clear()
        return data

    def _send(self, kind: int, payload: bytes) -> None:
        if self._state is State.CLOSED:
            raise RuntimeError("cannot send: the AudioSocket connection is closed")
        if self._hangup_sent:
            raise RuntimeError("cannot send: hangup already sent")
        self._outbuf += bytes((kind,)) + len(payload).to_bytes(2, "big")
        self._outbuf += payload

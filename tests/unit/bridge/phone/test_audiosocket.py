"""Feed bytes to the sans-I/O AudioSocket protocol and assert the events."""

import uuid

import pytest

from bridge.phone.audiosocket import (
    AUDIO_KINDS,
    AUDIO_RATES,
    DEFAULT_MAX_PAYLOAD,
    Audio,
    AudioSocketProtocol,
    CallUuid,
    Dtmf,
    Event,
    Hangup,
    Kind,
    ProtocolViolation,
    RemoteError,
    State,
)

CALL_ID = uuid.UUID("0c9a2f58-3e5d-4d6b-9a51-6f0e3c1b2a77")
PCM = bytes(range(256)) + bytes(64)  # 320 bytes: one 20 ms frame at 8 kHz


def frame(kind: int, payload: bytes = b"") -> bytes:
    return bytes((kind,)) + len(payload).to_bytes(2, "big") + payload


def feed(data: bytes, *, chunk: int | None = None, eof: bool = False) -> list[Event]:
    proto = AudioSocketProtocol()
    step = chunk or max(len(data), 1)
    for i in range(0, len(data), step):
        proto.receive_data(data[i : i + step])
    if eof:
        proto.receive_eof()
    return proto.events_received()


def assert_one_violation(events: list[Event], *words: str) -> None:
    """Everything before the violation is fine; the violation is last and alone."""
    violations = [e for e in events if isinstance(e, ProtocolViolation)]
    assert len(violations) == 1, events
    assert events[-1] is violations[0]
    for word in words:
        assert word in violations[0].reason, violations[0].reason


# -- tables ----------------------------------------------------------------------------


def test_audio_kinds_match_asterisk() -> None:
    assert AUDIO_RATES[0x10] == 8000
    assert AUDIO_RATES[0x11] == 12000
    assert AUDIO_RATES[0x12] == 16000
    assert AUDIO_RATES[0x15] == 44100
    assert AUDIO_RATES[0x18] == 192000
    assert {AUDIO_KINDS[rate] for rate in AUDIO_RATES.values()} == set(AUDIO_RATES)


def test_max_payload_fits_20_ms_at_the_highest_rate() -> None:
    assert DEFAULT_MAX_PAYLOAD >= 192000 // 50 * 2


# -- every kind ------------------------------------------------------------------------


def test_uuid() -> None:
    assert feed(frame(Kind.UUID, CALL_ID.bytes)) == [CallUuid(CALL_ID)]


@pytest.mark.parametrize("kind", sorted(AUDIO_RATES))
def test_audio_at_every_rate(kind: int) -> None:
    assert feed(frame(kind, PCM)) == [Audio(PCM, AUDIO_RATES[kind])]


@pytest.mark.parametrize("digit", list("0123456789*#ABCD"))
def test_dtmf(digit: str) -> None:
    assert feed(frame(Kind.DTMF, digit.encode())) == [Dtmf(digit)]


def test_hangup_closes() -> None:
    proto = AudioSocketProtocol()
    proto.receive_data(frame(Kind.HANGUP))
    assert proto.events_received() == [Hangup()]
    assert proto.state is State.CLOSED


@pytest.mark.parametrize(("payload", "code"), [(b"", None), (b"\x02", 2), (b"\x03\x00", 3)])
def test_error(payload: bytes, code: int | None) -> None:
    assert feed(frame(Kind.ERROR, payload)) == [RemoteError(code)]


# -- splitting -------------------------------------------------------------------------

CALL = (
    frame(Kind.UUID, CALL_ID.bytes)
    + frame(Kind.AUDIO, PCM) * 3
    + frame(Kind.DTMF, b"5")
    + frame(Kind.AUDIO_16K, PCM * 2)
    + frame(Kind.ERROR, b"\x01")
    + frame(Kind.HANGUP)
)
CALL_EVENTS = [
    CallUuid(CALL_ID),
    Audio(PCM, 8000),
    Audio(PCM, 8000),
    Audio(PCM, 8000),
    Dtmf("5"),
    Audio(PCM * 2, 16000),
    RemoteError(1),
    Hangup(),
]


def test_many_frames_in_one_chunk() -> None:
    assert feed(CALL) == CALL_EVENTS


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 322, 1000])
def test_any_split_gives_the_same_events(chunk: int) -> None:
    assert feed(CALL, chunk=chunk) == CALL_EVENTS


def test_events_appear_as_soon_as_a_frame_is_complete() -> None:
    proto = AudioSocketProtocol()
    data = frame(Kind.AUDIO, PCM)
    proto.receive_data(data[:-1])
    assert proto.events_received() == []
    proto.receive_data(data[-1:])
    assert proto.events_received() == [Audio(PCM, 8000)]
    assert proto.events_received() == []


def test_counters() -> None:
    proto = AudioSocketProtocol()
    proto.receive_data(CALL[:100])
    proto.receive_data(CALL[100:])
    assert proto.bytes_received == len(CALL)
    assert proto.frames_received == len(CALL_EVENTS)


def test_clean_eof_closes_without_event() -> None:
    proto = AudioSocketProtocol()
    proto.receive_data(frame(Kind.AUDIO, PCM))
    proto.receive_eof()
    assert proto.events_received() == [Audio(PCM, 8000)]
    assert proto.state is State.CLOSED
    proto.receive_data(frame(Kind.AUDIO, PCM))  # ignored
    proto.receive_eof()
    assert proto.events_received() == []


# -- malformed input -------------------------------------------------------------------

AUDIO_OK = frame(Kind.AUDIO, PCM)


@pytest.mark.parametrize(
    ("bad", "words"),
    [
        (b"\x42\x00\x01x", ["unknown", "0x42"]),
        (frame(Kind.UUID, CALL_ID.bytes[:15]), ["0x01", "16", "15"]),
        (frame(Kind.DTMF), ["0x03", "must be 1", "got 0"]),
        (frame(Kind.DTMF, b"x"), ["DTMF", "0x78"]),
        (frame(Kind.DTMF, b"12"), ["0x03", "got 2"]),
        (frame(Kind.AUDIO, PCM[:-1]), ["0x10", "odd", "319"]),
        (frame(Kind.AUDIO), ["0x10", "empty"]),
        (frame(Kind.HANGUP, b"\x00"), ["0x00", "must be 0", "got 1"]),
    ],
)
def test_malformed_frame(bad: bytes, words: list[str]) -> None:
    # Good audio before is delivered; anything after the violation is ignored.
    for chunk in (None, 1):
        events = feed(AUDIO_OK + bad + AUDIO_OK, chunk=chunk, eof=True)
        assert events[0] == Audio(PCM, 8000)
        assert len(events) == 2
        assert_one_violation(events, *words)


def test_oversized_length_is_rejected_from_the_header_alone() -> None:
    proto = AudioSocketProtocol()
    proto.receive_data(b"\x10\x20")
    assert proto.events_received() == []
    proto.receive_data(b"\x01")  # 0x2001 = 8193 bytes announced, none sent yet
    events = proto.events_received()
    assert_one_violation(events, "0x10", "8193", "8192")
    assert proto.state is State.CLOSED
    proto.receive_data(bytes(8193) + AUDIO_OK)
    proto.receive_eof()
    assert proto.events_received() == []


def test_max_payload_is_configurable() -> None:
    proto = AudioSocketProtocol(max_payload=320)
    proto.receive_data(frame(Kind.AUDIO, PCM) + frame(Kind.AUDIO, PCM + b"\x00\x00"))
    events = proto.events_received()
    assert events[0] == Audio(PCM, 8000)
    assert_one_violation(events, "322", "320")


@pytest.mark.parametrize("chunk", [None, 1])
def test_data_after_hangup_in_the_same_chunk(chunk: int | None) -> None:
    events = feed(frame(Kind.HANGUP) + AUDIO_OK + AUDIO_OK, chunk=chunk, eof=True)
    assert events[0] == Hangup()
    assert len(events) == 2
    assert_one_violation(events, "after hangup")


def test_data_after_hangup_in_a_later_chunk() -> None:
    proto = AudioSocketProtocol()
    proto.receive_data(frame(Kind.HANGUP))
    proto.receive_data(b"\x10")
    proto.receive_data(AUDIO_OK)
    proto.receive_eof()
    events = proto.events_received()
    assert events[0] == Hangup()
    assert_one_violation(events, "1 bytes", "after hangup")


@pytest.mark.parametrize(
    ("tail", "words"),
    [
        (b"\x10", ["got 1 of 3 header bytes"]),
        (b"\x10\x01", ["got 2 of 3 header bytes"]),
        (AUDIO_OK[:3], ["0x10", "got 3 of 323 bytes"]),
        (AUDIO_OK[:-1], ["0x10", "got 322 of 323 bytes"]),
    ],
)
def test_truncated_frame_at_eof(tail: bytes, words: list[str]) -> None:
    proto = AudioSocketProtocol()
    proto.receive_data(AUDIO_OK + tail)
    proto.receive_eof()
    events = proto.events_received()
    assert events[0] == Audio(PCM, 8000)
    assert_one_violation(events, "truncated", *words)
    assert proto.state is State.CLOSED


# -- sending ---------------------------------------------------------------------------


def test_send_audio_bytes() -> None:
    proto = AudioSocketProtocol()
    proto.send_audio(b"\x01\x02", 16000)
    assert proto.data_to_send() == b"\x12\x00\x02\x01\x02"
    assert proto.data_to_send() == b""


def test_round_trip() -> None:
    asterisk, bridge = AudioSocketProtocol(), AudioSocketProtocol()
    asterisk.send_uuid(CALL_ID)
    asterisk.send_audio(PCM)
    asterisk.send_dtmf("#")
    asterisk.send_audio(PCM * 3, 48000)
    asterisk.send_error(0x02)
    asterisk.send_error()
    asterisk.send_hangup()
    bridge.receive_data(asterisk.data_to_send())
    assert bridge.events_received() == [
        CallUuid(CALL_ID),
        Audio(PCM, 8000),
        Dtmf("#"),
        Audio(PCM * 3, 48000),
        RemoteError(2),
        RemoteError(None),
        Hangup(),
    ]


@pytest.mark.parametrize(
    ("pcm", "rate"),
    [(b"\x00", 8000), (b"", 8000), (bytes(8194), 8000), (b"\x00\x00", 22050)],
)
def test_send_audio_rejects(pcm: bytes, rate: int) -> None:
    with pytest.raises(ValueError):
        AudioSocketProtocol().send_audio(pcm, rate)


def test_send_audio_respects_max_payload() -> None:
    proto = AudioSocketProtocol(max_payload=320)
    proto.send_audio(PCM)
    with pytest.raises(ValueError):
        proto.send_audio(PCM + b"\x00\x00")


def test_send_rejects_bad_dtmf_and_error_code() -> None:
    proto = AudioSocketProtocol()
    for digit in ("", "x", "12", "a"):
        with pytest.raises(ValueError):
            proto.send_dtmf(digit)
    with pytest.raises(ValueError):
        proto.send_error(256)


def test_send_hangup_is_idempotent_and_ends_sending() -> None:
    proto = AudioSocketProtocol()
    proto.send_hangup()
    proto.send_hangup()
    assert proto.data_to_send() == b"\x00\x00\x00"
    assert proto.hangup_sent
    assert proto.state is State.OPEN  # audio in flight from Asterisk still parses
    proto.receive_data(AUDIO_OK)
    assert proto.events_received() == [Audio(PCM, 8000)]
    with pytest.raises(RuntimeError):
        proto.send_audio(PCM)


def test_send_after_close_raises() -> None:
    proto = AudioSocketProtocol()
    proto.receive_data(frame(Kind.HANGUP))
    with pytest.raises(RuntimeError):
        proto.send_audio(PCM)
    with pytest.raises(RuntimeError):
        proto.send_uuid(CALL_ID)
    proto.send_hangup()  # the peer already left: nothing to say, no error
    assert proto.data_to_send() == b""


def test_send_hangup_after_violation() -> None:
    proto = AudioSocketProtocol()
    proto.receive_data(b"\x42\x00\x00")
    with pytest.raises(RuntimeError):
        proto.send_audio(PCM)
    proto.send_hangup()  # telling Asterisk to hang up is still possible
    assert proto.data_to_send() == b"\x00\x00\x00"


def test_invalid_max_payload() -> None:
    with pytest.raises(ValueError):
        AudioSocketProtocol(max_payload=70000)

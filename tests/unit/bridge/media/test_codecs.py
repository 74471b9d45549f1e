"""G.711 and linear codecs: known values, round-trip quality, registry."""

from collections.abc import Callable

import numpy as np
import pytest

from bridge.media.codecs import (
    CODECS,
    alaw_decode,
    alaw_encode,
    get_codec,
    ulaw_decode,
    ulaw_encode,
)


def sine(freq_hz: float = 1000.0, rate: int = 8000, seconds: float = 0.5) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return np.round(0.5 * 32767 * np.sin(2 * np.pi * freq_hz * t)).astype("<i2")


def snr_db(reference: np.ndarray, decoded: np.ndarray) -> float:
    ref = reference.astype(np.float64)
    noise = decoded.astype(np.float64) - ref
    return 10 * np.log10(np.sum(ref**2) / np.sum(noise**2))


def test_known_values_of_silence() -> None:
    assert ulaw_encode(b"\x00\x00") == b"\xff"
    assert alaw_encode(b"\x00\x00") == b"\xd5"
    assert ulaw_decode(b"\xff") == b"\x00\x00"


def test_known_values_of_extremes() -> None:
    assert ulaw_encode((32767).to_bytes(2, "little", signed=True)) == b"\x80"
    assert ulaw_encode((-32768).to_bytes(2, "little", signed=True)) == b"\x00"
    assert alaw_encode((32767).to_bytes(2, "little", signed=True)) == b"\xaa"


@pytest.mark.parametrize(
    ("encode", "decode"), [(ulaw_encode, ulaw_decode), (alaw_encode, alaw_decode)]
)
def test_g711_round_trip_snr(
    encode: Callable[[bytes], bytes], decode: Callable[[bytes], bytes]
) -> None:
    pcm = sine()
    coded = encode(pcm.tobytes())
    assert len(coded) == len(pcm)
    decoded = np.frombuffer(decode(coded), dtype="<i2")
    assert snr_db(pcm, decoded) > 30


@pytest.mark.parametrize("name", ["ulaw", "alaw", "slin16"])
def test_registry_round_trip(name: str) -> None:
    codec = CODECS[name]
    pcm = sine().tobytes()
    coded = codec.encode(pcm)
    assert len(coded) == len(pcm) // 2 * codec.bytes_per_sample
    assert len(codec.decode(coded)) == len(pcm)


def test_slin_is_identity() -> None:
    pcm = bytes(range(256))
    codec = get_codec("slin16")
    assert codec.encode(pcm) == pcm
    assert codec.decode(pcm) == pcm


@pytest.mark.parametrize("name", ["slin16", "ulaw", "alaw"])
def test_odd_pcm_is_rejected(name: str) -> None:
    with pytest.raises(ValueError, match="even"):
        get_codec(name).encode(b"\x00\x00\x00")


def test_slin_decode_rejects_odd_length() -> None:
    with pytest.raises(ValueError):
        get_codec("slin16").decode(b"\x00")


def test_aliases_and_case() -> None:
    assert get_codec("PCMU") is get_codec("ulaw")
    assert get_codec("pcma") is get_codec("alaw")
    assert get_codec("ulaw").name == "ulaw"


def test_unknown_codec_lists_known_names() -> None:
    with pytest.raises(KeyError, match="opus") as info:
        get_codec("opus")
    for name in ("ulaw", "alaw", "slin16"):
        assert name in str(info.value)

"""G.711 (μ-law, A-law) and 16-bit linear codecs, as bytes in and bytes out.

Everything inside the bridge is 16-bit signed little-endian mono PCM ("slin16",
what AudioSocket carries); a codec only matters at an edge that speaks G.711
(an RTP leg, a μ-law WAV for a test caller). The work is done by ``audioop``:
C speed and the exact ITU tables, with nothing to maintain here. It left the
standard library in Python 3.13, where the ``audioop-lts`` package provides the
same module; on 3.11 and 3.12 importing it warns, which we silence below.

``audioop`` works in native byte order, so on a big-endian host the linear side
is byte-swapped to keep our little-endian contract.
"""

import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop

_SWAP = sys.byteorder != "little"


def _check_pcm(pcm: bytes) -> None:
    if len(pcm) % 2:
        raise ValueError(f"16-bit PCM must have an even length, got {len(pcm)} bytes")


def _to_native(pcm: bytes) -> bytes:
    _check_pcm(pcm)
    return audioop.byteswap(pcm, 2) if _SWAP else pcm


def _from_native(pcm: bytes) -> bytes:
    return audioop.byteswap(pcm, 2) if _SWAP else pcm


def ulaw_encode(pcm: bytes) -> bytes:
    """16-bit LE PCM -> G.711 μ-law, one byte per sample."""
    return audioop.lin2ulaw(_to_native(pcm), 2)


def ulaw_decode(data: bytes) -> bytes:
    """G.711 μ-law -> 16-bit LE PCM."""
    return _from_native(audioop.ulaw2lin(data, 2))


def alaw_encode(pcm: bytes) -> bytes:
    """16-bit LE PCM -> G.711 A-law, one byte per sample."""
    return audioop.lin2alaw(_to_native(pcm), 2)


def alaw_decode(data: bytes) -> bytes:
    """G.711 A-law -> 16-bit LE PCM."""
    return _from_native(audioop.alaw2lin(data, 2))


def slin_encode(pcm: bytes) -> bytes:
    """Identity, after checking that ``pcm`` holds whole 16-bit samples."""
    _check_pcm(pcm)
    return bytes(pcm)


slin_decode = slin_encode


@dataclass(frozen=True)
class Codec:
    """A named way to turn 16-bit LE PCM into wire bytes and back."""

    name: str
    bytes_per_sample: int
    encode: Callable[[bytes], bytes]
    decode: Callable[[bytes], bytes]


SLIN16 = Codec("slin16", 2, slin_encode, slin_decode)
ULAW = Codec("ulaw", 1, ulaw_encode, ulaw_decode)
ALAW = Codec("alaw", 1, alaw_encode, alaw_decode)

#: Codecs by name, with the RTP names PCMU and PCMA as aliases.
CODECS: dict[str, Codec] = {
    "slin16": SLIN16,
    "ulaw": ULAW,
    "pcmu": ULAW,
    "alaw": ALAW,
    "pcma": ALAW,
}


def get_codec(name: str) -> Codec:
    """Look a codec up by name, case-insensitively (SDP says "PCMU")."""
    try:
        return CODECS[name.lower()]
    except KeyError:
        known = ", ".join(sorted(CODECS))
        raise KeyError(f"unknown codec {name!r}; known codecs: {known}") from None

"""Conversions between aiortc's ``av.AudioFrame`` and the bridge's 16-bit mono PCM bytes.

Why a module of its own: the browser side speaks PyAV frames (Opus decoded by
aiortc to 48 kHz, usually *stereo* packed ``s16``; other codecs give mono, and
PyAV can hand out planar layouts), while everything else in the bridge speaks
plain little-endian mono bytes. Keeping the conversion pure (no asyncio, no
peer connection) lets the tests check it sample by sample.
"""

from __future__ import annotations

import fractions

import av
import numpy as np

_LE_INT16 = np.dtype("<i2")


def downmix_s16(samples: np.ndarray, channels: int, planar: bool) -> bytes:
    """Average ``channels`` channels of int16 samples into mono little-endian bytes.

    ``samples`` is what ``AudioFrame.to_ndarray()`` returns: shape
    ``(channels, n)`` when planar, ``(1, n * channels)`` (interleaved) when packed.
    The sum is taken in int32 so two full-scale channels cannot wrap around.
    """
    if channels < 1:
        raise ValueError(f"channels must be at least 1, got {channels}")
    if channels == 1:
        return np.ascontiguousarray(samples.reshape(-1), dtype=_LE_INT16).tobytes()
    wide = samples.astype(np.int32)
    per_channel = wide.reshape(channels, -1) if planar else wide.reshape(-1, channels).T
    mono = per_channel.sum(axis=0) // channels
    return mono.astype(_LE_INT16).tobytes()


def frame_to_mono(frame: av.AudioFrame) -> tuple[bytes, int]:
    """A decoded frame as (16-bit mono PCM bytes, sample rate)."""
    fmt = frame.format
    if fmt.name not in ("s16", "s16p"):
        raise ValueError(f"expected 16-bit audio from the decoder, got {fmt.name}")
    channels = len(frame.layout.channels)
    return downmix_s16(frame.to_ndarray(), channels, fmt.is_planar), frame.sample_rate


def mono_to_frame(pcm: bytes, sample_rate: int, pts: int) -> av.AudioFrame:
    """16-bit mono PCM bytes as a frame aiortc's encoders accept (``s16``, mono).

    ``pts`` counts samples since the track started; the time base is one sample.
    """
    samples = np.frombuffer(pcm, dtype=_LE_INT16).reshape(1, -1)
    frame = av.AudioFrame.from_ndarray(samples, format="s16", layout="mono")
    frame.sample_rate = sample_rate
    frame.pts = pts
    frame.time_base = fractions.Fraction(1, sample_rate)
    return frame

"""Resampler figures for the benchmark: aliasing rejection on the TTS-rate -> 8 kHz path, and
the cost of one 20 ms frame, for our streaming soxr resampler and for audioop.ratecv."""

from __future__ import annotations

import time
import warnings

import numpy as np

from bridge.media.resample import StreamResampler

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop

TTS_RATE, PHONE_RATE = 22050, 8000


def _tone(freq: float, seconds: float = 1.0, dbfs: float = -9.0) -> np.ndarray:
    t = np.arange(int(TTS_RATE * seconds)) / TTS_RATE
    return (np.sin(2 * np.pi * freq * t) * 32768 * 10 ** (dbfs / 20)).astype(np.int16)


def _level_dbfs(pcm: np.ndarray) -> float:
    x = pcm.astype(np.float64)
    return float(20 * np.log10(max(np.sqrt(np.mean(x * x)), 1e-9) / 32768))


def _chunks(pcm: np.ndarray, ms: int = 20) -> list[bytes]:
    step = TTS_RATE * ms // 1000
    return [pcm[i : i + step].tobytes() for i in range(0, len(pcm), step)]


def measure() -> dict[str, float]:
    tone = _tone(5000.0)  # above the 4 kHz Nyquist limit of the phone rate
    rs = StreamResampler(TTS_RATE, PHONE_RATE)
    out = np.frombuffer(b"".join(rs.process(c) for c in _chunks(tone)) + rs.flush(), np.int16)
    state = None
    naive = b""
    for c in _chunks(tone):
        converted, state = audioop.ratecv(c, 2, 1, TTS_RATE, PHONE_RATE, state)
        naive += converted
    skip = PHONE_RATE // 20  # let the filters settle (50 ms)
    ours_db = _level_dbfs(out[skip:-skip])  # not the edges: a tone switched on or off is broadband
    naive_db = _level_dbfs(np.frombuffer(naive, np.int16)[skip:-skip])
    speech = _chunks(_tone(1000.0, seconds=2.0))
    rs = StreamResampler(TTS_RATE, PHONE_RATE)
    started = time.perf_counter()
    for c in speech:
        rs.process(c)
    us = (time.perf_counter() - started) / len(speech) * 1e6
    return {
        "alias_rejection_db": round(_level_dbfs(tone) - ours_db, 1),
        "audioop_alias_rejection_db": round(_level_dbfs(tone) - naive_db, 1),
        "us_per_frame": round(us, 2),
    }


if __name__ == "__main__":
    print(measure())

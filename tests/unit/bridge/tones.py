"""Tones and their measures for the bridge's media tests: level and dominant frequency."""

import numpy as np


def sine(rate: int, seconds: float, freq_hz: float, level: int = 8000) -> bytes:
    """A sine of peak ``level`` at ``rate`` Hz, as 16-bit little-endian mono PCM."""
    t = np.arange(round(rate * seconds)) / rate
    return np.round(level * np.sin(2 * np.pi * freq_hz * t)).astype("<i2").tobytes()


def samples(pcm: bytes) -> np.ndarray:
    return np.frombuffer(pcm, dtype="<i2").astype(np.float64)


def rms_dbfs(pcm: bytes) -> float:
    """RMS level relative to int16 full scale (a sine of peak 8000 is -15.2 dBFS)."""
    rms = np.sqrt(np.mean(samples(pcm) ** 2))
    return 20 * float(np.log10(max(rms, 1e-9) / 32768))


def peak_hz(pcm: bytes, rate: int) -> float:
    """The frequency of the strongest bin of the (Hann-windowed) spectrum."""
    x = samples(pcm)
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.fft.rfftfreq(len(x), 1 / rate)[np.argmax(spectrum)])

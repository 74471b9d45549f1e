"""Writing 16-bit mono PCM as a WAV file, atomically: to a temporary name beside it, then
renamed over it, so a reader (Asterisk playing a prompt, an admin opening a message) never
sees half a file."""

from __future__ import annotations

import wave
from pathlib import Path


def write_wav(path: Path, pcm: bytes, rate: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with wave.open(str(tmp), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm)
    tmp.replace(path)

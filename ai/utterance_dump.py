"""A debugging aid: with ``VOICEBOT_DUMP_UTTERANCES=DIR`` set, every transcribed caller
utterance is written to DIR as a WAV, with its transcript beside it (what Whisper was
given, to replay a misheard turn offline)."""

from __future__ import annotations

import os
import wave
from pathlib import Path

from ai.channel import BRAIN_RATE

DUMP_DIR = os.environ.get("VOICEBOT_DUMP_UTTERANCES", "")


def dump(audio: bytes, name: str, text: str) -> None:
    """Write ``audio`` (16 kHz mono PCM) and ``text`` as DIR/``name``.wav and .txt."""
    if not DUMP_DIR:
        return
    path = Path(DUMP_DIR) / f"{name}.wav"
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(BRAIN_RATE)
        w.writeframes(audio)
    path.with_suffix(".txt").write_text(text + "\n")

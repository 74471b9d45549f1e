"""What the caller heard, checked the way a person would: transcribed by the embedded Whisper."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

from bridge.media.resample import StreamResampler

MEASUREMENTS = Path(__file__).resolve().parents[1] / ".run" / "measurements"


def transcribe(whisper, pcm_8k: np.ndarray, digits: bool = False) -> str:  # type: ignore[no-untyped-def]
    """Lower-case words Whisper hears in 8 kHz int16 audio (resampled to Whisper's 16 kHz);
    ``digits``: numerals kept (Whisper writes a read-back number as "555-0123")."""
    resampler = StreamResampler(8000, 16000)
    pcm16 = resampler.process(pcm_8k.astype(np.int16).tobytes()) + resampler.flush()
    audio = np.frombuffer(pcm16, dtype=np.int16).astype(np.float32) / 32768.0
    segments, _ = whisper.transcribe(audio, beam_size=1, language="en")
    text = " ".join(s.text for s in segments)
    return re.sub(r"[^a-z0-9' ]+" if digits else r"[^a-z' ]+", " ", text.lower()).strip()


def record_measurement(name: str, values: dict) -> None:
    """Keep what a test measured (git-ignored), for the issue notes and the benchmark."""
    MEASUREMENTS.mkdir(parents=True, exist_ok=True)
    (MEASUREMENTS / f"{name}.json").write_text(json.dumps(values, indent=2, sort_keys=True))
    print(f"\nmeasured {name}: {json.dumps(values, sort_keys=True)}")

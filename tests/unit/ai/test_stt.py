"""Whisper tiny.en on espeak-ng speech, off the event loop, and the hallucination filter."""

from __future__ import annotations

import asyncio
import math
import shutil
import subprocess
import threading
import time
import wave
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from ai.models import whisper_model
from ai.stt import STT_RATE, SttError, Transcript, WhisperStt

PAD_S = 0.3  # the session hands Whisper speech with a little VAD pre-roll and hang-over
TICK_S = 0.01
SOX_TO_PCM16K = ["-r", "16000", "-c", "1", "-b", "16", "-e", "signed-integer"]


def espeak_pcm16k(text: str, workdir: Path) -> bytes:
    """``text`` spoken by espeak-ng, as int16 mono 16 kHz PCM (via sox)."""
    for tool in ("espeak-ng", "sox"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is not installed; these tests need it: apt-get install {tool}")
    raw, converted = workdir / "espeak.wav", workdir / "speech16k.wav"
    subprocess.run(["espeak-ng", "-v", "en-us", "-w", str(raw), text], check=True)
    subprocess.run(["sox", str(raw), *SOX_TO_PCM16K, str(converted)], check=True)
    with wave.open(str(converted), "rb") as wav:
        return wav.readframes(wav.getnframes())


def silence(seconds: float) -> bytes:
    return bytes(2 * round(seconds * STT_RATE))


def white_noise(seconds: float, dbfs: float) -> bytes:
    """Gaussian white noise whose RMS is ``dbfs`` below int16 full scale."""
    rms = 32768 * 10 ** (dbfs / 20)
    noise = np.random.default_rng(0).standard_normal(round(seconds * STT_RATE)) * rms
    return np.round(noise).clip(-32768, 32767).astype("<i2").tobytes()


@pytest.fixture(scope="module")
def stt() -> Iterator[WhisperStt]:
    model = WhisperStt(whisper_model(), threads=2)
    model.load()
    yield model
    model.close()


@pytest.fixture(scope="module")
def question(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    spoken = espeak_pcm16k("what time does the store open tomorrow", tmp_path_factory.mktemp("stt"))
    return silence(PAD_S) + spoken + silence(PAD_S)


def test_speech_is_transcribed(stt: WhisperStt, question: bytes) -> None:
    transcript = stt.transcribe_sync(question)
    text = transcript.text.lower()
    assert "store" in text and "open" in text, transcript
    assert transcript.rejected is None and transcript.kept
    assert transcript.audio_s == pytest.approx(len(question) / 2 / STT_RATE)
    assert 0 < transcript.elapsed_s < 5
    assert transcript.no_speech_prob < 0.5
    assert transcript.avg_logprob > -1.0


@pytest.mark.parametrize(
    "audio", [silence(2.0), white_noise(2.0, -50.0)], ids=["silence", "noise-50dBFS"]
)
def test_silence_gives_nothing_to_answer(stt: WhisperStt, audio: bytes) -> None:
    transcript = stt.transcribe_sync(audio)
    assert transcript.text == "" or transcript.rejected is not None, transcript
    assert not transcript.kept


def test_empty_audio_is_rejected_without_the_model(stt: WhisperStt) -> None:
    transcript = stt.transcribe_sync(b"")
    assert (transcript.text, transcript.audio_s, transcript.rejected) == ("", 0.0, "empty")


def test_transcribe_before_load_fails_clearly(tmp_path: Path) -> None:
    unloaded = WhisperStt(tmp_path)
    try:
        assert not unloaded.loaded
        with pytest.raises(SttError, match="not loaded"):
            unloaded.transcribe_sync(silence(0.5))
    finally:
        unloaded.close()


def test_load_of_a_missing_model_fails_clearly(tmp_path: Path) -> None:
    broken = WhisperStt(tmp_path / "nowhere")
    try:
        with pytest.raises(SttError, match="cannot load Whisper model"):
            broken.load()
    finally:
        broken.close()


def test_async_transcribe_runs_the_short_turn_decoder_on_the_worker_thread(
    stt: WhisperStt, question: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A short turn takes the shortened-encoder path; it too must run off the loop."""
    ran_on: list[str] = []
    original = stt._transcribe_short

    def spy(*args: object) -> tuple[str, float, float]:
        ran_on.append(threading.current_thread().name)
        return original(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(stt, "_transcribe_short", spy)

    async def main() -> tuple[Transcript, str]:
        return await stt.transcribe(question), threading.current_thread().name

    transcript, loop_thread = asyncio.run(main())
    assert "store" in transcript.text.lower()
    assert ran_on and all(n.startswith("whisper") and n != loop_thread for n in ran_on)


def test_async_transcribe_drains_segments_on_the_worker_thread(
    stt: WhisperStt, question: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lazy ``segments`` generator runs the decoder: it must be iterated off the loop."""
    monkeypatch.setattr(stt, "options", replace(stt.options, short_encoder_frames=0))
    drained_on: list[str] = []
    original = stt._model.transcribe  # type: ignore[union-attr]

    def spy(*args: object, **kwargs: object) -> tuple[Iterator[object], object]:
        segments, info = original(*args, **kwargs)

        def watched() -> Iterator[object]:
            for segment in segments:
                drained_on.append(threading.current_thread().name)
                yield segment

        return watched(), info

    monkeypatch.setattr(stt._model, "transcribe", spy)

    async def main() -> tuple[Transcript, str]:
        return await stt.transcribe(question), threading.current_thread().name

    transcript, loop_thread = asyncio.run(main())
    assert "store" in transcript.text.lower()
    assert drained_on, "no segment was produced"
    assert all(name.startswith("whisper") and name != loop_thread for name in drained_on)


def test_event_loop_keeps_ticking_during_transcription(stt: WhisperStt, question: bytes) -> None:
    async def main() -> tuple[Transcript, list[float], float, float]:
        ticks: list[float] = []
        done = asyncio.Event()

        async def ticker() -> None:
            while not done.is_set():
                ticks.append(time.monotonic())
                await asyncio.sleep(TICK_S)

        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(ticker())
            await asyncio.sleep(0)
            started = time.monotonic()
            transcript = await stt.transcribe(question)
            ended = time.monotonic()
            done.set()
        return transcript, ticks, started, ended

    transcript, ticks, started, ended = asyncio.run(main())
    assert "store" in transcript.text.lower()
    during = [t for t in ticks if started <= t <= ended]
    # Blocked for the whole transcription, the loop would tick once at most. Leave slack
    # for a busy machine, but any long stall shows the model ran on the loop thread.
    assert len(during) >= 0.3 * (ended - started) / TICK_S, (len(during), ended - started)
    assert max(np.diff([started, *during, ended])) < 0.15


def test_short_path_drops_silence(stt: WhisperStt) -> None:
    """Silence on the short path: whatever tiny.en makes of it ("you") is not kept."""
    transcript = stt.transcribe_sync(silence(1.0))
    assert transcript.rejected is not None
    assert transcript.no_speech_prob > 0.6


def test_transcript_nan_scores_when_whisper_returns_no_segment(
    stt: WhisperStt, monkeypatch: pytest.MonkeyPatch
) -> None:
    """tiny.en's own no-speech check skips pure silence: no segment, so no scores."""
    monkeypatch.setattr(stt, "options", replace(stt.options, short_encoder_frames=0))
    transcript = stt.transcribe_sync(silence(1.0))
    assert transcript.text == "" and transcript.rejected == "empty"
    assert math.isnan(transcript.no_speech_prob) and math.isnan(transcript.avg_logprob)

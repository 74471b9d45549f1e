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
from ai.stt import STT_RATE, SttError, Transcript, WhisperStt, filter_transcript, strip_non_speech

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


# --- filter_transcript: pure, no model -------------------------------------------------

CONFIDENT = {"no_speech_prob": 0.05, "avg_logprob": -0.2, "audio_s": 1.2}


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("  ...  ", "empty"),
        ("[BLANK_AUDIO]", "non-speech"),
        ("[Music] (laughs) ♪", "non-speech"),
        ("Thanks for watching!", "hallucination"),
        ("Thank you for watching.", "hallucination"),
        ("Thank you. Please subscribe to my channel.", "hallucination"),
        ("Subtitles by the Amara.org community", "hallucination"),
        ("the the the the", "repetition"),
        ("I'd like to. I'd like to. I'd like to. I'd like to.", "repetition"),
        ("I want to book a table table table table table table table", "repetition"),
    ],
)
def test_filter_rejects_even_when_whisper_is_confident(text: str, reason: str) -> None:
    assert filter_transcript(text, **CONFIDENT) == reason


@pytest.mark.parametrize(
    ("text", "no_speech_prob", "avg_logprob", "audio_s"),
    [
        ("Thank you.", 0.7, -0.3, 1.0),  # Whisper thinks there is no speech
        ("Bye.", 0.1, -1.4, 1.0),  # unsure of the words
        ("you", 0.1, -0.3, 0.2),  # too short to hold the phrase
        ("Okay. Thank you.", 0.6, -0.5, 1.0),
    ],
)
def test_filter_rejects_stock_phrases_when_unsure(
    text: str, no_speech_prob: float, avg_logprob: float, audio_s: float
) -> None:
    assert filter_transcript(text, no_speech_prob, avg_logprob, audio_s) == "weak-stock-phrase"


def test_filter_rejects_unsure_text_on_silent_audio() -> None:
    assert filter_transcript("I see the ship.", 0.9, -0.8, 2.0) == "no-speech"


@pytest.mark.parametrize(
    "text",
    [
        "Thank you.",
        "Bye!",
        "Okay.",
        "What time does the store open tomorrow?",
        "No, no, no.",  # three is a caller's emphasis, not a loop
        "I'd like to book a table. Thanks for watching.",  # real words are not thrown away
        "[MUSIC] I need to talk to someone about my bill.",
    ],
)
def test_filter_keeps_what_a_caller_really_says(text: str) -> None:
    assert filter_transcript(text, **CONFIDENT) is None


def test_filter_keeps_confident_speech_even_if_whisper_doubts_silence() -> None:
    assert filter_transcript("Can you call me back?", 0.9, -0.3, 1.5) is None


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("[MUSIC] Hello there.", "Hello there."),
        ("I was (laughs) saying hi [BLANK_AUDIO] .", "I was saying hi."),
        ("*coughs* Yes ♪", "Yes"),
        ("Plain text.", "Plain text."),
    ],
)
def test_non_speech_tags_are_stripped(raw: str, clean: str) -> None:
    assert strip_non_speech(raw) == clean


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

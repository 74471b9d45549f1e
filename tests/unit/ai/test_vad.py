"""Streaming Silero VAD on real audio: espeak-ng speech, digital silence, faint noise."""

from __future__ import annotations

import shutil
import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest

from ai.vad import CONTEXT_SAMPLES, VAD_RATE, WINDOW_SAMPLES, SileroVad, VadStream

WINDOW_S = WINDOW_SAMPLES / VAD_RATE
LEAD_S = 1.0  # silence before and after the spoken sentence
SPEECH = 0.5  # probability above which a window counts as speech in these tests
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
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (16000, 1, 2)
        return wav.readframes(wav.getnframes())


def silence(seconds: float) -> bytes:
    return bytes(2 * round(seconds * VAD_RATE))


def white_noise(seconds: float, dbfs: float, seed: int = 0) -> bytes:
    """Gaussian white noise whose RMS is ``dbfs`` below int16 full scale."""
    rms = 32768 * 10 ** (dbfs / 20)
    noise = np.random.default_rng(seed).standard_normal(round(seconds * VAD_RATE)) * rms
    return np.round(noise).clip(-32768, 32767).astype("<i2").tobytes()


def feed(stream: VadStream, pcm: bytes, sizes: list[int]) -> list[float]:
    """Feed ``pcm`` in chunks cycling through ``sizes`` (in bytes)."""
    probs: list[float] = []
    pos, i = 0, 0
    while pos < len(pcm):
        size = sizes[i % len(sizes)]
        probs += stream.process(pcm[pos : pos + size])
        pos, i = pos + size, i + 1
    return probs


@pytest.fixture(scope="module")
def vad() -> SileroVad:
    return SileroVad()


@pytest.fixture(scope="module")
def sentence(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return espeak_pcm16k("what time does the store open tomorrow", tmp_path_factory.mktemp("vad"))


@pytest.fixture(scope="module")
def call_audio(sentence: bytes) -> bytes:
    """What a call would carry: silence, the sentence, silence."""
    return silence(LEAD_S) + sentence + silence(LEAD_S)


def test_speech_is_detected_where_it_is(vad: SileroVad, sentence: bytes, call_audio: bytes) -> None:
    samples = np.frombuffer(sentence, dtype="<i2")
    loud = np.flatnonzero(np.abs(samples) > 300)
    onset_s = LEAD_S + loud[0] / VAD_RATE
    offset_s = LEAD_S + (loud[-1] + 1) / VAD_RATE

    probs = np.array(vad.new_stream().process(call_audio))

    assert len(probs) == len(call_audio) // 2 // WINDOW_SAMPLES
    assert probs.max() > 0.8
    speech = np.flatnonzero(probs > SPEECH)
    first_start_s = speech[0] * WINDOW_S
    last_end_s = (speech[-1] + 1) * WINDOW_S
    assert onset_s - 2 * WINDOW_S <= first_start_s <= onset_s + 0.2
    assert offset_s - 0.2 <= last_end_s <= offset_s + 0.3
    # Most of the sentence itself is scored as speech (short pauses between words aside).
    inside = probs[int(onset_s / WINDOW_S) : int(offset_s / WINDOW_S)]
    assert np.mean(inside > SPEECH) > 0.8


@pytest.mark.parametrize(
    "audio",
    [silence(3.0), white_noise(3.0, -50.0, seed=1), white_noise(3.0, -50.0, seed=2)],
    ids=["digital-silence", "noise-50dBFS-a", "noise-50dBFS-b"],
)
def test_silence_and_faint_noise_are_not_speech(vad: SileroVad, audio: bytes) -> None:
    probs = vad.new_stream().process(audio)
    assert len(probs) == 3 * VAD_RATE // WINDOW_SAMPLES
    assert max(probs) < 0.3


def test_chunking_does_not_change_the_result(vad: SileroVad, call_audio: bytes) -> None:
    whole = vad.new_stream().process(call_audio)
    # 100, 333 and 1000 samples; then sizes that split samples across calls (odd byte counts).
    for sizes in ([200, 666, 2000], [201, 1, 999, 1024]):
        chunked = feed(vad.new_stream(), call_audio, sizes)
        assert chunked == pytest.approx(whole, abs=1e-4)


def test_batched_windows_equal_one_by_one(vad: SileroVad, call_audio: bytes) -> None:
    batched_stream = vad.new_stream()
    batched = batched_stream.process(call_audio)
    single_stream = vad.new_stream()
    single = feed(single_stream, call_audio, [WINDOW_SAMPLES * 2])
    assert single == pytest.approx(batched, abs=1e-5)
    assert batched_stream.windows_processed == single_stream.windows_processed == len(batched)


def test_remainder_waits_for_the_next_call(vad: SileroVad) -> None:
    stream = vad.new_stream()
    assert stream.process(silence(0.0)) == []
    assert len(stream.process(bytes(2 * 1000))) == 1
    assert (stream.windows_processed, stream.pending_samples) == (1, 1000 - WINDOW_SAMPLES)
    assert len(stream.process(bytes(2 * 24))) == 1  # 488 + 24 = one more window
    assert (stream.windows_processed, stream.pending_samples) == (2, 0)


def test_reset_forgets_state_context_and_remainder(vad: SileroVad, sentence: bytes) -> None:
    probe = white_noise(1.0, -30.0) + sentence[: 2 * VAD_RATE]
    fresh = vad.new_stream().process(probe)

    stream = vad.new_stream()
    stream.process(sentence + bytes(2 * 300 + 1))  # mid-speech state, a remainder, an odd byte
    carried_over = stream.process(probe)
    assert carried_over != pytest.approx(fresh, abs=1e-4)  # the history matters...

    stream.process(sentence[: 2 * 300 + 1])
    stream.reset()
    assert (stream.windows_processed, stream.pending_samples) == (0, 0)
    assert stream.process(probe) == pytest.approx(fresh, abs=1e-6)  # ...until reset


def test_interleaved_streams_do_not_interfere(vad: SileroVad, call_audio: bytes) -> None:
    other = white_noise(len(call_audio) / 2 / VAD_RATE, -40.0, seed=3) + bytes(2 * CONTEXT_SAMPLES)
    alone_a = vad.new_stream().process(call_audio)
    alone_b = vad.new_stream().process(other)

    a, b = vad.new_stream(), vad.new_stream()
    got_a: list[float] = []
    got_b: list[float] = []
    step = 640  # 20 ms frames, as the bridge delivers them
    for pos in range(0, max(len(call_audio), len(other)), step):
        got_a += a.process(call_audio[pos : pos + step])
        got_b += b.process(other[pos : pos + step])
    assert got_a == pytest.approx(alone_a, abs=1e-4)
    assert got_b == pytest.approx(alone_b, abs=1e-4)


def test_probabilities_rejects_badly_shaped_rows(vad: SileroVad) -> None:
    state = np.zeros((1, 1, 128), dtype=np.float32)
    with pytest.raises(ValueError, match="shape"):
        vad.probabilities(np.zeros((2, WINDOW_SAMPLES), dtype=np.float32), state, state)

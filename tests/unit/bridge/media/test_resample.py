"""Resampler quality measured with tones: in-band passes, out-of-band is removed."""

import warnings

import numpy as np
import pytest

from bridge.media.resample import FrameResampler, StreamResampler, UtteranceResampler

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop

SETTLE_S = 0.050  # skip the filter's start-up when measuring levels


def tone(freq_hz: float, rate: int, seconds: float, dbfs: float) -> np.ndarray:
    """A sine whose peak is ``dbfs`` below int16 full scale."""
    amplitude = 32768 * 10 ** (dbfs / 20)
    t = np.arange(round(rate * seconds)) / rate
    return np.round(amplitude * np.sin(2 * np.pi * freq_hz * t)).astype(np.int16)


def level_dbfs(samples: np.ndarray) -> float:
    """Level of a sine-like signal in dBFS (peak-equivalent: sqrt(2) * RMS)."""
    rms = np.sqrt(np.mean(samples.astype(np.float64) ** 2))
    return 20 * np.log10(max(np.sqrt(2) * rms, 1e-9) / 32768)


def chunks(samples: np.ndarray, rate: int, ms: int = 20) -> list[bytes]:
    data = samples.astype("<i2").tobytes()
    step = rate * ms // 1000 * 2
    return [data[i : i + step] for i in range(0, len(data), step)]


def stream(resampler: StreamResampler, samples: np.ndarray, rate: int) -> np.ndarray:
    """Feed 20 ms chunks, as the bridge does, then flush."""
    out = b"".join(resampler.process(c) for c in chunks(samples, rate)) + resampler.flush()
    return np.frombuffer(out, dtype="<i2")


def settled(samples: np.ndarray, rate: int) -> np.ndarray:
    skip = round(SETTLE_S * rate)
    return samples[skip:-skip]


@pytest.mark.parametrize("freq_hz", [5000, 6000])
def test_tone_above_nyquist_is_removed(freq_hz: int) -> None:
    signal = tone(freq_hz, 22050, 1.0, -9.0)
    out = stream(StreamResampler(22050, 8000), signal, 22050)
    assert level_dbfs(signal) == pytest.approx(-9.0, abs=0.1)
    assert level_dbfs(settled(out, 8000)) < level_dbfs(signal) - 60


def test_ratecv_aliases_which_is_why_we_do_not_use_it() -> None:
    """audioop.ratecv has no low-pass: the 5 kHz tone folds to 3 kHz, barely weaker."""
    signal = tone(5000, 22050, 1.0, -9.0)
    state = None
    out = bytearray()
    for chunk in chunks(signal, 22050):
        converted, state = audioop.ratecv(chunk, 2, 1, 22050, 8000, state)
        out += converted
    assert level_dbfs(settled(np.frombuffer(out, dtype="<i2"), 8000)) > -30


def test_in_band_tone_passes_unchanged() -> None:
    signal = tone(1000, 22050, 1.0, -9.0)
    out = stream(StreamResampler(22050, 8000), signal, 22050)
    assert level_dbfs(settled(out, 8000)) == pytest.approx(-9.0, abs=0.5)
    assert abs(len(out) - 8000) <= 4


def test_round_trip_up_and_down_is_transparent() -> None:
    # A 1 kHz tone under a Hann envelope: the envelope makes the correlation peak unique.
    signal = tone(1000, 8000, 0.5, -6.0) * np.hanning(4000)
    signal = np.round(signal).astype(np.int16)
    up = stream(StreamResampler(8000, 16000), signal, 8000)
    back = stream(StreamResampler(16000, 8000), up, 16000).astype(np.float64)
    ref = signal.astype(np.float64)
    corr = np.correlate(back, ref, mode="full")
    delay = int(np.argmax(corr)) - (len(ref) - 1)
    assert abs(delay) <= 50
    aligned = back[delay : delay + len(ref)] if delay >= 0 else back[: len(ref) + delay]
    ref = ref[: len(aligned)] if delay >= 0 else ref[-delay:]
    error = aligned - ref
    snr = 10 * np.log10(np.sum(ref**2) / max(np.sum(error**2), 1e-12))
    assert snr > 40


@pytest.mark.parametrize(("in_rate", "out_rate"), [(22050, 8000), (8000, 16000), (16000, 8000)])
def test_streaming_matches_one_call(in_rate: int, out_rate: int) -> None:
    rng = np.random.default_rng(7)
    signal = (rng.standard_normal(in_rate) * 3000).astype(np.int16)
    streamed = stream(StreamResampler(in_rate, out_rate), signal, in_rate)
    whole = StreamResampler(in_rate, out_rate)
    data = whole.process(signal.tobytes()) + whole.flush()
    at_once = np.frombuffer(data, dtype="<i2")
    assert abs(len(streamed) - len(at_once)) <= 4
    n = min(len(streamed), len(at_once))
    diff = np.abs(streamed[:n].astype(np.int32) - at_once[:n].astype(np.int32))
    assert diff.max() <= 1
    assert abs(len(streamed) - out_rate) <= 4  # one second in, one second out


def test_equal_rates_are_identity() -> None:
    resampler = StreamResampler(8000, 8000)
    data = bytes(range(200))
    assert resampler.passthrough
    assert resampler.process(data) == data
    assert resampler.flush() == b""


def test_odd_length_is_rejected() -> None:
    for resampler in (StreamResampler(8000, 8000), StreamResampler(22050, 8000)):
        with pytest.raises(ValueError, match="even"):
            resampler.process(b"\x00\x00\x00")


def test_flush_starts_a_fresh_stream() -> None:
    signal = tone(1000, 22050, 0.2, -9.0)
    resampler = StreamResampler(22050, 8000)
    first = stream(resampler, signal, 22050)
    second = stream(resampler, signal, 22050)
    assert np.array_equal(first, second)


def test_reset_drops_history() -> None:
    signal = tone(1000, 16000, 0.2, -9.0)
    resampler = StreamResampler(16000, 8000)
    resampler.process(tone(3000, 16000, 0.1, -3.0).tobytes())
    resampler.reset()
    assert np.array_equal(
        stream(resampler, signal, 16000), stream(StreamResampler(16000, 8000), signal, 16000)
    )


def test_overshoot_saturates_instead_of_wrapping() -> None:
    # A full-scale square wave overshoots after band-limiting (Gibbs); int16 must not wrap.
    square = np.where(np.arange(16000) % 16 < 8, 32767, -32768).astype(np.int16)
    resampler = StreamResampler(16000, 8000)
    out = stream(resampler, square, 16000)
    assert resampler.clipped_samples > 0
    first = settled(out, 8000)[:8]
    assert first.max() == 32767
    assert first.min() == -32768


def test_invalid_rates() -> None:
    with pytest.raises(ValueError):
        StreamResampler(0, 8000)


@pytest.mark.parametrize(("in_rate", "out_rate"), [(8000, 16000), (48000, 16000)])
def test_frame_resampler_gives_the_whole_frames_of_one_stream_as_soon_as_they_exist(
    in_rate: int, out_rate: int
) -> None:
    """The inbound direction: one stream fed in order (never a new filter per frame),
    handed on in whole frames as soon as soxr releases them, nothing held back."""
    out_frame = out_rate // 50 * 2
    frames = chunks(tone(440, in_rate, 5.0, -12), in_rate)
    framer = FrameResampler(in_rate, out_rate, out_frame)
    reference = StreamResampler(in_rate, out_rate)
    got = b""
    whole = b""
    for f in frames:
        out = framer.frames(f)
        assert all(len(x) == out_frame for x in out)
        got += b"".join(out)
        whole += reference.process(f)
        assert len(whole) - len(got) < out_frame, "a whole frame was held back"
    assert whole.startswith(got)
    assert len(got) >= (len(frames) - 6) * out_frame


def test_frame_resampler_at_equal_rates_passes_frames_through() -> None:
    frames = chunks(tone(440, 16000, 0.2, -12), 16000)
    framer = FrameResampler(16000, 16000, 640)
    assert [framer.frames(f) for f in frames] == [[f] for f in frames]


def test_utterance_resampler_keeps_one_resampler_per_rate_and_flushes_each_utterance() -> None:
    """The output direction: each utterance converted in one pass from its own rate."""
    to_wire = UtteranceResampler(8000)
    first = tone(1000, 22050, 0.3, -12).astype("<i2").tobytes()
    second = tone(700, 22050, 0.2, -12).astype("<i2").tobytes()

    def fresh(pcm: bytes, rate: int) -> bytes:
        resampler = StreamResampler(rate, 8000)
        return resampler.process(pcm) + resampler.flush()

    assert to_wire.convert(first, 22050) == fresh(first, 22050)
    resampler = to_wire.resamplers[22050]
    # The next utterance carries nothing of the first: the filter was flushed and reset.
    assert to_wire.convert(second, 22050) == fresh(second, 22050)
    assert to_wire.resamplers == {22050: resampler}
    at_wire_rate = tone(440, 8000, 0.1, -12).astype("<i2").tobytes()
    assert to_wire.convert(at_wire_rate, 8000) == at_wire_rate
    assert set(to_wire.resamplers) == {22050, 8000}

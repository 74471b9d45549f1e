"""Frame conversions between aiortc's AudioFrames and mono 16-bit PCM bytes."""

import fractions

import av
import numpy as np
import pytest

from bridge.web.browser_audio import downmix_s16, frame_to_mono, mono_to_frame


def test_mono_passes_through() -> None:
    samples = np.array([[0, 1, -1, 32767, -32768]], dtype=np.int16)
    assert downmix_s16(samples, 1, planar=False) == samples.tobytes()


def test_packed_stereo_is_averaged_without_wrapping() -> None:
    # Interleaved L R L R: two full-scale channels must not overflow int16.
    samples = np.array([[32767, 32767, -32768, -32768, 100, -100, 7, 8]], dtype=np.int16)
    mono = np.frombuffer(downmix_s16(samples, 2, planar=False), dtype="<i2")
    assert mono.tolist() == [32767, -32768, 0, 7]


def test_planar_stereo_is_averaged() -> None:
    samples = np.array([[10, 20, 30], [30, 40, -30]], dtype=np.int16)
    mono = np.frombuffer(downmix_s16(samples, 2, planar=True), dtype="<i2")
    assert mono.tolist() == [20, 30, 0]


def test_bad_channel_count() -> None:
    with pytest.raises(ValueError):
        downmix_s16(np.zeros((1, 4), dtype=np.int16), 0, planar=False)


def test_decoded_stereo_frame_to_mono() -> None:
    # What aiortc's Opus decoder gives: packed s16 stereo at 48 kHz, 960 samples.
    left = np.arange(960, dtype=np.int16)
    right = -left
    interleaved = np.stack([left, right], axis=1).reshape(1, -1)
    frame = av.AudioFrame.from_ndarray(interleaved, format="s16", layout="stereo")
    frame.sample_rate = 48000
    pcm, rate = frame_to_mono(frame)
    assert rate == 48000
    assert len(pcm) == 960 * 2
    assert not np.frombuffer(pcm, dtype="<i2").any()


def test_planar_frame_to_mono() -> None:
    planes = np.array([[100] * 480, [300] * 480], dtype=np.int16)
    frame = av.AudioFrame.from_ndarray(planes, format="s16p", layout="stereo")
    frame.sample_rate = 24000
    pcm, rate = frame_to_mono(frame)
    assert rate == 24000
    assert set(np.frombuffer(pcm, dtype="<i2").tolist()) == {200}


def test_float_frames_are_refused() -> None:
    frame = av.AudioFrame.from_ndarray(np.zeros((1, 960), dtype=np.float32), format="flt")
    with pytest.raises(ValueError, match="16-bit"):
        frame_to_mono(frame)


def test_mono_to_frame_round_trip() -> None:
    pcm = np.arange(-480, 480, dtype="<i2").tobytes()
    frame = mono_to_frame(pcm, 48000, pts=1920)
    assert frame.format.name == "s16"
    assert frame.layout.name == "mono"
    assert frame.samples == 960
    assert frame.sample_rate == 48000
    assert frame.pts == 1920
    assert frame.time_base == fractions.Fraction(1, 48000)
    assert frame_to_mono(frame) == (pcm, 48000)

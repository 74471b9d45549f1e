"""Pacing with a fake clock, and the outbound frame queue."""

import pytest

from bridge.media.pacer import FRAME_MS, OutboundAudio, PacingSchedule, frame_bytes

T0 = 1000.0  # a monotonic clock rarely starts at zero


# -- frame_bytes -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rate", "ms", "expected"),
    [(8000, 20, 320), (16000, 20, 640), (22050, 20, 882), (44100, 20, 1764), (8000, 10, 160)],
)
def test_frame_bytes(rate: int, ms: int, expected: int) -> None:
    assert frame_bytes(rate, ms) == expected


def test_frame_bytes_default_is_20_ms() -> None:
    assert FRAME_MS == 20
    assert frame_bytes(8000) == 320


def test_frame_bytes_rejects_fractional_samples() -> None:
    with pytest.raises(ValueError):
        frame_bytes(11025, 20)


# -- PacingSchedule --------------------------------------------------------------------


def test_deadline_needs_start() -> None:
    with pytest.raises(RuntimeError):
        PacingSchedule().next_deadline()


def test_first_frame_is_due_at_start() -> None:
    sched = PacingSchedule()
    sched.start(T0)
    assert sched.next_deadline() == T0


def test_on_time_sender_does_not_drift() -> None:
    sched = PacingSchedule(period_s=0.020)
    sched.start(T0)
    for n in range(100_000):
        deadline = sched.next_deadline()
        assert deadline == pytest.approx(T0 + n * 0.020, rel=1e-9, abs=0)
        sched.frame_sent(now=deadline)
    # 100k frames is 2000 s: still exactly on the grid.
    assert sched.next_deadline() == pytest.approx(T0 + 2000.0, rel=1e-12)
    assert sched.frames_sent == 100_000
    assert sched.resyncs == 0
    assert sched.max_late_s == 0


def test_small_jitter_does_not_accumulate() -> None:
    sched = PacingSchedule()
    sched.start(T0)
    for n in range(1000):
        deadline = sched.next_deadline()
        sched.frame_sent(now=deadline + (0.004 if n % 2 else 0.001))
    assert sched.next_deadline() == pytest.approx(T0 + 1000 * 0.020)
    assert sched.total_late_s == pytest.approx(500 * 0.004 + 500 * 0.001)
    assert sched.max_late_s == pytest.approx(0.004)
    assert sched.mean_late_s == pytest.approx(0.0025)


def test_late_wakeup_keeps_the_grid() -> None:
    sched = PacingSchedule()
    sched.start(T0)
    sched.frame_sent(now=T0)
    deadline = sched.next_deadline()
    assert deadline == pytest.approx(T0 + 0.020)
    sched.frame_sent(now=deadline + 0.010)  # 10 ms late
    # The next deadline stays on the grid, only 10 ms after the late send.
    assert sched.next_deadline() == pytest.approx(T0 + 0.040)
    assert sched.resyncs == 0
    assert sched.max_late_s == pytest.approx(0.010)


def test_long_stall_reanchors_without_a_burst() -> None:
    sched = PacingSchedule(resync_after_s=0.060)
    sched.start(T0)
    sched.frame_sent(now=T0)
    now = sched.next_deadline() + 0.200  # the loop was blocked for 200 ms
    sched.frame_sent(now=now)
    assert sched.resyncs == 1
    assert sched.next_deadline() == pytest.approx(now + 0.020)
    # From here the sender is back on time: one frame per period, none bunched.
    previous = now
    for _ in range(10):
        deadline = sched.next_deadline()
        assert deadline - previous == pytest.approx(0.020)
        sched.frame_sent(now=deadline)
        previous = deadline
    assert sched.resyncs == 1
    assert sched.max_late_s == pytest.approx(0.200)


def test_lateness_just_under_the_threshold_keeps_the_grid() -> None:
    sched = PacingSchedule(resync_after_s=0.060)
    sched.start(T0)
    sched.frame_sent(now=T0 + 0.059)
    assert sched.resyncs == 0
    assert sched.next_deadline() == pytest.approx(T0 + 0.020)  # already due: send now


def test_early_wakeup_counts_as_on_time() -> None:
    sched = PacingSchedule()
    sched.start(T0)
    sched.frame_sent(now=T0 - 0.0005)
    assert sched.max_late_s == 0
    assert sched.total_late_s == 0
    assert sched.next_deadline() == pytest.approx(T0 + 0.020)


def test_invalid_schedule() -> None:
    with pytest.raises(ValueError):
        PacingSchedule(period_s=0)


# -- OutboundAudio ---------------------------------------------------------------------


def pcm(n: int, value: int = 1) -> bytes:
    return bytes([value]) * n


def test_push_is_bounded() -> None:
    out = OutboundAudio(frame_bytes=320, max_bytes=1000)
    assert out.push(pcm(600)) == 600
    assert out.free_bytes == 400
    assert out.push(pcm(600)) == 400  # only what fits
    assert out.push(pcm(2)) == 0
    assert out.queued_bytes == 1000
    assert out.queued_ms(8000) == pytest.approx(62.5)


def test_push_rejects_odd_length() -> None:
    out = OutboundAudio(frame_bytes=320, max_bytes=960)
    with pytest.raises(ValueError):
        out.push(b"\x00")


def test_pop_frame_in_order_then_padded_tail_then_silence() -> None:
    out = OutboundAudio(frame_bytes=4, max_bytes=64)
    out.push(b"\x01\x01\x02\x02\x03\x03")
    assert out.pop_frame() == (b"\x01\x01\x02\x02", True)
    assert out.pop_frame() == (b"\x03\x03\x00\x00", True)
    assert out.pop_frame() == (b"\x00\x00\x00\x00", False)
    assert out.queued_bytes == 0
    assert (out.frames_speech, out.frames_silence) == (2, 1)


def test_pop_frame_always_gives_a_full_frame() -> None:
    out = OutboundAudio(frame_bytes=320, max_bytes=3200)
    out.push(pcm(1000))
    sizes = [len(out.pop_frame()[0]) for _ in range(6)]
    assert sizes == [320] * 6


def test_flush_empties_and_counts() -> None:
    out = OutboundAudio(frame_bytes=320, max_bytes=3200)
    out.push(pcm(1000))
    out.pop_frame()
    assert out.flush() == 680
    assert out.queued_bytes == 0
    assert out.flush() == 0
    assert out.pop_frame() == (bytes(320), False)
    assert out.push(pcm(3200)) == 3200  # all the room is back


def test_underruns_count_gaps_inside_an_utterance_only() -> None:
    out = OutboundAudio(frame_bytes=4, max_bytes=64)
    out.pop_frame()  # idle silence: not an underrun
    out.push(pcm(6))
    assert out.active
    out.pop_frame()
    out.pop_frame()  # padded while the utterance goes on: TTS fell behind
    out.pop_frame()  # silent while active: still behind
    assert out.underruns == 2
    out.push(pcm(6))
    out.mark_end_of_utterance()
    assert not out.active
    out.pop_frame()
    out.pop_frame()  # the padded tail of a finished utterance is normal
    out.pop_frame()
    assert out.underruns == 2


def test_flush_ends_the_utterance() -> None:
    out = OutboundAudio(frame_bytes=4, max_bytes=64)
    out.push(pcm(8))
    out.flush()
    assert not out.active
    out.pop_frame()
    assert out.underruns == 0


@pytest.mark.parametrize(("frame", "limit"), [(0, 640), (321, 640), (320, 100), (320, 641)])
def test_invalid_outbound_audio(frame: int, limit: int) -> None:
    with pytest.raises(ValueError):
        OutboundAudio(frame_bytes=frame, max_bytes=limit)

"""The inbound burst absorber, driven by a fake 20 ms tick (just calls to pop)."""

import pytest

from bridge.media.jitter import BurstAbsorber


def frames(count: int, size: int = 320, start: int = 0) -> list[bytes]:
    """Distinct frames: frame i is filled with byte (start + i) % 256."""
    return [bytes([(start + i) % 256]) * size for i in range(count)]


def test_burst_comes_out_one_frame_per_tick_in_order() -> None:
    absorber = BurstAbsorber(prefill_frames=2)
    sent = frames(10)
    absorber.push(b"".join(sent))  # ten frames bunched in one read
    assert absorber.depth == 10
    received = [absorber.pop() for _ in range(10)]
    assert received == sent
    assert absorber.pop() is None  # then nothing: an underrun
    assert absorber.underruns == 1
    assert (absorber.frames_in, absorber.frames_out, absorber.max_depth) == (10, 10, 10)


def test_steady_delivery_after_prefill() -> None:
    absorber = BurstAbsorber(prefill_frames=2)
    sent = frames(20)
    out = []
    for frame in sent:  # one frame in, one pop per tick
        absorber.push(frame)
        out.append(absorber.pop())
    assert out[0] is None  # prefilling: one frame queued, two needed
    assert out[1:] == sent[:19]
    assert absorber.depth == 1
    assert absorber.underruns == 0


@pytest.mark.parametrize("sizes", [[100, 500, 37], [1], [319, 2, 639], [7, 13, 1000, 3]])
def test_odd_chunk_sizes_are_reframed(sizes: list[int]) -> None:
    stream = bytes(i % 251 for i in range(3200))  # not a multiple of any chunk pattern
    absorber = BurstAbsorber(frame_bytes=320, max_frames=50, prefill_frames=1)
    pos = 0
    i = 0
    while pos < len(stream):
        size = sizes[i % len(sizes)]
        absorber.push(stream[pos : pos + size])
        pos += size
        i += 1
    assert absorber.pending_bytes == 0
    assert absorber.depth == 10
    out = b"".join(absorber.drain())
    assert out == stream


def test_remainder_waits_for_the_next_push() -> None:
    absorber = BurstAbsorber(frame_bytes=320, prefill_frames=1)
    absorber.push(b"\x01" * 100)
    assert (absorber.depth, absorber.pending_bytes) == (0, 100)
    absorber.push(b"\x02" * 250)
    assert (absorber.depth, absorber.pending_bytes) == (1, 30)
    assert absorber.pop() == b"\x01" * 100 + b"\x02" * 220


def test_overflow_drops_the_oldest() -> None:
    absorber = BurstAbsorber(max_frames=5, prefill_frames=1)
    sent = frames(8)
    absorber.push(b"".join(sent[:3]))
    absorber.push(b"".join(sent[3:]))
    assert absorber.depth == 5
    assert absorber.dropped_frames == 3
    assert absorber.max_depth == 5
    assert absorber.drain() == sent[3:]


def test_prefill_then_underrun_then_prefill_again() -> None:
    absorber = BurstAbsorber(prefill_frames=3)
    a, b, c, d, e = frames(5)
    absorber.push(a + b)
    assert absorber.pop() is None  # 2 of 3
    assert absorber.prefilling
    absorber.push(c)
    assert [absorber.pop(), absorber.pop(), absorber.pop()] == [a, b, c]
    assert not absorber.prefilling
    assert absorber.pop() is None
    assert absorber.underruns == 1
    assert absorber.prefilling
    absorber.push(d + e)
    assert absorber.pop() is None  # refilling: waits for 3 again, no new underrun
    assert absorber.underruns == 1
    absorber.push(frames(1, start=9)[0])
    assert absorber.pop() == d


def test_start_is_not_an_underrun() -> None:
    absorber = BurstAbsorber()
    for _ in range(5):
        assert absorber.pop() is None
    assert absorber.underruns == 0


def test_drain_ignores_prefill_and_keeps_the_partial_frame() -> None:
    absorber = BurstAbsorber(prefill_frames=10)
    sent = frames(3)
    absorber.push(b"".join(sent) + b"\x07" * 10)
    assert absorber.pop() is None
    assert absorber.drain() == sent
    assert absorber.depth == 0
    assert absorber.pending_bytes == 10
    assert absorber.frames_out == 3
    assert absorber.drain() == []


@pytest.mark.parametrize(
    ("frame_bytes", "max_frames", "prefill"), [(0, 50, 2), (320, 50, 0), (320, 2, 3)]
)
def test_invalid_configuration(frame_bytes: int, max_frames: int, prefill: int) -> None:
    with pytest.raises(ValueError):
        BurstAbsorber(frame_bytes, max_frames, prefill)

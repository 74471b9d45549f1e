"""Absorb bursts in inbound audio so the consumer gets one frame per tick.

Asterisk sends a 20 ms frame every 20 ms, but TCP and a busy event loop hand
them over bunched: nothing for 60 ms, then three frames in one read. What reads
caller audio (VAD, STT, an echo reference) wants a steady 20 ms per tick. A
:class:`BurstAbsorber` sits between: the reader pushes whatever bytes arrived,
the consumer's own 20 ms tick pops one frame.

It is clock-free, like aiortc's jitter buffer: the caller's tick drives it, so
tests need no time. There are no sequence numbers to reorder (TCP keeps order);
the job is only re-framing, smoothing, and a bound.

Policy:

* *Prefill*: pops return None until ``prefill_frames`` frames are queued, at
  the start and again after each underrun, so one late frame does not turn
  into a stutter of alternating frame / nothing.
* *Overflow*: past ``max_frames`` the OLDEST frames are dropped. If the
  consumer fell behind, the newest audio is what matters for turn-taking, and
  a bound keeps a stalled consumer from growing memory without end.
"""

from collections import deque


class BurstAbsorber:
    """Re-frame arbitrary chunks into ``frame_bytes`` frames and pace them out."""

    def __init__(
        self, frame_bytes: int = 320, max_frames: int = 50, prefill_frames: int = 2
    ) -> None:
        if frame_bytes <= 0:
            raise ValueError(f"frame_bytes must be positive, got {frame_bytes}")
        if not 1 <= prefill_frames <= max_frames:
            raise ValueError(
                f"need 1 <= prefill_frames <= max_frames, got {prefill_frames} and {max_frames}"
            )
        self.frame_bytes = frame_bytes
        self.max_frames = max_frames
        self.prefill_frames = prefill_frames
        self._frames: deque[bytes] = deque()
        self._partial = bytearray()  # bytes of the next, incomplete frame
        self._prefilling = True
        self.max_depth = 0
        self.frames_in = 0
        self.frames_out = 0
        self.dropped_frames = 0
        self.underruns = 0

    @property
    def depth(self) -> int:
        """Complete frames queued."""
        return len(self._frames)

    @property
    def pending_bytes(self) -> int:
        """Bytes waiting for the rest of their frame."""
        return len(self._partial)

    @property
    def prefilling(self) -> bool:
        return self._prefilling

    def push(self, pcm: bytes) -> None:
        """Add bytes of any length; complete frames are queued, the rest kept."""
        self._partial += pcm
        size = self.frame_bytes
        complete = len(self._partial) // size
        if not complete:
            return
        frames = self._frames
        partial = self._partial
        for i in range(complete):
            frames.append(bytes(partial[i * size : (i + 1) * size]))
        del partial[: complete * size]
        self.frames_in += complete
        excess = len(frames) - self.max_frames
        for _ in range(max(excess, 0)):
            frames.popleft()
        if excess > 0:
            self.dropped_frames += excess
        self.max_depth = max(self.max_depth, len(frames))

    def pop(self) -> bytes | None:
        """Return the next frame, or None while (re)filling."""
        if self._prefilling:
            if len(self._frames) < self.prefill_frames:
                return None
            self._prefilling = False
        if not self._frames:
            self.underruns += 1
            self._prefilling = True
            return None
        self.frames_out += 1
        return self._frames.popleft()

    def drain(self) -> list[bytes]:
        """Return every complete queued frame, ignoring prefill (the call ended).

        Bytes of an incomplete frame stay in :attr:`pending_bytes`.
        """
        frames = list(self._frames)
        self._frames.clear()
        self.frames_out += len(frames)
        return frames

"""The clock-free parts of outbound pacing: a deadline grid and a frame queue.

Asterisk plays what we send as it arrives and hangs up after 2 s without data,
so the bridge must send one 20 ms frame every 20 ms, whether or not the bot is
speaking. The asyncio shell around these classes is a loop of::

    deadline = schedule.next_deadline()
    await sleep_until(deadline)
    pcm, speech = audio.pop_frame()
    write(pcm)
    schedule.frame_sent(now=time.monotonic())

:class:`PacingSchedule` holds the times. Deadlines sit on an absolute grid
``t0 + n * period``: a loop that sleeps "20 ms after the last send" drifts by
every wake-up's lateness, and a loop that catches up after a stall bursts.
Here lateness never accumulates, and a stall longer than ``resync_after_s``
moves the grid instead of sending a burst of catch-up frames (Asterisk would
only buffer or drop them, and the caller would hear the audio jump).

:class:`OutboundAudio` holds the samples: a bounded FIFO that always has a
frame to give, silence when the bot is quiet.
"""

FRAME_MS = 20


def frame_bytes(sample_rate: int, ms: int = FRAME_MS) -> int:
    """Bytes in ``ms`` milliseconds of 16-bit mono PCM at ``sample_rate`` Hz."""
    samples, remainder = divmod(sample_rate * ms, 1000)
    if remainder or samples <= 0:
        raise ValueError(f"{ms} ms at {sample_rate} Hz is not a whole number of samples")
    return samples * 2


class PacingSchedule:
    """Deadlines on a fixed grid, re-anchored only after a long stall.

    Lateness below ``resync_after_s`` keeps the grid, so the next deadline may
    be less than a period away: the sender catches up by sending sooner, not by
    sending twice. Lateness is measured against the deadline and never negative
    in the statistics (an early wake-up counts as on time).
    """

    def __init__(self, period_s: float = FRAME_MS / 1000, resync_after_s: float = 0.060) -> None:
        if period_s <= 0 or resync_after_s <= 0:
            raise ValueError("period_s and resync_after_s must be positive")
        self.period_s = period_s
        self.resync_after_s = resync_after_s
        self._t0: float | None = None
        self._n = 0
        self.frames_sent = 0
        self.resyncs = 0
        self.max_late_s = 0.0
        self.total_late_s = 0.0

    def start(self, now: float) -> None:
        """Anchor the grid: the first frame is due at ``now``."""
        self._t0 = now
        self._n = 0

    def next_deadline(self) -> float:
        """When the next frame is due, in the clock :meth:`start` was given."""
        if self._t0 is None:
            raise RuntimeError("PacingSchedule.start() must be called first")
        # A multiplication, not a running sum: no floating-point drift over a long call.
        return self._t0 + self._n * self.period_s

    def frame_sent(self, now: float) -> None:
        """Record that the due frame went out at ``now``; advance to the next one."""
        late = now - self.next_deadline()
        self.frames_sent += 1
        if late > 0:
            self.total_late_s += late
            self.max_late_s = max(self.max_late_s, late)
        if late > self.resync_after_s:
            self.resyncs += 1
            self._t0 = now + self.period_s
            self._n = 0
        else:
            self._n += 1

    @property
    def mean_late_s(self) -> float:
        return self.total_late_s / self.frames_sent if self.frames_sent else 0.0


class OutboundAudio:
    """A bounded FIFO of PCM waiting to be spoken, popped one frame at a time.

    ``push`` accepts only what fits and says how much, so the producer (TTS
    through the resampler) can wait instead of the queue growing without end.

    Underruns: the producer says when an utterance is complete with
    :meth:`mark_end_of_utterance`. Until then the utterance is *active*, and
    every frame that had to be padded or was pure silence while active counts
    as an underrun: the caller heard a gap in the middle of a sentence because
    synthesis fell behind real time. The padded tail of a finished utterance
    and the silence between utterances are normal and not counted.
    """

    def __init__(self, frame_bytes: int, max_bytes: int) -> None:
        if frame_bytes <= 0 or frame_bytes % 2:
            raise ValueError(f"frame_bytes must be positive and even, got {frame_bytes}")
        if max_bytes < frame_bytes or max_bytes % 2:
            raise ValueError(f"max_bytes must be even and at least one frame, got {max_bytes}")
        self.frame_bytes = frame_bytes
        self.max_bytes = max_bytes
        self._buf = bytearray()
        self._silence = bytes(frame_bytes)
        self._active = False
        self.frames_speech = 0
        self.frames_silence = 0
        self.underruns = 0

    @property
    def queued_bytes(self) -> int:
        return len(self._buf)

    @property
    def free_bytes(self) -> int:
        return self.max_bytes - len(self._buf)

    @property
    def active(self) -> bool:
        """True between the first push of an utterance and its end (or a flush)."""
        return self._active

    def queued_ms(self, sample_rate: int) -> float:
        return len(self._buf) * 1000 / (2 * sample_rate)

    def push(self, pcm: bytes) -> int:
        """Queue as much of ``pcm`` as fits; return the number of bytes taken."""
        if len(pcm) % 2:
            raise ValueError(f"16-bit PCM must have an even length, got {len(pcm)} bytes")
        taken = min(len(pcm), self.free_bytes)
        if taken:
            self._buf += memoryview(pcm)[:taken]
            self._active = True
        return taken

    def mark_end_of_utterance(self) -> None:
        """The producer has pushed the last of the current utterance."""
        self._active = False

    def pop_frame(self) -> tuple[bytes, bool]:
        """Return the next ``frame_bytes`` bytes and whether they carry speech.

        Never empty-handed: a partial tail is padded with zeros, and an empty
        queue gives silence, because the line must never go quiet.
        """
        n = self.frame_bytes
        queued = len(self._buf)
        if queued == 0:
            self.frames_silence += 1
            if self._active:
                self.underruns += 1
            return self._silence, False
        if queued >= n:
            frame = bytes(self._buf[:n])
        else:
            frame = bytes(self._buf) + self._silence[queued:]
            if self._active:
                self.underruns += 1
        del self._buf[:n]  # trimming a bytearray's front is O(1) in CPython
        self.frames_speech += 1
        return frame, True

    def flush(self) -> int:
        """Drop everything queued (barge-in); return how many bytes were dropped."""
        dropped = len(self._buf)
        self._buf.clear()
        self._active = False
        return dropped

"""Silero voice activity detection, streamed window by window for live calls.

Theory of operation
-------------------
The Silero VAD v6 ONNX model (shipped inside faster-whisper, so nothing is
downloaded) scores 512-sample windows of 16 kHz audio (32 ms each). Each row it
is fed holds 576 samples: the last 64 samples of the *previous* window as
context (zeros before the first window), then the 512 new ones. An LSTM state
``(h, c)`` carries the history from row to row.

faster-whisper's ``SileroVADModel`` scores a whole file at once. A call arrives
20 ms at a time instead, so a ``VadStream`` keeps what a file-at-once pass
would have kept in local variables: the leftover bytes that do not yet fill a
window, the 64-sample context and the LSTM state. Every complete window in one
``process()`` call goes through a single ``session.run`` (the model accepts
``seq_len > 1`` rows and carries the state across them), which gives exactly the
same probabilities as one run per window (see the tests) but is cheaper.

One ``SileroVad`` (one onnxruntime session, ~2 MB) serves every call in the
process: ``InferenceSession.run`` is thread-safe and all per-call state lives in
the stream. A stream is not thread-safe; its call feeds it from one thread at a
time.

Cost, measured on the 2-core development machine (onnxruntime, 1 intra-op
thread, 10 s of speech, three runs): 62-66 µs per 32 ms window, byte handling
included, when fed 20 ms frames as a call does (at most one window per
``process()``); 37-41 µs per window when 10 s go in one call (the bare
``session.run`` is about 53 µs for one row, 31 µs per row in a batch of 100).
That is about 0.2 % of one core per call: cheap enough to run synchronously on
whichever worker thread the session uses, but it is still model inference, so
it does not belong on the event loop.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ai.models import ModelMissing

VAD_RATE = 16000
"""The only sample rate the Silero model accepts here (its 8 kHz mode uses other sizes)."""
WINDOW_SAMPLES = 512
"""New samples scored per window: 32 ms at 16 kHz."""
CONTEXT_SAMPLES = 64
"""Samples of the previous window prepended to each row, as the model was trained."""
STATE_SHAPE = (1, 1, 128)
"""Shape of each of the LSTM state tensors ``h`` and ``c``."""

_ROW_SAMPLES = CONTEXT_SAMPLES + WINDOW_SAMPLES
_WINDOW_BYTES = WINDOW_SAMPLES * 2
_MAX_ROWS_PER_RUN = 1024  # bounds memory if someone feeds minutes of audio at once


def default_vad_model() -> Path:
    """The Silero VAD ONNX file bundled with faster-whisper."""
    from faster_whisper.utils import get_assets_path

    return Path(get_assets_path()) / "silero_vad_v6.onnx"


class SileroVad:
    """One loaded Silero model, shared by every call's ``VadStream``."""

    def __init__(self, model_path: Path | None = None) -> None:
        import onnxruntime  # deferred: importing it costs time the CLI's --help does not need

        self.model_path = model_path if model_path is not None else default_vad_model()
        if not self.model_path.exists():
            raise ModelMissing(f"Silero VAD model not found at {self.model_path}")
        opts = onnxruntime.SessionOptions()
        # One thread each: a window takes tens of microseconds, and thread hand-offs
        # would cost more than they save while competing with Whisper for the cores.
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 4  # errors surface as exceptions; skip the warnings spam
        self._session = onnxruntime.InferenceSession(
            os.fspath(self.model_path),
            providers=["CPUExecutionProvider"],
            sess_options=opts,
        )

    def new_stream(self) -> VadStream:
        """A fresh per-call stream (zero state, zero context)."""
        return VadStream(self)

    def probabilities(
        self, rows: np.ndarray, h: np.ndarray, c: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Score ``rows`` (float32 [n, 576]) in order, starting from state ``(h, c)``.

        Returns ``(probs [n], h_next, c_next)``. Stateless on this object, so any
        number of threads may call it at once with their own state.
        """
        if rows.ndim != 2 or rows.shape[1] != _ROW_SAMPLES:
            raise ValueError(f"rows must have shape [n, {_ROW_SAMPLES}], got {rows.shape}")
        probs, h_next, c_next = self._session.run(
            None,
            {
                "input": np.ascontiguousarray(rows, dtype=np.float32),
                "h": h,
                "c": c,
            },
        )
        return np.asarray(probs, dtype=np.float32).reshape(-1), h_next, c_next


class VadStream:
    """Speech probabilities for one call's audio, fed in chunks of any size.

    ``process()`` is synchronous, pure CPU: the session runs it on a worker
    thread. Window ``i`` (0-based, counting from the last ``reset()``) covers
    samples ``[i * 512, (i + 1) * 512)`` of the audio fed so far.
    """

    def __init__(self, vad: SileroVad) -> None:
        self._vad = vad
        self._pending = bytearray()
        self.windows_processed = 0
        self.reset()

    def reset(self) -> None:
        """Forget everything: state, context, leftover samples and the window count."""
        self._h = np.zeros(STATE_SHAPE, dtype=np.float32)
        self._c = np.zeros(STATE_SHAPE, dtype=np.float32)
        self._context = np.zeros(CONTEXT_SAMPLES, dtype=np.float32)
        self._pending.clear()
        self.windows_processed = 0

    @property
    def pending_samples(self) -> int:
        """Samples received but not yet scored (fewer than one window)."""
        return len(self._pending) // 2

    def process(self, pcm16k: bytes) -> list[float]:
        """Feed int16 little-endian mono 16 kHz audio; one probability per completed window.

        Leftover samples (and even a dangling odd byte) wait for the next call,
        so chunking never changes the result.
        """
        self._pending += pcm16k
        complete = len(self._pending) // _WINDOW_BYTES
        if complete == 0:
            return []
        used = complete * _WINDOW_BYTES
        # Copy out first: a bytearray cannot shrink while numpy holds a view of it.
        chunk = bytes(self._pending[:used])
        del self._pending[:used]
        samples = np.frombuffer(chunk, dtype="<i2")
        windows = (samples.astype(np.float32) / 32768.0).reshape(complete, WINDOW_SAMPLES)

        probs: list[float] = []
        for start in range(0, complete, _MAX_ROWS_PER_RUN):
            probs.extend(self._run(windows[start : start + _MAX_ROWS_PER_RUN]))
        self.windows_processed += complete
        return probs

    def _run(self, windows: np.ndarray) -> list[float]:
        # Row i's context is the tail of window i-1; row 0's is the tail kept from last time.
        contexts = np.empty((len(windows), CONTEXT_SAMPLES), dtype=np.float32)
        contexts[0] = self._context
        contexts[1:] = windows[:-1, -CONTEXT_SAMPLES:]
        rows = np.concatenate([contexts, windows], axis=1)
        probs, self._h, self._c = self._vad.probabilities(rows, self._h, self._c)
        self._context = windows[-1, -CONTEXT_SAMPLES:].copy()
        return probs.tolist()

"""Piper speech synthesis on its own worker thread.

Piper's ``synthesize`` is a lazy generator: iterating it runs the model, so it
is drained inside the worker thread, never on the event loop. One thread per
voice: onnxruntime already uses the cores for one utterance, and a second
concurrent run would only make both slower.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import numpy as np

from ai.workers import model_executor

log = logging.getLogger(__name__)


class TtsError(RuntimeError):
    """Synthesis failed; the message says why."""


class PiperTts:
    """A loaded Piper voice. ``load()`` once per process; share it between calls."""

    def __init__(self, voice_path: Path, threads: int = 2) -> None:
        self.voice_path = voice_path
        self.threads = threads
        self._voice = None
        self._executor = model_executor("piper")
        self.sample_rate = 0

    def load(self) -> None:
        from piper import PiperVoice  # heavy import, deferred until a voice is wanted

        started = time.monotonic()
        try:
            voice = PiperVoice.load(self.voice_path)
            voice.session = self._session()
            self._voice = voice
        except Exception as exc:
            raise TtsError(f"cannot load Piper voice {self.voice_path}: {exc}") from exc
        self.sample_rate = int(self._voice.config.sample_rate)
        log.info(
            "tts: loaded %s (%d Hz) in %.2f s",
            self.voice_path.name,
            self.sample_rate,
            time.monotonic() - started,
        )

    def _session(self) -> object:
        """The voice's ONNX session, without busy-waiting worker threads.

        Piper's own session spins its threads between operations; next to the
        LLM's thread on 2 cores that spinning steals the CPU both need. Measured
        here with SmolLM2 generating alongside: a 2.7 s sentence took 143 ms with
        Piper's session, 92 ms with this one.
        """
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        return onnxruntime.InferenceSession(
            str(self.voice_path), sess_options=options, providers=["CPUExecutionProvider"]
        )

    @property
    def loaded(self) -> bool:
        return self._voice is not None

    def synthesize_sync(self, text: str) -> bytes:
        """The whole utterance as 16-bit mono PCM at ``sample_rate`` (blocking)."""
        return b"".join(self._chunks(text))

    def _chunks(self, text: str) -> Iterator[bytes]:
        if self._voice is None:
            raise TtsError("Piper voice not loaded")
        for chunk in self._voice.synthesize(text):
            audio = np.asarray(chunk.audio_int16_array, dtype=np.int16)
            yield audio.tobytes()

    async def synthesize(self, text: str) -> bytes:
        """The whole utterance, synthesised on the worker thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self.synthesize_sync, text)

    async def stream(self, text: str) -> AsyncIterator[bytes]:
        """One PCM chunk per sentence as soon as each is ready (drained on the worker thread)."""
        loop = asyncio.get_running_loop()
        it = self._chunks(text)
        done = object()
        while True:
            chunk = await loop.run_in_executor(self._executor, next, it, done)
            if chunk is done:
                return
            yield chunk  # type: ignore[misc]

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

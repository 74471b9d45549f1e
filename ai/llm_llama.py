"""llama.cpp in-process behind the ``LlmBackend`` interface (ai/llm.py).

Theory of operation
-------------------
A llama.cpp context runs one completion at a time, and its generator is lazy:
iterating it *is* running the model. So each context (a ``llama_cpp.Llama``)
is owned by one worker thread, and the generator is drained in that thread,
never on the event loop. Requests wait FIFO for a free context; the wait is
bounded (``max_waiting``) so an overloaded process says ``LlmBusy`` instead of
piling up calls that would all be answered too late to matter on a phone.

Pieces of text cross from the worker to the asyncio consumer through a bounded
``Handoff``. When the consumer goes away (barge-in cancels the task, it calls
``aclose()``, or drops the stream), a ``threading.Event`` is set; the worker
checks it between tokens, stops generating and gives the context back, so the
next turn is not stuck behind a reply nobody will hear.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncGenerator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from ai.llm import LlmError, LlmOptions, LlmStats, LlmStream, Messages
from ai.llm_pool import ContextPool, Done, Failed, Handoff
from ai.workers import LLM_NICE, model_executor

log = logging.getLogger(__name__)


# lama.cpp in-process -----------------------------------------------------------------


class LlamaCppBackend:
    """GGUF chat model run in-process by llama.cpp; ``contexts`` replies can run at once.

    Every context is a full ``llama_cpp.Llama`` (weights are mmapped, so they
    share the page cache; the KV cache is per context). Each has its own
    thread, and with ``threads`` llama.cpp threads each: on a small machine,
    ``contexts * threads`` should not exceed the cores.
    """

    HANDOFF_PIECES = 256  # more than any phone reply: a slow reader never holds a context
    STALL_S = 30.0  # a reader that takes nothing for this long is treated as gone

    def __init__(
        self,
        model_path: Path,
        options: LlmOptions | None = None,
        contexts: int = 1,
        max_waiting: int = 32,
    ) -> None:
        if contexts < 1:
            raise ValueError("contexts must be at least 1")
        self.model_path = Path(model_path)
        self.options = options or LlmOptions()
        self.contexts = contexts
        self.name = f"llama.cpp:{self.model_path.name}"
        self._pool = ContextPool(contexts, max_waiting)
        self._llamas: list[Any] = []
        self._executors: list[ThreadPoolExecutor] = []
        self._active: set[Handoff] = set()
        self._closed = False

    @property
    def loaded(self) -> bool:
        return bool(self._llamas) and not self._closed

    @property
    def waiting(self) -> int:
        """Requests queued for a free context right now."""
        return self._pool.waiting

    def load(self) -> None:
        """Load one Llama per context, each on the thread that will run it (blocking)."""
        if self.loaded:
            return
        if not self.model_path.is_file():
            raise LlmError(f"GGUF model not found: {self.model_path}")
        import llama_cpp  # heavy import, deferred until a model is wanted

        started = time.monotonic()
        executors = [model_executor(f"llama-{i}", nice=LLM_NICE) for i in range(self.contexts)]
        opts = self.options

        def build() -> Any:
            return llama_cpp.Llama(
                model_path=str(self.model_path),
                n_ctx=opts.n_ctx,
                n_threads=opts.threads,
                n_threads_batch=opts.batch_threads or opts.threads,
                verbose=False,
            )

        futures = [ex.submit(build) for ex in executors]
        llamas: list[Any] = []
        errors: list[BaseException] = []
        for fut in futures:
            try:
                llamas.append(fut.result())
            except Exception as exc:
                errors.append(exc)
        if errors:
            for llm in llamas:
                llm.close()
            for ex in executors:
                ex.shutdown(wait=False)
            raise LlmError(f"cannot load GGUF model {self.model_path}: {errors[0]}") from errors[0]
        self._llamas, self._executors, self._closed = llamas, executors, False
        log.info(
            "llm: loaded %s x%d (n_ctx %d, %d threads) in %.2f s",
            self.model_path.name,
            self.contexts,
            opts.n_ctx,
            opts.threads,
            time.monotonic() - started,
        )

    def stream(self, messages: Messages, options: LlmOptions | None = None) -> LlmStream:
        """Stream a reply; ``options`` overrides the backend's sampling for this request."""
        stats = LlmStats(started=time.monotonic())
        return LlmStream(self._pieces(list(messages), options or self.options, stats), stats)

    async def _pieces(
        self, messages: Messages, opts: LlmOptions, stats: LlmStats
    ) -> AsyncGenerator[str, None]:
        if not self.loaded:
            raise LlmError(f"{self.name}: model not loaded (call load() first)")
        index = await self._pool.acquire()
        stats.wait_s = time.monotonic() - stats.started
        handoff = Handoff(asyncio.get_running_loop(), self.HANDOFF_PIECES, self.STALL_S)
        try:
            self._executors[index].submit(self._generate, index, messages, opts, handoff)
        except (RuntimeError, IndexError) as exc:  # closed under us
            self._pool.release(index)
            raise LlmError(f"{self.name}: backend closed") from exc
        self._active.add(handoff)
        try:
            while True:
                item = await handoff.get()
                if isinstance(item, str):
                    now = time.monotonic() - stats.started
                    if stats.first_token_s is None:
                        stats.first_token_s = now
                    stats.pieces += 1
                    stats.chars += len(item)
                    stats.total_s = now
                    yield item
                elif isinstance(item, Done):
                    stats.finish_reason = item.finish_reason
                    stats.total_s = time.monotonic() - stats.started
                    return
                else:
                    assert isinstance(item, Failed)
                    if isinstance(item.error, LlmError):
                        raise LlmError(f"{self.name}: {item.error}")
                    raise LlmError(f"{self.name}: generation failed: {item.error}") from item.error
        finally:
            handoff.stop.set()
            self._active.discard(handoff)

    def _generate(self, index: int, messages: Messages, opts: LlmOptions, handoff: Handoff) -> None:
        """Worker thread: drain the llama.cpp generator, checking ``stop`` between tokens."""
        finish: str | None = None
        outcome: object = None
        try:
            chunks = self._llamas[index].create_chat_completion(
                messages=messages,
                stream=True,
                max_tokens=opts.max_tokens,
                temperature=opts.temperature,
                top_p=opts.top_p,
                repeat_penalty=opts.repeat_penalty,
                stop=list(opts.stop),
            )
            try:
                for chunk in chunks:
                    if handoff.stop.is_set():
                        break
                    choice = chunk["choices"][0]
                    piece = choice.get("delta", {}).get("content")
                    if piece and not handoff.put(piece):
                        break
                    finish = choice.get("finish_reason") or finish
                else:
                    outcome = Done(finish)
            finally:
                chunks.close()  # runs llama-cpp-python's cleanup if we broke out early
        except Exception as exc:
            log.warning("llm: generation failed: %s", exc)
            outcome = Failed(exc)
        finally:
            # Free the context before telling the consumer, so its next turn finds it free.
            self._pool.release(index)
        if outcome is not None:
            handoff.put(outcome)

    def close(self) -> None:
        """Stop running replies, free the contexts and their threads (blocks for about a token)."""
        if self._closed:
            return
        self._closed = True
        for handoff in list(self._active):
            handoff.abort(LlmError("backend closed"))
        for llm, executor in zip(self._llamas, self._executors, strict=True):
            executor.submit(llm.close)
            executor.shutdown(wait=True)
        self._llamas, self._executors = [], []

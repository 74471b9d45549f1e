"""The language model: one streaming interface, and llama.cpp behind it in-process.

Theory of operation
-------------------
A llama.cpp context runs one completion at a time, and its generator is lazy:
iterating it *is* running the model. So each context (a ``llama_cpp.Llama``)
is owned by one worker thread, and the generator is drained in that thread,
never on the event loop. Requests wait FIFO for a free context; the wait is
bounded (``max_waiting``) so an overloaded process says ``LlmBusy`` instead of
piling up calls that would all be answered too late to matter on a phone.

Pieces of text cross from the worker to the asyncio consumer through a bounded
``_Handoff``. When the consumer goes away (barge-in cancels the task, it calls
``aclose()``, or drops the stream), a ``threading.Event`` is set; the worker
checks it between tokens, stops generating and gives the context back, so the
next turn is not stuck behind a reply nobody will hear.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from ai.workers import LLM_NICE, model_executor

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


# -- worker thread -> event loop ----------------------------------------------------------


class _Done:
    def __init__(self, finish_reason: str | None) -> None:
        self.finish_reason = finish_reason


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error


class _Handoff:
    """A bounded queue from one worker thread to one asyncio consumer.

    The worker ``put``s (blocking while full, but never past ``stop``); every
    put wakes the consumer through ``call_soon_threadsafe``. The consumer sets
    ``stop`` when it goes away, which is the worker's signal to quit.
    """

    POLL_S = 0.05  # how often a worker blocked on a full queue re-checks `stop`

    def __init__(self, loop: asyncio.AbstractEventLoop, maxsize: int, stall_s: float) -> None:
        self._loop = loop
        self._items: queue.Queue[object] = queue.Queue(maxsize)
        self._wake = asyncio.Event()
        self._stall_s = stall_s
        self._error: LlmError | None = None
        self.stop = threading.Event()

    def put(self, item: object) -> bool:
        """Worker side. False when nobody will read the item: stop generating."""
        deadline = time.monotonic() + self._stall_s
        while not self.stop.is_set():
            try:
                self._items.put(item, timeout=self.POLL_S)
            except queue.Full:
                if time.monotonic() > deadline:
                    log.warning("llm: reader stalled %.0f s, stopping generation", self._stall_s)
                    self.stop.set()
                continue
            try:
                self._loop.call_soon_threadsafe(self._wake.set)
            except RuntimeError:  # the loop is closed: nobody is listening any more
                self.stop.set()
                return False
            return True
        return False

    def abort(self, error: LlmError) -> None:
        """Any thread: end the stream with ``error`` once the consumer has read what is queued."""
        self._error = error
        self.stop.set()
        try:
            self._loop.call_soon_threadsafe(self._wake.set)
        except RuntimeError:
            pass

    async def get(self) -> object:
        """Consumer side (event loop thread)."""
        while True:
            # Clear before looking: a put after this line schedules a set() that wakes us.
            self._wake.clear()
            try:
                return self._items.get_nowait()
            except queue.Empty:
                if self._error is not None:
                    return _Failed(self._error)
                await self._wake.wait()


class _ContextPool:
    """Indices of free model contexts, handed out FIFO to at most ``max_waiting`` waiters.

    ``release`` may be called from any thread (the worker releases its own
    context the moment it stops), so the state is guarded by a lock and
    waiters are woken on their own loop.
    """

    def __init__(self, size: int, max_waiting: int) -> None:
        self._lock = threading.Lock()
        self._free: deque[int] = deque(range(size))
        self._waiters: deque[tuple[asyncio.AbstractEventLoop, asyncio.Future[int]]] = deque()
        self.max_waiting = max_waiting

    @property
    def waiting(self) -> int:
        return len(self._waiters)

    async def acquire(self) -> int:
        loop = asyncio.get_running_loop()
        with self._lock:
            if self._free and not self._waiters:
                return self._free.popleft()
            if len(self._waiters) >= self.max_waiting:
                raise LlmBusy(
                    f"LLM busy: {len(self._waiters)} requests already waiting for a free context"
                )
            waiter: asyncio.Future[int] = loop.create_future()
            entry = (loop, waiter)
            self._waiters.append(entry)
        try:
            return await waiter
        except asyncio.CancelledError:
            with self._lock:
                if entry in self._waiters:
                    self._waiters.remove(entry)
            if waiter.done() and not waiter.cancelled():
                self.release(waiter.result())  # handed a context just as we were cancelled
            raise

    def release(self, index: int) -> None:
        with self._lock:
            while self._waiters:
                loop, waiter = self._waiters.popleft()
                try:
                    loop.call_soon_threadsafe(self._deliver, waiter, index)
                except RuntimeError:  # that waiter's loop is closed: try the next one
                    continue
                return
            self._free.append(index)

    def _deliver(self, waiter: asyncio.Future[int], index: int) -> None:
        if waiter.cancelled():
            self.release(index)
        else:
            waiter.set_result(index)


# -- llama.cpp in-process -----------------------------------------------------------------


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
        self._pool = _ContextPool(contexts, max_waiting)
        self._llamas: list[Any] = []
        self._executors: list[ThreadPoolExecutor] = []
        self._active: set[_Handoff] = set()
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
        handoff = _Handoff(asyncio.get_running_loop(), self.HANDOFF_PIECES, self.STALL_S)
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
                elif isinstance(item, _Done):
                    stats.finish_reason = item.finish_reason
                    stats.total_s = time.monotonic() - stats.started
                    return
                else:
                    assert isinstance(item, _Failed)
                    if isinstance(item.error, LlmError):
                        raise LlmError(f"{self.name}: {item.error}")
                    raise LlmError(f"{self.name}: generation failed: {item.error}") from item.error
        finally:
            handoff.stop.set()
            self._active.discard(handoff)

    def _generate(
        self, index: int, messages: Messages, opts: LlmOptions, handoff: _Handoff
    ) -> None:
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
                    outcome = _Done(finish)
            finally:
                chunks.close()  # runs llama-cpp-python's cleanup if we broke out early
        except Exception as exc:
            log.warning("llm: generation failed: %s", exc)
            outcome = _Failed(exc)
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

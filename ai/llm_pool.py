"""Between llama.cpp's worker threads and the event loop: the context pool and the hand-off.

Theory of operation
-------------------
``ContextPool`` hands out llama.cpp context indexes, FIFO, to at most
``max_waiting`` waiters; more raise ``LlmBusy`` at once, since a reply that
would come too late to matter on a phone is better refused than queued.

``Handoff`` carries the pieces of one reply from the worker thread that drains
llama.cpp's lazy generator to the asyncio consumer: a bounded queue (the worker
blocks, at most ``stall_s``, when the consumer is slow), ``Done``/``Failed``
sentinels for the end, and ``abort()`` for the consumer going away, which the
worker sees between tokens.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections import deque

from ai.llm import LlmBusy, LlmError

log = logging.getLogger(__name__)


class Done:
    def __init__(self, finish_reason: str | None) -> None:
        self.finish_reason = finish_reason


class Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error


class Handoff:
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
                    return Failed(self._error)
                await self._wake.wait()


class ContextPool:
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

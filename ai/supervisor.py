"""One owner for every task of one call: named, watched, and cancelled with a deadline.

Theory of operation
-------------------
A call runs several tasks at once (hearing the caller, the reply in the making,
the greeting, DTMF, partial transcripts, onset stamps). Each is started with
``spawn(coro, name)`` and gets the name ``<call>-<name>``; the supervisor keeps
it until it ends. Three ways a task can end:

- it returns, or it is cancelled: nothing to do;
- it raises: the failure is logged once with the call's name and the task's
  name, and ``on_failure(task_name, exc)`` runs (the session answers with the
  apology and ends the call). A task that must not take the call down handles
  its own errors: the reply pipeline turns a model error into a spoken apology
  for that one turn and returns normally.

``close()`` cancels whatever is still running and waits for it, at most
``deadline_s``; a task that ignores cancellation past the deadline is logged by
name (it is a bug) instead of being left to print "Task was destroyed but it is
pending" at exit. After ``close()`` no new task is accepted.

Why not ``asyncio.TaskGroup``: a TaskGroup cancels every sibling when one task
fails and re-raises at the ``async with``; a call needs the opposite on a
failure — keep the line up long enough to say sorry, then end in order.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

log = logging.getLogger(__name__)

FailureHandler = Callable[[str, BaseException], None]


class SupervisorClosed(RuntimeError):
    """``spawn()`` after ``close()``: the call is over."""


class CallSupervisor:
    def __init__(self, call_name: str, on_failure: FailureHandler | None = None) -> None:
        self.call_name = call_name
        self.on_failure = on_failure
        self.failures: list[tuple[str, BaseException]] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closed = False

    @property
    def tasks(self) -> frozenset[asyncio.Task[Any]]:
        """The tasks still running."""
        return frozenset(self._tasks)

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        if self._closed:
            coro.close()
            raise SupervisorClosed(f"call {self.call_name} is over; not starting {name}")
        task = asyncio.create_task(coro, name=f"{self.call_name}-{name}")
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is None:
            return
        name = task.get_name().removeprefix(f"{self.call_name}-")
        self.failures.append((name, exc))
        log.error("call %s: task %s failed", self.call_name, name, exc_info=exc)
        if self.on_failure is not None and not self._closed:
            try:
                self.on_failure(name, exc)
            except Exception:
                log.exception("call %s: failure handler failed", self.call_name)

    async def close(self, deadline_s: float = 5.0) -> None:
        """Cancel every task still running and wait for them, at most ``deadline_s``."""
        self._closed = True
        current = asyncio.current_task()
        tasks = [t for t in self._tasks if t is not current]
        for task in tasks:
            task.cancel()
        if not tasks:
            return
        _, pending = await asyncio.wait(tasks, timeout=deadline_s)
        for task in pending:
            log.error(
                "call %s: task %s still running %.1f s after cancel",
                self.call_name,
                task.get_name(),
                deadline_s,
            )

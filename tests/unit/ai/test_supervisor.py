"""The per-call supervisor: names tasks, reports failures once, cancels with a deadline."""

from __future__ import annotations

import asyncio

import pytest

from ai.supervisor import CallSupervisor, SupervisorClosed


def test_tasks_are_named_for_their_call_and_forgotten_when_done() -> None:
    async def main() -> None:
        sup = CallSupervisor("call-1")
        task = sup.spawn(asyncio.sleep(0), "greet")
        assert task.get_name() == "call-1-greet" and task in sup.tasks
        await task
        await asyncio.sleep(0)
        assert not sup.tasks and not sup.failures

    asyncio.run(main())


def test_a_failure_is_reported_with_the_task_name() -> None:
    seen: list[tuple[str, str]] = []

    async def boom() -> None:
        raise ValueError("bug")

    async def main() -> None:
        sup = CallSupervisor("c", on_failure=lambda name, exc: seen.append((name, str(exc))))
        sup.spawn(boom(), "audio")
        await asyncio.sleep(0.01)
        assert [name for name, _ in sup.failures] == ["audio"]

    asyncio.run(main())
    assert seen == [("audio", "bug")]


def test_cancellation_is_not_a_failure() -> None:
    async def main() -> None:
        sup = CallSupervisor("c", on_failure=lambda *a: pytest.fail("not a failure"))
        sup.spawn(asyncio.sleep(10), "reply").cancel()
        await asyncio.sleep(0.01)
        assert not sup.failures

    asyncio.run(main())


def test_close_cancels_everything_within_the_deadline_and_refuses_new_tasks() -> None:
    async def stubborn() -> None:
        while True:
            try:
                await asyncio.sleep(10)
            except asyncio.CancelledError:
                await asyncio.sleep(0.5)  # ignores the first cancel for a while
                raise

    async def main() -> None:
        sup = CallSupervisor("c")
        a = sup.spawn(asyncio.sleep(10), "a")
        b = sup.spawn(stubborn(), "b")
        await asyncio.sleep(0)
        await sup.close(deadline_s=2.0)
        assert a.cancelled() and b.cancelled() and not sup.tasks
        coro = asyncio.sleep(0)
        with pytest.raises(SupervisorClosed):
            sup.spawn(coro, "late")

    asyncio.run(main())


def test_close_logs_a_task_that_outlives_the_deadline(caplog: pytest.LogCaptureFixture) -> None:
    async def deaf() -> None:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            await asyncio.sleep(0.3)

    async def main() -> None:
        sup = CallSupervisor("c")
        task = sup.spawn(deaf(), "deaf")
        await asyncio.sleep(0)
        await sup.close(deadline_s=0.05)
        assert "c-deaf still running" in caplog.text
        await task

    asyncio.run(main())

"""The bridge tests' asyncio runner: a fresh loop, a deadline, and no task left behind."""

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

TEST_TIMEOUT_S = 4.0  # a test that takes longer is hung: fail it rather than wait


def run(main: Coroutine[Any, Any, T], timeout: float = TEST_TIMEOUT_S) -> T:
    """Run ``main`` in a fresh event loop, with a deadline; fail if it leaves a task behind."""

    async def runner() -> T:
        async with asyncio.timeout(timeout):
            result = await main
        leftover = asyncio.all_tasks() - {asyncio.current_task()}
        assert not leftover, f"tasks left behind: {leftover}"
        return result

    return asyncio.run(runner())

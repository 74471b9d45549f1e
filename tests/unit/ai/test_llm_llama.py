"""The in-process llama.cpp backend, run with the real embedded SmolLM2 (loads in < 1 s)."""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any

import pytest

from ai.llm import LlmBackend, LlmBusy, LlmError, LlmOptions, LlmStream
from ai.llm_llama import LlamaCppBackend
from ai.models import ModelMissing, llm_model

try:
    MODEL = llm_model()
except ModelMissing as exc:  # pragma: no cover - the embedded model is a declared dependency
    pytest.skip(f"embedded SmolLM2 not installed: {exc}", allow_module_level=True)

QUESTION = [
    {"role": "user", "content": "What is the capital of France? Answer in one short sentence."}
]
# Greedy decoding of this prompt runs to max_tokens (a long story): a reply that would
# take seconds to finish, so stopping early is measurable.
LONG = [{"role": "user", "content": "Write a long story about a dragon who lives in a castle."}]
LONG_OPTS = LlmOptions(temperature=0.0, max_tokens=400)
SHORT_OPTS = LlmOptions(temperature=0.0, max_tokens=8)

TIMEOUT_S = 60.0


def run(coro: Coroutine[Any, Any, Any]) -> Any:
    """Run a test coroutine with a guard, so a bug hangs nothing."""

    async def guarded() -> Any:
        async with asyncio.timeout(TIMEOUT_S):
            return await coro

    return asyncio.run(guarded())


@pytest.fixture(scope="module")
def llm() -> Iterator[LlamaCppBackend]:
    backend = LlamaCppBackend(MODEL, LlmOptions())
    backend.load()
    yield backend
    backend.close()


@pytest.fixture(scope="module")
def llm2() -> Iterator[LlamaCppBackend]:
    backend = LlamaCppBackend(MODEL, LlmOptions(threads=1), contexts=2)
    backend.load()
    yield backend
    backend.close()


async def start_long(backend: LlamaCppBackend) -> tuple[LlmStream, float]:
    """A long reply, read a few pieces in, and the seconds per token it runs at right now.

    Stopping is judged against that pace, not a wall-clock constant, so a busy
    CI machine (where llama.cpp slows down a lot) does not fail the tests.
    """
    stream = backend.stream(LONG, LONG_OPTS)
    await anext(stream)
    started = time.monotonic()
    for _ in range(4):
        await anext(stream)
    return stream, (time.monotonic() - started) / 4


def stopped_promptly(wait_s: float | None, per_token_s: float) -> bool:
    """The context came back within a few token times (the full story is 400 tokens)."""
    assert wait_s is not None
    return wait_s < max(0.3, 25 * per_token_s)


# -- streaming ------------------------------------------------------------------------


def test_satisfies_the_backend_protocol(llm: LlamaCppBackend) -> None:
    assert isinstance(llm, LlmBackend)
    assert llm.loaded
    assert "SmolLM2" in llm.name


def test_streams_an_answer_in_pieces(llm: LlamaCppBackend) -> None:
    async def main() -> tuple[list[str], LlmStream]:
        stream = llm.stream(QUESTION)
        async with stream:
            return [piece async for piece in stream], stream

    pieces, stream = run(main())
    text = "".join(pieces)
    assert len(pieces) >= 3
    assert text.strip()
    stats = stream.stats
    assert stats.pieces == len(pieces)
    assert stats.chars == len(text)
    assert stats.finish_reason in ("stop", "length")
    assert stats.wait_s is not None and stats.wait_s < 0.05
    assert stats.first_token_s is not None and stats.total_s is not None
    assert 0 < stats.first_token_s <= stats.total_s


def test_max_tokens_is_honoured(llm: LlamaCppBackend) -> None:
    stream = llm.stream(LONG, LlmOptions(temperature=0.0, max_tokens=5))
    run(stream.text())
    assert stream.stats.pieces <= 5
    assert stream.stats.finish_reason == "length"


def test_stop_sequences(llm: LlamaCppBackend) -> None:
    stream = llm.stream(LONG, LlmOptions(temperature=0.0, max_tokens=60, stop=(" ",)))
    text = run(stream.text())
    assert " " not in text.strip()
    assert stream.stats.finish_reason == "stop"


# -- stopping early -------------------------------------------------------------------


def test_aclose_frees_the_context_within_a_token_or_so(llm: LlamaCppBackend) -> None:
    async def main() -> tuple[LlmStream, float]:
        long, per_token_s = await start_long(llm)
        await long.aclose()
        second = llm.stream(QUESTION, SHORT_OPTS)
        await second.text()
        return second, per_token_s

    second, per_token_s = run(main())
    assert stopped_promptly(second.stats.wait_s, per_token_s)
    assert second.stats.pieces > 0
    assert llm.waiting == 0


def test_cancelling_the_consumer_task_stops_generation(llm: LlamaCppBackend) -> None:
    async def main() -> tuple[float | None, float]:
        pace: list[float] = []
        measured = asyncio.Event()

        async def consume() -> None:
            long, per_token_s = await start_long(llm)
            pace.append(per_token_s)
            measured.set()
            async for _ in long:
                pass

        task = asyncio.create_task(consume())
        await measured.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        second = llm.stream(QUESTION, SHORT_OPTS)
        await second.text()
        return second.stats.wait_s, pace[0]

    assert stopped_promptly(*run(main()))


def test_breaking_out_and_dropping_the_stream_stops_generation(llm: LlamaCppBackend) -> None:
    async def main() -> tuple[float | None, float]:
        long, per_token_s = await start_long(llm)
        async for _ in long:
            break
        del long  # no aclose(): dropping the stream lets its finaliser close it
        gc.collect()
        second = llm.stream(QUESTION, SHORT_OPTS)
        await second.text()
        return second.stats.wait_s, per_token_s

    assert stopped_promptly(*run(main()))


# -- sharing contexts -----------------------------------------------------------------


async def two_at_once(backend: LlamaCppBackend) -> tuple[LlmStream, LlmStream]:
    opts = LlmOptions(temperature=0.0, max_tokens=40)
    first, second = backend.stream(LONG, opts), backend.stream(LONG, opts)
    await asyncio.gather(first.text(), second.text())
    return first, second


def span(stream: LlmStream) -> tuple[float, float]:
    """Absolute monotonic times of the first and the last piece."""
    stats = stream.stats
    assert stats.first_token_s is not None and stats.total_s is not None
    return stats.started + stats.first_token_s, stats.started + stats.total_s


def test_one_context_serves_requests_one_after_the_other(llm: LlamaCppBackend) -> None:
    first, second = run(two_at_once(llm))
    assert first.stats.pieces == second.stats.pieces == 40
    first_start, first_end = span(first)
    second_start, _ = span(second)
    assert second_start >= first_end  # FIFO: the second waited for the whole first reply
    assert second.stats.wait_s is not None and second.stats.wait_s >= first_end - first_start


def test_two_contexts_serve_two_requests_at_once(llm2: LlamaCppBackend) -> None:
    first, second = run(two_at_once(llm2))
    assert first.stats.pieces == second.stats.pieces == 40
    assert first.stats.wait_s is not None and first.stats.wait_s < 0.05
    assert second.stats.wait_s is not None and second.stats.wait_s < 0.05
    first_start, first_end = span(first)
    second_start, second_end = span(second)
    assert second_start < first_end and first_start < second_end  # the replies overlap


def test_event_loop_stays_responsive_during_generation(llm2: LlamaCppBackend) -> None:
    async def main() -> float:
        gaps: list[float] = []
        stop = asyncio.Event()

        async def ticker() -> None:
            last = time.monotonic()
            while not stop.is_set():
                await asyncio.sleep(0.010)
                now = time.monotonic()
                gaps.append(now - last)
                last = now

        tick = asyncio.create_task(ticker())
        opts = LlmOptions(temperature=0.0, max_tokens=100)
        await asyncio.gather(llm2.stream(LONG, opts).text(), llm2.stream(LONG, opts).text())
        stop.set()
        await tick
        assert len(gaps) > 20
        return max(gaps)

    assert run(main()) < 0.100


# -- limits and errors ----------------------------------------------------------------


def test_llm_busy_when_too_many_wait() -> None:
    backend = LlamaCppBackend(MODEL, LlmOptions(), contexts=1, max_waiting=1)
    backend.load()

    async def main() -> None:
        running = backend.stream(LONG, LONG_OPTS)
        await anext(running)  # holds the only context
        waiting = asyncio.create_task(backend.stream(QUESTION, SHORT_OPTS).text())
        await asyncio.sleep(0)  # one step: the task runs until it waits for the context
        assert backend.waiting == 1
        with pytest.raises(LlmBusy, match="waiting"):
            await backend.stream(QUESTION, SHORT_OPTS).text()
        await running.aclose()
        assert (await waiting).strip()  # the queued request is served once the context frees
        assert backend.waiting == 0

    try:
        run(main())
    finally:
        backend.close()


def test_cancelled_waiter_leaves_the_queue(llm: LlamaCppBackend) -> None:
    async def main() -> str:
        running = llm.stream(LONG, LONG_OPTS)
        await anext(running)
        waiter = asyncio.create_task(llm.stream(QUESTION, SHORT_OPTS).text())
        await asyncio.sleep(0)
        assert llm.waiting == 1
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        assert llm.waiting == 0
        await running.aclose()
        return await llm.stream(QUESTION, SHORT_OPTS).text()

    assert run(main()).strip()


def test_missing_model_file_is_a_clear_error_on_load(tmp_path: Path) -> None:
    missing = tmp_path / "nope.gguf"
    backend = LlamaCppBackend(missing, LlmOptions())
    with pytest.raises(LlmError, match=r"GGUF model not found: .*nope\.gguf"):
        backend.load()
    assert not backend.loaded


def test_corrupt_model_file_is_a_clear_error_on_load(tmp_path: Path) -> None:
    junk = tmp_path / "junk.gguf"
    junk.write_bytes(b"this is not a gguf file" * 100)
    backend = LlamaCppBackend(junk, LlmOptions())
    with pytest.raises(LlmError, match="cannot load GGUF model"):
        backend.load()
    assert not backend.loaded


def test_stream_before_load_is_an_error() -> None:
    backend = LlamaCppBackend(MODEL, LlmOptions())
    with pytest.raises(LlmError, match="not loaded"):
        run(backend.stream(QUESTION).text())


def test_model_error_reaches_the_consumer_as_llm_error() -> None:
    backend = LlamaCppBackend(MODEL, LlmOptions(n_ctx=64))
    backend.load()
    too_long = [{"role": "user", "content": "hello there " * 200}]
    try:
        with pytest.raises(LlmError, match="generation failed"):
            run(backend.stream(too_long).text())
        # The context survives a failed request.
        small = LlmOptions(temperature=0.0, max_tokens=4)
        assert run(backend.stream([{"role": "user", "content": "Hi"}], small).text())
    finally:
        backend.close()


def test_close_ends_a_running_stream_with_an_error() -> None:
    backend = LlamaCppBackend(MODEL, LlmOptions())
    backend.load()

    async def main() -> None:
        stream = backend.stream(LONG, LONG_OPTS)
        await anext(stream)
        backend.close()
        with pytest.raises(LlmError, match="closed"):
            async for _ in stream:
                pass

    run(main())
    assert not backend.loaded


def test_contexts_must_be_positive() -> None:
    with pytest.raises(ValueError):
        LlamaCppBackend(MODEL, LlmOptions(), contexts=0)

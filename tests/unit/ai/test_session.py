"""The session's supervision: a crash in any task of a call is heard (the apology), ends that
call cleanly (or, for a model error in one turn, only that turn), leaves no task behind, and
leaves the other call alone."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from fake_brain import APOLOGY, GREETING, FakeBrain, FakeChannel, say, until

from ai.channel import Dtmf
from ai.session import Session

ANSWER = "We open at nine. See you soon."


async def converse(brain: FakeBrain, name: str) -> tuple[FakeChannel, Session, asyncio.Task]:
    ch = FakeChannel(name)
    session = Session(brain, ch)  # type: ignore[arg-type]
    task = asyncio.create_task(session.run(), name=f"test-{name}")
    await until(lambda: GREETING in ch.said)
    return ch, session, task


async def finish(ch: FakeChannel, task: asyncio.Task) -> None:
    ch.end()
    async with asyncio.timeout(5):
        await task


def leftover_tasks() -> list[asyncio.Task]:
    me = asyncio.current_task()
    return [t for t in asyncio.all_tasks() if t is not me and not t.done()]


def run(coro_fn: Callable[[], object]) -> None:
    brain_holder: list[FakeBrain] = []

    async def main() -> None:
        await coro_fn(brain_holder)  # type: ignore[operator]

    try:
        asyncio.run(main())
    finally:
        for brain in brain_holder:
            brain.close()


def test_a_normal_turn_is_answered_sentence_by_sentence() -> None:
    async def scenario(holder: list[FakeBrain]) -> None:
        brain = FakeBrain()
        holder.append(brain)
        ch, session, task = await converse(brain, "ok")
        await say(ch)
        await until(lambda: "See you soon." in ch.said)
        assert ch.said == [GREETING, "We open at nine.", "See you soon."]
        assert all(rate == brain.tts.sample_rate for _, rate in ch.plays)
        await finish(ch, task)
        assert [r.user_text for r in session.records] == ["what time do you open"]
        assert not session.supervisor.tasks and not leftover_tasks()

    run(scenario)


def test_a_model_error_costs_one_turn_and_the_call_goes_on() -> None:
    async def scenario(holder: list[FakeBrain]) -> None:
        brain = FakeBrain()
        holder.append(brain)
        brain.llm.fail_next = 1
        ch, session, task = await converse(brain, "model-error")
        await say(ch)
        await until(lambda: APOLOGY in ch.said)
        await say(ch)
        await until(lambda: "See you soon." in ch.said)
        assert not ch.hangups and not ch.ended
        assert session.records[0].error.startswith("RuntimeError")
        await finish(ch, task)
        assert not session.supervisor.failures, "a model error is the turn's, not a crash"
        assert not leftover_tasks()

    run(scenario)


def inject_audio(brain: FakeBrain, ch: FakeChannel, session: Session) -> None:
    brain.vad.fail = True


def inject_dtmf(brain: FakeBrain, ch: FakeChannel, session: Session) -> None:
    ch.events.put_nowait(object())  # type: ignore[arg-type]  # not a Dtmf: a bug downstream


def inject_reply(brain: FakeBrain, ch: FakeChannel, session: Session) -> None:
    def broken(record: object) -> None:
        raise RuntimeError("injected bug after the reply")

    session.replies.on_turn_done = broken


def inject_onset(brain: FakeBrain, ch: FakeChannel, session: Session) -> None:
    ch.onset_error = RuntimeError("injected onset failure")


def inject_partials(brain: FakeBrain, ch: FakeChannel, session: Session) -> None:
    async def broken(audio: bytes, call: str) -> None:
        raise RuntimeError("injected partials failure")

    session.feed.listener = lambda event: None
    brain.settings = type(brain.settings)(apology=APOLOGY, partial_interval_ms=20)
    brain.transcribe_safely = broken  # type: ignore[method-assign]


@pytest.mark.parametrize(
    ("task_name", "inject", "trigger_turn"),
    [
        ("audio", inject_audio, True),
        ("dtmf", inject_dtmf, False),
        ("reply", inject_reply, True),
        ("onset", inject_onset, True),
        ("partials", inject_partials, True),
    ],
)
def test_a_crashing_task_apologises_ends_its_call_and_spares_the_other(
    task_name: str, inject: Callable[..., None], trigger_turn: bool
) -> None:
    async def scenario(holder: list[FakeBrain]) -> None:
        brain, healthy_brain = FakeBrain(), FakeBrain()
        holder += [brain, healthy_brain]
        ch, session, task = await converse(brain, "crashing")
        other, _, other_task = await converse(healthy_brain, "healthy")
        inject(brain, ch, session)
        if trigger_turn:
            await asyncio.gather(say(ch), say(other))
        else:
            await say(other)
        async with asyncio.timeout(5):
            await task  # the crashing call ends by itself
        assert APOLOGY in ch.said, f"no apology after a crash in {task_name}: {ch.said}"
        assert ch.hangups == [f"internal error in {task_name}"]
        assert [name for name, _ in session.supervisor.failures] == [task_name]
        assert not session.supervisor.tasks

        await until(lambda: "See you soon." in other.said)
        assert APOLOGY not in other.said and not other.hangups and not other.ended
        await finish(other, other_task)
        assert not leftover_tasks()

    run(scenario)


def test_greeting_crash_apologises_and_hangs_up() -> None:
    async def scenario(holder: list[FakeBrain]) -> None:
        brain = FakeBrain()
        holder.append(brain)
        ch = FakeChannel("greet")
        ch.onset_error = RuntimeError("injected greeting failure")
        session = Session(brain, ch)  # type: ignore[arg-type]
        async with asyncio.timeout(5):
            await session.run()
        assert ch.said == [GREETING, APOLOGY]
        assert ch.hangups == ["internal error in greet"]
        assert not leftover_tasks()

    run(scenario)


def test_hangup_digit_ends_the_call_without_an_apology() -> None:
    async def scenario(holder: list[FakeBrain]) -> None:
        brain = FakeBrain()
        holder.append(brain)
        ch, session, task = await converse(brain, "dtmf")
        ch.events.put_nowait(Dtmf("#"))
        async with asyncio.timeout(5):
            await task
        assert ch.hangups == ["caller pressed #"] and APOLOGY not in ch.said
        assert not session.supervisor.failures and not leftover_tasks()

    run(scenario)


def test_a_menu_key_says_its_line_and_other_keys_do_nothing() -> None:
    line = "Our hours are nine to five."

    async def scenario(holder: list[FakeBrain]) -> None:
        brain = FakeBrain()
        holder.append(brain)
        brain.agent.digit_lines = {"1": (line, line.encode())}
        ch, session, task = await converse(brain, "keys")
        ch.events.put_nowait(Dtmf("7"))  # not on the menu
        ch.events.put_nowait(Dtmf("1"))
        await until(lambda: line in ch.said)
        assert ch.said == [GREETING, line] and not ch.hangups
        await say(ch)  # the conversation goes on after the key
        await until(lambda: "See you soon." in ch.said)
        await finish(ch, task)
        assert not session.supervisor.failures and not leftover_tasks()

    run(scenario)


def test_the_session_refuses_a_channel_at_another_rate() -> None:
    ch = FakeChannel("8k")
    ch.sample_rate = 8000  # type: ignore[misc]
    brain = FakeBrain()
    try:
        with pytest.raises(ValueError, match="resampling is the channel's job"):
            Session(brain, ch)  # type: ignore[arg-type]
    finally:
        brain.close()


def test_the_naive_baseline_speaks_the_whole_reply_at_once() -> None:
    async def scenario(holder: list[FakeBrain]) -> None:
        brain = FakeBrain()
        holder.append(brain)
        brain.settings = type(brain.settings)(apology=APOLOGY, pipeline="naive")
        ch, session, task = await converse(brain, "naive")
        await say(ch, silence_s=1.2)  # the baseline waits for 800 ms of silence
        await until(lambda: len(ch.said) == 2)
        assert ch.said == [GREETING, ANSWER]
        await finish(ch, task)
        assert session.records[0].bot_text == ANSWER

    run(scenario)

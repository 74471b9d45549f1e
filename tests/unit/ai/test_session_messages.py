"""A message taken in a call: asked for, typed keys as the callback number, handed to the
store step by step; a hang-up in the middle leaves it incomplete; no store, no crash."""

from __future__ import annotations

import asyncio

from fake_brain import GREETING, FakeAgent, FakeBrain, FakeChannel, say, until
from test_session import finish, leftover_tasks, run

from ai import keypad, message_taking
from ai.agent import CallInfo
from ai.channel import Dtmf
from ai.session import Session


async def start(brain: FakeBrain) -> tuple[FakeChannel, Session, asyncio.Task]:
    ch = FakeChannel("message")
    session = Session(brain, ch, info=CallInfo(caller="+15550100", dialled="100"))  # type: ignore[arg-type]
    task = asyncio.create_task(session.run())
    await until(lambda: GREETING in ch.said)
    return ch, session, task


async def turn(brain: FakeBrain, ch: FakeChannel, text: str, expect: str) -> None:
    brain.stt.text = text
    await say(ch)
    await until(lambda: expect in " ".join(ch.said))


def test_a_message_taken_with_a_typed_number_reaches_the_store() -> None:
    async def scenario(holder: list[FakeBrain]) -> None:
        brain = FakeBrain(FakeAgent(take_messages=True))
        holder.append(brain)
        keypad.DIGIT_GAP_S, gap = 0.05, keypad.DIGIT_GAP_S
        try:
            ch, session, task = await start(brain)
            await turn(brain, ch, "Can I leave a message?", message_taking.START)
            await turn(brain, ch, "It's Jane Doe.", "best number")
            for digit in "5550123":
                ch.events.put_nowait(Dtmf(digit))
            await until(lambda: "five five five, zero one two three" in " ".join(ch.said))
            await turn(brain, ch, "Yes.", "what's your message")
            await turn(brain, ch, "Please call me back tomorrow.", "taken your message")
            [stored] = brain.messages.latest.values()
            assert (stored.name, stored.number, stored.complete) == ("Jane Doe", "5550123", True)
            assert stored.text == "Please call me back tomorrow."
            assert (stored.caller, stored.dialled, stored.agent) == ("+15550100", "100", "fake")
            assert stored.answers == ("It's Jane Doe.", "5550123", "Yes.", stored.text)
            # Every step was handed over as it happened, and the spoken answers' audio too.
            assert len(brain.messages.submitted) == 5
            assert brain.messages.submitted[-1][1]  # audio of the spoken answers
            # The digits never became a menu key or reached the LLM.
            assert not any("5550123" in m["content"] for m in session.conversation.messages())
            assert not ch.ended
            await finish(ch, task)
            assert not session.supervisor.failures and not leftover_tasks()
        finally:
            keypad.DIGIT_GAP_S = gap

    run(scenario)


def test_a_hang_up_in_the_middle_leaves_the_message_incomplete() -> None:
    async def scenario(holder: list[FakeBrain]) -> None:
        brain = FakeBrain(FakeAgent(take_messages=True))
        holder.append(brain)
        ch, session, task = await start(brain)
        await turn(brain, ch, "I'd like to leave a message.", message_taking.START)
        await turn(brain, ch, "Bob Stone", "best number")
        await finish(ch, task)
        [stored] = brain.messages.latest.values()
        assert stored.name == "Bob Stone" and not stored.complete and stored.number == ""
        assert not session.supervisor.failures and not leftover_tasks()

    run(scenario)


def test_without_a_store_the_message_is_logged_and_the_call_goes_on() -> None:
    async def scenario(holder: list[FakeBrain]) -> None:
        brain = FakeBrain(FakeAgent(take_messages=True))
        brain.messages = None  # type: ignore[assignment]
        holder.append(brain)
        ch, session, task = await start(brain)
        await turn(brain, ch, "Can I leave a message?", message_taking.START)
        await turn(brain, ch, "Bob Stone", "best number")
        await finish(ch, task)
        assert not session.supervisor.failures and not leftover_tasks()

    run(scenario)

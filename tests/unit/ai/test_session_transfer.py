"""A caller put through to a person: by asking or by the transfer key; refused by the PBX;
on a channel that cannot transfer; back from a transfer that found nobody."""

from __future__ import annotations

import asyncio

from fake_brain import GREETING, FakeAgent, FakeBrain, FakeChannel, say, until
from test_session import finish, leftover_tasks, run

from ai import transfer
from ai.agent import CallInfo
from ai.channel import Dtmf
from ai.session import Session

TARGET = "people,reception,1"


async def start(
    brain: FakeBrain, can_transfer: bool = True, info: CallInfo | None = None, first: str = GREETING
) -> tuple[FakeChannel, Session, asyncio.Task]:
    ch = FakeChannel("transfer")
    ch.can_transfer = can_transfer
    session = Session(brain, ch, info=info)  # type: ignore[arg-type]
    task = asyncio.create_task(session.run())
    await until(lambda: first in ch.said)
    return ch, session, task


def heard(ch: FakeChannel) -> str:
    """What the caller heard, as one text (a reply is spoken sentence by sentence)."""
    return " ".join(ch.said)


def asking_brain(text: str = "Can I speak to a real person, please?") -> FakeBrain:
    brain = FakeBrain(FakeAgent(transfer_to=TARGET))
    brain.stt.text = text
    return brain


def test_a_caller_who_asks_for_a_person_is_put_through_after_one_line() -> None:
    async def scenario(holder: list[FakeBrain]) -> None:
        brain = asking_brain()
        holder.append(brain)
        ch, session, task = await start(brain)
        await say(ch)
        async with asyncio.timeout(5):
            await task  # the channel ended: the call left the bot
        assert heard(ch) == f"{GREETING} {transfer.GOING}"
        assert ch.transfers == [TARGET] and not ch.hangups
        assert session.records[-1].answer == "transfer"
        assert not session.supervisor.failures and not leftover_tasks()

    run(scenario)


def test_the_transfer_key_puts_the_caller_through() -> None:
    async def scenario(holder: list[FakeBrain]) -> None:
        brain = asking_brain("what time do you open")
        holder.append(brain)
        ch, session, task = await start(brain)
        ch.events.put_nowait(Dtmf("0"))
        async with asyncio.timeout(5):
            await task
        assert ch.said == [GREETING, transfer.GOING] and ch.transfers == [TARGET]
        assert not session.supervisor.failures and not leftover_tasks()

    run(scenario)


def test_a_refused_transfer_is_said_and_the_call_goes_on() -> None:
    async def scenario(holder: list[FakeBrain]) -> None:
        brain = asking_brain()
        holder.append(brain)
        ch, session, task = await start(brain)
        ch.transfer_works = False
        await say(ch)
        await until(lambda: transfer.FAILED in ch.said)
        assert heard(ch) == f"{GREETING} {transfer.GOING} {transfer.FAILED}" and not ch.ended
        brain.stt.text = "what time do you open"
        await say(ch)
        await until(lambda: "See you soon." in ch.said)
        await finish(ch, task)
        assert not session.supervisor.failures and not leftover_tasks()

    run(scenario)


def test_where_nobody_can_be_reached_the_bot_says_so_and_goes_on() -> None:
    async def scenario(holder: list[FakeBrain]) -> None:
        for brain, can in ((asking_brain(), False), (FakeBrain(), True)):
            holder[:] = [brain]
            brain.stt.text = "Can I talk to someone?"
            ch, session, task = await start(brain, can_transfer=can)
            await say(ch)
            await until(lambda ch=ch: transfer.CANNOT in heard(ch))
            assert not ch.transfers and not ch.ended
            await finish(ch, task)
            assert not session.supervisor.failures and not leftover_tasks()
            brain.close()

    run(scenario)


def test_the_transfer_key_on_a_channel_that_cannot_transfer_says_so() -> None:
    async def scenario(holder: list[FakeBrain]) -> None:
        brain = asking_brain("what time do you open")
        holder.append(brain)
        ch, session, task = await start(brain, can_transfer=False)
        ch.events.put_nowait(Dtmf("0"))
        await until(lambda: transfer.CANNOT in ch.said)
        assert not ch.transfers and not ch.ended
        await finish(ch, task)
        assert not session.supervisor.failures and not leftover_tasks()

    run(scenario)


def test_a_caller_back_from_an_unanswered_transfer_hears_nobody_is_available() -> None:
    async def scenario(holder: list[FakeBrain]) -> None:
        brain = asking_brain("what time do you open")
        holder.append(brain)
        info = CallInfo(agent="fake", transfer_status="NOANSWER")
        ch, session, task = await start(brain, info=info, first=transfer.NOBODY)
        assert ch.said == [transfer.NOBODY]
        await say(ch)
        await until(lambda: "See you soon." in ch.said)
        await finish(ch, task)
        assert not session.supervisor.failures and not leftover_tasks()

    run(scenario)

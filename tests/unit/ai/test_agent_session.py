"""A session of an agent with facts: the owner's sentence is spoken without the LLM, a
goodbye ends the call after the closing line, and the call learns its agent by name."""

from __future__ import annotations

import asyncio

from fake_brain import GREETING, FakeAgent, FakeBrain, FakeChannel, say, until

from ai.agent import CallInfo
from ai.knowledge import parse
from ai.session import Session

FACTS = "# Pine Vets\n\n## Hours\n- Monday to Friday: 9 am to 7 pm.\n- Saturday: 10 am to 1 pm.\n"


def test_fact_answer_needs_no_llm_and_goodbye_hangs_up() -> None:
    async def scenario() -> None:
        brain = FakeBrain(FakeAgent(parse(FACTS)))
        brain.llm.fail_next = 99  # any LLM call would be heard as the apology
        ch = FakeChannel("vets")
        session = Session(brain, ch, info=CallInfo(agent="vets", caller="555"))  # type: ignore[arg-type]
        task = asyncio.create_task(session.run())
        try:
            await until(lambda: GREETING in ch.said)
            brain.stt.text = "what time do you open on saturday?"
            await say(ch)
            await until(lambda: len(ch.said) >= 2)
            assert ch.said[1] == "Saturday: 10 am to 1 pm."
            assert session.records[-1].answer == "fact"
            brain.stt.text = "great, thanks, bye"
            await say(ch)
            await until(lambda: bool(ch.hangups))
            assert ch.said[-2:] == ["Thank you for calling Pine Vets.", "Goodbye!"]
            assert brain.agent_names == ["vets"]
        finally:
            ch.end()
            async with asyncio.timeout(5):
                await task
            brain.close()

    asyncio.run(scenario())


def test_a_long_first_sentence_starts_at_a_comma() -> None:
    from ai.reply import speech_chunks

    long = "If the power goes out at night, the back door stays locked until morning."
    assert speech_chunks(long + " Call us.") == [
        "If the power goes out at night,",
        "the back door stays locked until morning.",
        "Call us.",
    ]
    assert speech_chunks("Saturday: 9 am to 1 pm.") == ["Saturday: 9 am to 1 pm."]

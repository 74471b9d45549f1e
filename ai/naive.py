"""The naive baseline the benchmark compares against (``pipeline = "naive"``).

What a pipeline without streaming does: wait for a fixed silence (the session
uses ``naive_silence_ms`` and no speculation), transcribe the whole turn, wait
for the whole LLM reply, synthesise all of it, then play. It shares everything
else with the real pipeline (models, stamps, memory, apology), so the
benchmark's difference is the streaming and nothing more.
"""

from __future__ import annotations

import asyncio
from contextlib import aclosing
from typing import TYPE_CHECKING

from ai.sentences import clean_for_speech, has_speech

if TYPE_CHECKING:
    from ai.reply import Messages, Replies, Reply


async def naive_reply(replies: Replies, reply: Reply, messages: Messages) -> None:
    """The whole LLM reply, then the whole TTS, then play."""
    loop = asyncio.get_running_loop()
    record = reply.record
    text = ""
    async with aclosing(replies.brain.llm.stream(messages)) as pieces:
        async for piece in pieces:
            record.stamp("llm_first_token", loop.time())
            text += piece
    text = clean_for_speech(text)
    record.stamp("first_sentence", loop.time())
    if not has_speech(text):
        return
    pcm = await replies.tts.synthesize(text)
    record.stamp("tts_first_audio", loop.time())
    await reply.released.wait()
    await replies.play(pcm, record)
    reply.spoken.append(text)

"""The reply pipeline: caller's audio -> final transcript -> LLM tokens -> sentences -> speech.

Theory of operation
-------------------
One ``Reply`` is one answer in the making, run as a single task, so it is
cancelled as one unit: cancelling it stops the STT wait, the LLM stream (its
``aclose()`` frees the model context) and the TTS of the sentence in progress.

A reply can start *speculatively*, before the caller's turn is known to be over
(the session starts one when the caller pauses): it transcribes and generates
at once, but says nothing until ``released`` is set (the endpoint). If the
caller goes on, the session cancels it and nothing was heard.

How the words become speech is the *strategy*: ``agent_reply`` (here) asks the
call's ``Responder`` (ai/responder.py) first: a fact, a polite line or "I don't
know" goes to TTS at once, with no LLM; only chat goes to the LLM, whose reply is
checked against the facts before it is spoken. ``stream_reply`` feeds LLM pieces
into the sentence splitter and speaks each sentence as soon as it is complete
(an agent without facts); ``ai/naive.py`` is the benchmark's baseline (whole
reply, whole TTS, then play). Everything else (stamps, memory, the apology) is
shared.

A model that throws costs one turn, not the call: the caller hears the apology
(rendered at start-up, so it needs no model), what was said is kept in the
turn record and the conversation goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Awaitable, Callable
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ai import transfer, utterance_dump
from ai.agent import Agent, CallInfo
from ai.channel import Channel
from ai.knowledge import split_sentences
from ai.memory import Conversation
from ai.message_keeper import MessageKeeper
from ai.responder import Decision, Kind, Responder
from ai.sentences import SentenceSplitter, clean_for_speech
from ai.stamps import TurnRecord
from ai.stt import Transcript
from ai.supervisor import CallSupervisor
from ai.turns import TurnTaker

if TYPE_CHECKING:
    from ai.brain import Brain

log = logging.getLogger(__name__)

Messages = list[dict[str, str]]


@dataclass
class Reply:
    """A reply in the making. It speaks only once released (the endpoint)."""

    record: TurnRecord
    audio: bytes = b""  # the caller's turn
    released: asyncio.Event = field(default_factory=asyncio.Event)
    spoken: list[str] = field(default_factory=list)
    task: asyncio.Task[None] | None = None
    on_release: Callable[[], None] | None = None  # run once, when released

    def release(self) -> None:
        """The caller's turn is over: speak, and commit what the turn decided."""
        self.released.set()
        self.run_on_release()

    def run_on_release(self) -> None:
        if self.released.is_set() and self.on_release is not None:
            call, self.on_release = self.on_release, None
            call()


Strategy = Callable[["Replies", Reply, Messages], Awaitable[None]]


async def stream_reply(replies: Replies, reply: Reply, messages: Messages) -> None:
    """LLM pieces -> sentence splitter -> each sentence spoken as soon as it is complete."""
    loop = asyncio.get_running_loop()
    splitter = SentenceSplitter()
    async with aclosing(replies.brain.llm.stream(messages)) as pieces:
        async for piece in pieces:
            reply.record.stamp("llm_first_token", loop.time())
            for sentence in splitter.push(piece):
                await replies.speak(sentence, reply)
    for sentence in splitter.flush():
        await replies.speak(sentence, reply)


async def agent_reply(replies: Replies, reply: Reply, messages: Messages) -> None:
    """The responder's decision: the business's own sentences, a line, or checked chat."""
    loop = asyncio.get_running_loop()
    responder = replies.responder
    decision = await loop.run_in_executor(
        replies.brain.text_executor,
        responder.decide,
        messages[-1]["content"],
        replies.conversation.last_user(),
    )
    reply.record.stamp("decided", loop.time())
    reply.record.answer = decision.kind.value
    # What the turn changes (a message's step, topics told) holds once it is the caller's
    # whole turn: at once if released already, else when released (never, if cancelled).
    reply.on_release = functools.partial(replies.commit, decision, reply.audio)
    reply.run_on_release()
    text = decision.text
    if decision.kind is Kind.CHAT:
        if not responder.has_facts:
            await stream_reply(replies, reply, messages)
            return
        generated = ""
        async with aclosing(replies.brain.llm.stream(messages)) as pieces:
            async for piece in pieces:
                reply.record.stamp("llm_first_token", loop.time())
                generated += piece
        text = responder.checked(clean_for_speech(generated))
    for chunk in speech_chunks(text):
        await replies.speak(chunk, reply)
    if decision.hang_up:
        replies.supervisor.spawn(_hang_up_when_said(replies), "goodbye")
    if decision.transfer:
        replies.supervisor.spawn(_put_through_when_said(replies), "transfer")


def speech_chunks(text: str, long_words: int = 12, min_words: int = 5) -> list[str]:
    """The owner's sentences, the first one cut at a comma when it is long: the caller
    hears it start after a few words' synthesis, not the whole sentence's."""
    chunks = split_sentences(text)
    if chunks and len(chunks[0].split()) > long_words:
        words = chunks[0].split()
        for i in range(min_words, len(words) - min_words):
            if words[i - 1].endswith(","):
                chunks[:1] = [" ".join(words[:i]), " ".join(words[i:])]
                break
    return chunks


async def _hang_up_when_said(replies: Replies) -> None:
    await replies.ch.wait_output_idle()
    await replies.ch.hangup("the caller said goodbye")


async def _put_through_when_said(replies: Replies) -> None:
    agent = replies.agent
    failed = agent.transfer_lines[transfer.FAILED]
    await transfer.hand_over(replies.ch, agent.spec.transfer_to, lambda: replies.say_line(*failed))


class Replies:
    """Makes the replies of one conversation; the session decides when to start and cancel."""

    def __init__(
        self,
        brain: Brain,
        agent: Agent,
        responder: Responder,
        channel: Channel,
        conversation: Conversation,
        turns: TurnTaker,
        supervisor: CallSupervisor,
        strategy: Strategy,
        *,
        on_user_text: Callable[[TurnRecord], None],
        on_turn_done: Callable[[TurnRecord], None],
        say_line: Callable[[str, bytes], Awaitable[None]],
        info: CallInfo | None = None,
    ) -> None:
        self.brain = brain
        self.agent = agent
        self.tts = agent.tts  # the agent's voice
        self.responder = responder
        self.ch = channel
        self.conversation = conversation
        self.turns = turns
        self.supervisor = supervisor
        self.strategy = strategy
        self.on_user_text = on_user_text
        self.on_turn_done = on_turn_done
        # The session's own fixed-line turn (a rendered line said as the bot's turn, heard
        # and barge-in-able like any reply), for what a reply says after it has ended.
        self.say_line = say_line
        self.keeper = MessageKeeper(brain.messages, agent.name, channel.name, info or CallInfo())

    def commit(self, decision: Decision, audio: bytes) -> None:
        """The caller's turn is over: the responder takes the state it decided, and a
        message it took a step of is handed to the store."""
        self.responder.commit(decision)
        if decision.message is not None:
            self.keeper.keep(decision.message, audio, decision.new_message)

    def start(self, speech_end: float, audio: bytes, transcript: Transcript | None) -> Reply:
        reply = Reply(TurnRecord(self.ch.name, 0, speech_end), audio=audio)
        reply.task = self.supervisor.spawn(self._answer(reply, audio, transcript), "reply")
        return reply

    @staticmethod
    async def cancel(reply: Reply | None) -> None:
        if reply is not None and reply.task is not None and not reply.task.done():
            reply.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reply.task

    async def _answer(self, reply: Reply, audio: bytes, transcript: Transcript | None) -> None:
        record, released = reply.record, reply.released
        completed = False
        try:
            if transcript is None:
                transcript = await self.brain.stt.transcribe(audio)
            record.stamp("stt_final", asyncio.get_running_loop().time())
            utterance_dump.dump(audio, f"{self.ch.name}-{record.speech_end:.3f}", transcript.text)
            if transcript.rejected or not transcript.text:
                await released.wait()
                log.info(
                    "session %s: nothing to answer in %.2f s of audio (%s: %r)",
                    self.ch.name,
                    transcript.audio_s,
                    transcript.rejected or "empty",
                    transcript.text,
                )
                completed = True
                return
            record.user_text = transcript.text
            if released.is_set():
                self.on_user_text(record)
            messages = [
                *self.conversation.messages(),
                {"role": "user", "content": transcript.text},
            ]
            await self.strategy(self, reply, messages)
            await self.ch.wait_output_idle()
            completed = True
        except asyncio.CancelledError:
            record.interrupted = True
            raise
        except Exception as exc:
            record.error = f"{exc.__class__.__name__}: {exc}"
            await released.wait()
            log.error(
                "session %s: turn %d failed, apologising: %s",
                self.ch.name,
                record.turn,
                record.error,
                exc_info=True,
            )
            with contextlib.suppress(Exception):
                await self.play(self.brain.apology_pcm, record, self.brain.tts.sample_rate)
                reply.spoken.append(self.brain.settings.apology)
                await self.ch.wait_output_idle()
        finally:
            record.bot_text = " ".join(reply.spoken)
            if record.user_text and reply.spoken:
                self.conversation.add_user(record.user_text)
                self.conversation.add_assistant(record.bot_text, interrupted=not completed)
            if released.is_set() and (record.user_text or record.error):
                self.on_turn_done(record)
            self.turns.reply_finished()

    async def speak(self, sentence: str, reply: Reply) -> None:
        """Synthesise one sentence now; play it once the reply is released."""
        loop = asyncio.get_running_loop()
        reply.record.stamp("first_sentence", loop.time())
        pcm = await self.tts.synthesize(sentence)
        if not reply.spoken:
            pcm = self.brain.trim_leading_silence(pcm, self.tts.sample_rate)
        reply.record.stamp("tts_first_audio", loop.time())
        await reply.released.wait()
        await self.play(pcm, reply.record)
        reply.spoken.append(sentence)

    async def play(self, pcm: bytes, record: TurnRecord | None, rate: int = 0) -> None:
        """Queue speech at ``rate`` (the agent's voice's by default; the channel converts
        it); stamp its onset."""
        first = record is not None and "first_frame_out" not in record.stamps
        onset = self.ch.next_speech_onset() if first else None
        await self.ch.play(self.brain.volume(pcm), rate or self.tts.sample_rate)
        if onset is not None and record is not None:
            self.supervisor.spawn(self._await_onset(onset, record), "onset")

    async def _await_onset(self, onset: asyncio.Future[float], record: TurnRecord) -> None:
        t = await onset
        record.stamp("first_frame_out", t)
        self.turns.bot_started()

"""One conversation on one channel: the pieces wired together, and the turn events routed.

Theory of operation
-------------------
``Session.run()`` starts the call's tasks under its ``CallSupervisor``
(ai/supervisor.py): the greeting, the keypad (ai/keypad.py) and the audio task. The audio
task gives each 16 kHz frame to ``Hearing`` (ai/hearing.py), scores whole VAD
windows on the VAD's worker thread and routes the ``TurnTaker``'s events here:

- ``UtteranceStarted``: collect the caller's audio (with pre-roll); partial
  transcripts run while the caller speaks (for listeners, e.g. the web page);
- ``SpeechPaused``: start a reply *speculatively* (ai/reply.py): transcribe and
  generate now, say nothing until the endpoint; ``SpeechResumed`` cancels it;
- ``UtteranceEnded``: release the speculative reply if it covered the whole
  utterance, else start a fresh one, and release it;
- ``PauseBot`` / ``ResumeBot`` / ``BargeIn`` / ``Interjection``: the caller cut
  in. These control events act on the channel *before* anything else is
  awaited (pause, flush): there is no queue between hearing and speaking for
  them to wait in, so they always jump ahead of the reply's audio.

Failure policy: a model error inside one turn is the reply's own business (an
apology, the call goes on). Any other task that raises is a bug: the supervisor logs
it, and ``_fail`` apologises and hangs up, so the caller is never left on a silent
line. When the channel ends, every task is cancelled with a deadline.
"""

from __future__ import annotations

import asyncio
import functools
import logging

from ai.agent import CallInfo
from ai.backchannel import is_backchannel
from ai.brain import Brain
from ai.channel import BRAIN_RATE, Channel
from ai.hearing import Hearing
from ai.keypad import Keypad
from ai.live_feed import LiveFeed, SessionListener
from ai.memory import Conversation
from ai.naive import naive_reply
from ai.reply import Replies, Reply, agent_reply
from ai.stt import Transcript
from ai.supervisor import CallSupervisor
from ai.turns import (
    BargeIn,
    Interjection,
    PauseBot,
    ResumeBot,
    SpeechPaused,
    SpeechResumed,
    TurnEvent,
    TurnOptions,
    TurnState,
    TurnTaker,
    UtteranceEnded,
    UtteranceStarted,
)

log = logging.getLogger(__name__)

FAIL_APOLOGY_TIMEOUT_S = 10.0


class Session:
    def __init__(
        self,
        brain: Brain,
        channel: Channel,
        listener: SessionListener | None = None,
        info: CallInfo | None = None,
    ) -> None:
        if channel.sample_rate != BRAIN_RATE:
            raise ValueError(
                f"channel {channel.name} delivers {channel.sample_rate} Hz; the brain takes "
                f"{BRAIN_RATE} Hz (resampling is the channel's job)"
            )
        self.brain = brain
        self.ch = channel
        self.info = info or CallInfo()
        self.agent = brain.agent_for(self.info.agent)
        self.responder = self.agent.responder(channel.can_transfer, self.info.caller)
        s = brain.settings
        # "naive": the benchmark's baseline (fixed silence timeout, no speculation, the
        # whole reply at once: ai/naive.py); "streaming": the real pipeline.
        self.naive = s.pipeline == "naive"
        endpoint_ms = s.naive_silence_ms if self.naive else s.endpoint_silence_ms
        self.turns = TurnTaker(
            TurnOptions(
                endpoint_silence_s=endpoint_ms / 1000.0,
                barge_in_min_s=s.barge_in_min_ms / 1000.0,
                backchannel_max_s=s.backchannel_max_ms / 1000.0,
            )
        )
        self.hearing = Hearing(self.turns, echo_margin_db=s.echo_margin_db)
        self.vad = brain.vad.new_stream()
        # An agent with facts chats in its persona (ai/responder.py); one without keeps the
        # brain's system prompt unless it has a persona of its own.
        prompt = (
            self.responder.system_prompt
            if self.responder.has_facts
            else (self.agent.spec.persona or s.system_prompt)
        )
        self.conversation = Conversation(prompt, s.history_turns, s.history_chars)
        self.feed = LiveFeed(channel.name, listener)
        self.records = self.feed.records
        self.supervisor = CallSupervisor(channel.name, on_failure=self._on_task_failure)
        self.replies = Replies(
            brain,
            self.agent,
            self.responder,
            channel,
            self.conversation,
            self.turns,
            self.supervisor,
            naive_reply if self.naive else agent_reply,
            on_user_text=self.feed.user_text,
            on_turn_done=self.feed.turn_done,
            say_line=self.say,
            info=self.info,
        )
        self._reply: Reply | None = None  # released: the caller's turn is over
        self._pending: Reply | None = None  # speculative: held until the endpoint
        self._known: Transcript | None = None  # transcript already taken (interjection)
        self._turn_no = 0
        self._failing = False

    async def run(self) -> None:
        """Converse until the channel ends; then cancel and await every task of the call."""
        info = self.info
        log.info(f"session {self.ch.name}: agent {self.agent.name} (caller {info.caller or '?'}, "
                 f"dialled {info.dialled or '?'})")  # fmt: skip
        try:
            greeting = self.agent.opening(self.info)
            if greeting is not None:
                self.supervisor.spawn(self.say(*greeting), "greet")
            spawn = self.supervisor.spawn
            keypad = Keypad(self.ch, self.brain.hangup_digit, self.agent, self, spawn)
            self.supervisor.spawn(keypad.run(), "dtmf")
            self.supervisor.spawn(self._audio_loop(), "audio")
            await self.ch.wait_ended()
        finally:
            await self.supervisor.close()
            self.feed.emit({"type": "ended", "turns": len(self.records)})

    # -- failures ---------------------------------------------------------------------

    def _on_task_failure(self, task_name: str, exc: BaseException) -> None:
        if not self._failing and not self.ch.ended:
            self._failing = True
            self.supervisor.spawn(self._fail(task_name), "fail")

    async def _fail(self, task_name: str) -> None:
        """A task of this call crashed: stop the reply, say sorry, hang up."""
        try:
            await self.stop_speaking()
            async with asyncio.timeout(FAIL_APOLOGY_TIMEOUT_S):
                await self.replies.play(self.brain.apology_pcm, None, self.brain.tts.sample_rate)
                await self.ch.wait_output_idle()
        except Exception:
            log.exception("session %s: could not play the apology", self.ch.name)
        finally:
            await self.ch.hangup(f"internal error in {task_name}")

    # -- inputs -------------------------------------------------------------------------

    async def _audio_loop(self) -> None:
        loop = asyncio.get_running_loop()
        hearing, executor = self.hearing, self.brain.vad_executor
        audio_in = self.ch.audio_in
        while True:
            hearing.frame(await audio_in.get())
            while not audio_in.empty():  # a block of frames at once: one VAD hop for all
                hearing.frame(audio_in.get_nowait())
            chunk = hearing.take_windows()
            if not chunk:
                continue
            echo = hearing.is_echo(chunk, self.ch.recent_output_dbfs())
            probs = await loop.run_in_executor(executor, self.vad.process, chunk)
            for event in hearing.events(probs, loop.time(), echo=echo):
                await self._on_turn_event(event)

    # -- turn events ------------------------------------------------------------------

    async def _on_turn_event(self, event: TurnEvent) -> None:
        if isinstance(event, UtteranceStarted):
            head = b""
            if event.continuation:
                # The caller was not done: drop the reply in the making, answer the whole thing.
                await self._cancel_reply()
                head = self.hearing.last_utterance
            await self._cancel_pending()
            self.hearing.start_utterance(head)
            self.feed.start_partials(
                self.supervisor,
                self.brain.settings.partial_interval_ms / 1000.0,
                self._utterance_so_far,
                functools.partial(self.brain.transcribe_safely, call=self.ch.name),
            )
        elif isinstance(event, SpeechPaused):
            # Start the reply now, on what was said so far, held back until the endpoint
            # confirms the caller is done: STT and the first LLM tokens hide in the silence.
            await self._cancel_pending()
            if self.turns.state is TurnState.CALLER_SPEAKING and not self.naive:
                self._pending = self.replies.start(event.t, bytes(self.hearing.utterance), None)
        elif isinstance(event, SpeechResumed):
            await self._cancel_pending()
        elif isinstance(event, UtteranceEnded):
            self.feed.stop_partials()
            audio = self.hearing.end_utterance()
            pending, self._pending = self._pending, None
            if pending is None or pending.record.speech_end != event.speech_end:
                await Replies.cancel(pending)
                known, self._known = self._known, None
                pending = self.replies.start(event.speech_end, audio, known)
            self._turn_no += 1
            pending.record.turn = self._turn_no
            pending.record.stamp("endpoint", event.detected)
            pending.release()
            self._reply = pending
            if pending.record.user_text:
                self.feed.user_text(pending.record)
        elif isinstance(event, PauseBot):
            self.ch.pause_output()
        elif isinstance(event, ResumeBot):
            self.hearing.stop_collecting()
            self.feed.stop_partials()
            await self._cancel_pending()
            self.ch.resume_output()
        elif isinstance(event, BargeIn):
            log.info("session %s: barge-in", self.ch.name)
            self.ch.flush_output()
            self.ch.resume_output()
            await self._cancel_reply()
            self.feed.emit({"type": "barge_in"})
        elif isinstance(event, Interjection):
            self.hearing.stop_collecting()
            self.feed.stop_partials()
            await self._cancel_pending()
            audio = bytes(self.hearing.utterance)
            self.supervisor.spawn(self._judge_interjection(audio), "interjection")

    async def _judge_interjection(self, audio: bytes) -> None:
        transcript = await self.brain.transcribe_safely(audio, self.ch.name)
        text = transcript.text if transcript and not transcript.rejected else ""
        backchannel = not text or is_backchannel(text)
        kind = "backchannel" if backchannel else "barge-in"
        log.info("session %s: interjection %r -> %s", self.ch.name, text, kind)
        if not backchannel:
            self._known = transcript
            self.hearing.utterance = bytearray(audio)
        now = asyncio.get_running_loop().time()
        for event in self.turns.resolve_interjection(backchannel, now):
            await self._on_turn_event(event)

    @property
    def wants_digits(self) -> bool:
        return self.responder.wants_digits

    def answer_typed(self, text: str) -> None:
        """Keys typed for a question (a callback number): answered as the caller's turn."""
        self._turn_no += 1
        reply = self.replies.start(asyncio.get_running_loop().time(), b"", Transcript.typed(text))
        reply.record.turn = self._turn_no
        reply.release()
        self._reply = reply

    async def stop_speaking(self) -> None:
        await Replies.cancel(self._pending)
        await Replies.cancel(self._reply)
        self.ch.flush_output()
        self.ch.resume_output()

    async def _cancel_pending(self) -> None:
        pending, self._pending = self._pending, None
        await Replies.cancel(pending)

    async def _cancel_reply(self) -> None:
        reply, self._reply = self._reply, None
        await Replies.cancel(reply)

    def _utterance_so_far(self) -> bytes | None:
        return bytes(self.hearing.utterance) if self.hearing.collecting else None

    async def say(self, text: str, pcm: bytes) -> None:
        """A fixed line already rendered (the greeting, a key's line), as the bot's turn."""
        self.turns.bot_turn()
        self.responder.note_said(text)
        try:
            onset = self.ch.next_speech_onset()
            await self.replies.play(pcm, None)
            await onset  # cancelled (ending this task) if the channel ends first
            self.turns.bot_started()
            self.conversation.add_assistant(text)
            self.feed.emit({"type": "turn", "role": "bot", "text": text})
            await self.ch.wait_output_idle()
        finally:
            self.turns.reply_finished()

"""One conversation on one channel: listen, decide the turn, transcribe, think, speak, yield.

Theory of operation. ``Session.run()`` owns every task of the conversation
and cancels them all when the channel ends. The audio loop takes the
channel's 20 ms frames, resamples them to 16 kHz (one streaming resampler
for the call), runs the VAD on its worker thread and feeds the probabilities
to the pure ``TurnTaker``, whose events drive everything else:

- ``UtteranceStarted``: collect the caller's audio (with 600 ms of pre-roll);
  partial transcripts run while the caller speaks;
- ``SpeechPaused``: transcribe *now*, speculatively, while the endpoint
  timer runs -- if the caller does not resume, that transcript is the final
  one and the STT cost hides inside the endpoint silence;
- ``UtteranceEnded``: start the reply: final transcript, LLM tokens streamed
  into the sentence splitter, each sentence synthesised and queued on the
  channel while the LLM goes on;
- ``PauseBot`` / ``ResumeBot`` / ``BargeIn``: the caller cut in: the bot
  pauses at once; a backchannel resumes it, a real interruption cancels the
  reply's LLM and TTS work and flushes the queued audio.

A model that throws costs one turn, not the call: the caller hears a short
apology (rendered at start-up, so it needs no model), the transcript already
taken is kept in the log and the conversation goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import re
import wave
from collections import deque
from collections.abc import Callable, Coroutine
from contextlib import aclosing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ai.brain import Brain
from ai.channel import Channel
from ai.memory import Conversation
from ai.sentences import SentenceSplitter, clean_for_speech, has_speech
from ai.stamps import TurnRecord
from ai.stt import STT_RATE, Transcript
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
from bridge.resample import StreamResampler

log = logging.getLogger(__name__)

PREROLL_S = 0.6
BACKCHANNELS = frozenset(
    "mm mhm mm-hm mm hmm uh-huh uh huh yeah yes yep ok okay right sure i see got it "
    "ah oh hmm".split()
)
SessionListener = Callable[[dict[str, Any]], None]
# Debugging aid: when set, every transcribed utterance is written there as a WAV.
DUMP_DIR = os.environ.get("VOICEBOT_DUMP_UTTERANCES", "")


def _dump(audio: bytes, name: str, text: str) -> None:
    path = Path(DUMP_DIR) / f"{name}.wav"
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(STT_RATE)
        w.writeframes(audio)
    path.with_suffix(".txt").write_text(text + "\n")


def is_backchannel(text: str) -> bool:
    """ "mm-hm", "yeah", "okay", "right": acknowledgements that must not stop the bot."""
    words = re.sub(r"[^a-z\- ]+", " ", text.lower()).split()
    return 0 < len(words) <= 3 and all(w.strip("-") in BACKCHANNELS for w in words)


def level_dbfs(pcm: bytes) -> float:
    a = np.frombuffer(pcm, dtype=np.int16).astype(np.float32)
    rms = float(np.sqrt(np.mean(a * a))) if a.size else 0.0
    return 20.0 * math.log10(max(rms, 1e-3) / 32768.0)


@dataclass
class _Reply:
    """A reply in the making. It speaks only once ``released`` (the endpoint) is set."""

    record: TurnRecord
    task: asyncio.Task[None]
    released: asyncio.Event


class Session:
    def __init__(
        self, brain: Brain, channel: Channel, listener: SessionListener | None = None
    ) -> None:
        self.brain = brain
        self.ch = channel
        self.listener = listener
        s = brain.settings
        self.turns = TurnTaker(
            TurnOptions(
                endpoint_silence_s=(
                    s.naive_silence_ms if s.pipeline == "naive" else s.endpoint_silence_ms
                )
                / 1000.0,
                barge_in_min_s=s.barge_in_min_ms / 1000.0,
                backchannel_max_s=s.backchannel_max_ms / 1000.0,
            )
        )
        # "naive": the benchmark's baseline (fixed silence timeout, whole transcript, whole
        # LLM reply, whole TTS, then play); "streaming": everything in this module.
        self.naive = s.pipeline == "naive"
        self.vad = brain.vad.new_stream()
        self.to_stt = StreamResampler(channel.sample_rate, STT_RATE)
        self.conversation = Conversation(s.system_prompt, s.history_turns, s.history_chars)
        self.records: list[TurnRecord] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        self._preroll: deque[bytes] = deque()
        self._preroll_bytes = 0
        self._utterance = bytearray()
        self._collecting = False
        self._last_utterance = b""
        self._reply: _Reply | None = None  # released: the caller's turn is over
        self._pending: _Reply | None = None  # speculative: held until the endpoint
        self._known: Transcript | None = None  # transcript already taken (interjection)
        self._partial: asyncio.Task[None] | None = None
        self._turn_no = 0

    # -- ownership ----------------------------------------------------------------

    def _spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        task = asyncio.create_task(coro, name=f"{self.ch.name}-{name}")
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error(
                "session %s: task %s failed",
                self.ch.name,
                task.get_name(),
                exc_info=task.exception(),
            )

    async def run(self) -> None:
        """Converse until the channel ends; then cancel and await every task of the session."""
        try:
            self._spawn(self._greet(), "greet")
            self._spawn(self._dtmf_loop(), "dtmf")
            audio = self._spawn(self._audio_loop(), "audio")
            await self.ch.wait_ended()
            audio.cancel()
        finally:
            tasks = list(self._tasks)
            for task in tasks:
                task.cancel()
            if tasks:
                await asyncio.wait(tasks, timeout=5.0)
            self._emit({"type": "ended", "turns": len(self.records)})

    def _emit(self, event: dict[str, Any]) -> None:
        if self.listener is not None:
            try:
                self.listener(event)
            except Exception:  # a UI listener must never break the conversation
                log.exception("session %s: listener failed", self.ch.name)

    # -- inputs -------------------------------------------------------------------------

    async def _dtmf_loop(self) -> None:
        digit = self.brain.hangup_digit
        while True:
            event = await self.ch.events.get()
            log.info("session %s: DTMF %s", self.ch.name, event.digit)
            if digit and event.digit == digit:
                await self.ch.hangup(f"caller pressed {event.digit}")
                return

    async def _audio_loop(self) -> None:
        loop = asyncio.get_running_loop()
        brain, margin = self.brain, self.brain.settings.echo_margin_db
        while True:
            frame = await self.ch.audio_in.get()
            pcm16 = self.to_stt.process(frame)
            probs = await loop.run_in_executor(brain.vad_executor, self.vad.process, pcm16)
            self._keep_audio(pcm16)
            out = self.ch.recent_output_dbfs()
            echo = out is not None and level_dbfs(frame) < out - margin
            now = loop.time()
            for prob in probs:
                for event in self.turns.vad(prob, now, echo=echo):
                    await self._on_turn_event(event)

    def _keep_audio(self, pcm16: bytes) -> None:
        if self._collecting:
            self._utterance += pcm16
            return
        self._preroll.append(pcm16)
        self._preroll_bytes += len(pcm16)
        while self._preroll_bytes > PREROLL_S * STT_RATE * 2 and self._preroll:
            self._preroll_bytes -= len(self._preroll.popleft())

    # -- turn events ------------------------------------------------------------------

    async def _on_turn_event(self, event: TurnEvent) -> None:
        if isinstance(event, UtteranceStarted):
            head = b""
            if event.continuation:
                # The caller was not done: drop the reply in the making, answer the whole thing.
                await self._cancel_reply()
                head = self._last_utterance
            await self._cancel_pending()
            self._utterance = bytearray(head + b"".join(self._preroll))
            self._preroll.clear()
            self._preroll_bytes = 0
            self._collecting = True
            self._start_partials()
        elif isinstance(event, SpeechPaused):
            # Start the reply now, on what was said so far, held back until the endpoint
            # confirms the caller is done: STT and the first LLM tokens hide in the silence.
            await self._cancel_pending()
            if self.turns.state is TurnState.CALLER_SPEAKING and not self.naive:
                self._pending = self._start_reply(event.t, bytes(self._utterance), None)
        elif isinstance(event, SpeechResumed):
            await self._cancel_pending()
        elif isinstance(event, UtteranceEnded):
            self._collecting = False
            self._stop_partials()
            self._last_utterance = bytes(self._utterance)
            pending, self._pending = self._pending, None
            if pending is None or pending.record.speech_end != event.speech_end:
                if pending is not None:
                    await self._cancel(pending)
                known, self._known = self._known, None
                pending = self._start_reply(event.speech_end, self._last_utterance, known)
            self._turn_no += 1
            pending.record.turn = self._turn_no
            pending.record.stamp("endpoint", event.detected)
            pending.released.set()
            self._reply = pending
            if pending.record.user_text:
                self._announce_user(pending.record)
        elif isinstance(event, PauseBot):
            self.ch.pause_output()
        elif isinstance(event, ResumeBot):
            self._collecting = False
            self._stop_partials()
            await self._cancel_pending()
            self.ch.resume_output()
        elif isinstance(event, BargeIn):
            log.info("session %s: barge-in", self.ch.name)
            await self._cancel_reply()
            self.ch.flush_output()
            self.ch.resume_output()
            self._emit({"type": "barge_in"})
        elif isinstance(event, Interjection):
            self._collecting = False
            self._stop_partials()
            await self._cancel_pending()
            self._spawn(self._judge_interjection(bytes(self._utterance)), "interjection")

    def _announce_user(self, record: TurnRecord) -> None:
        if not record.announced:
            record.announced = True
            self._emit({"type": "turn", "role": "user", "text": record.user_text})

    def _start_reply(
        self, speech_end: float, audio: bytes, transcript: Transcript | None
    ) -> _Reply:
        record = TurnRecord(self.ch.name, 0, speech_end)
        released = asyncio.Event()
        task = self._spawn(self._answer(record, audio, transcript, released), "reply")
        return _Reply(record, task, released)

    async def _judge_interjection(self, audio: bytes) -> None:
        transcript = await self._transcribe_safely(audio)
        text = transcript.text if transcript and not transcript.rejected else ""
        backchannel = not text or is_backchannel(text)
        log.info(
            "session %s: interjection %r -> %s",
            self.ch.name,
            text,
            "backchannel" if backchannel else "barge-in",
        )
        if not backchannel:
            self._known = transcript
            self._utterance = bytearray(audio)
        now = asyncio.get_running_loop().time()
        for event in self.turns.resolve_interjection(backchannel, now):
            await self._on_turn_event(event)

    async def _cancel(self, reply: _Reply) -> None:
        if not reply.task.done():
            reply.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reply.task

    async def _cancel_pending(self) -> None:
        pending, self._pending = self._pending, None
        if pending is not None:
            await self._cancel(pending)

    async def _cancel_reply(self) -> None:
        reply, self._reply = self._reply, None
        if reply is not None:
            await self._cancel(reply)

    def _start_partials(self) -> None:
        interval = self.brain.settings.partial_interval_ms / 1000.0
        if interval > 0 and self.listener is not None:
            self._stop_partials()
            self._partial = self._spawn(self._partials(interval), "partials")

    def _stop_partials(self) -> None:
        if self._partial is not None:
            self._partial.cancel()
            self._partial = None

    async def _partials(self, interval: float) -> None:
        while self._collecting:
            await asyncio.sleep(interval)
            transcript = await self._transcribe_safely(bytes(self._utterance))
            if transcript and not transcript.rejected and self._collecting:
                self._emit({"type": "partial", "role": "user", "text": transcript.text})

    async def _transcribe_safely(self, audio: bytes) -> Transcript | None:
        try:
            return await self.brain.stt.transcribe(audio)
        except Exception:
            log.exception("session %s: speech recognition failed", self.ch.name)
            return None

    # -- the reply --------------------------------------------------------------------

    async def _answer(
        self,
        record: TurnRecord,
        audio: bytes,
        transcript: Transcript | None,
        released: asyncio.Event,
    ) -> None:
        loop = asyncio.get_running_loop()
        spoken: list[str] = []
        completed = False
        try:
            if transcript is None:
                transcript = await self.brain.stt.transcribe(audio)
            record.stamp("stt_final", loop.time())
            if DUMP_DIR:
                _dump(audio, f"{self.ch.name}-{record.speech_end:.3f}", transcript.text)
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
                self._announce_user(record)
            messages = [
                *self.conversation.messages(),
                {"role": "user", "content": transcript.text},
            ]
            if self.naive:
                await self._answer_naively(messages, record, spoken, released)
            else:
                splitter = SentenceSplitter()
                async with aclosing(self.brain.llm.stream(messages)) as pieces:
                    async for piece in pieces:
                        record.stamp("llm_first_token", loop.time())
                        for sentence in splitter.push(piece):
                            await self._speak(sentence, record, spoken, released)
                for sentence in splitter.flush():
                    await self._speak(sentence, record, spoken, released)
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
                await self._play_prompt(self.brain.apology_pcm, record)
                spoken.append(self.brain.settings.apology)
                await self.ch.wait_output_idle()
        finally:
            record.bot_text = " ".join(spoken)
            if record.user_text and spoken:
                self.conversation.add_user(record.user_text)
                self.conversation.add_assistant(record.bot_text, interrupted=not completed)
            if released.is_set() and (record.user_text or record.error):
                self.records.append(record)
                record.log()
                self._emit(
                    {
                        "type": "turn",
                        "role": "bot",
                        "text": record.bot_text,
                        "interrupted": record.interrupted,
                        "latency_ms": record.latency_ms,
                        "stages_ms": record.stages_ms(),
                    }
                )
            self.turns.reply_finished()

    async def _answer_naively(
        self,
        messages: list[dict[str, str]],
        record: TurnRecord,
        spoken: list[str],
        released: asyncio.Event,
    ) -> None:
        """The baseline the benchmark compares against: the whole LLM reply, then the whole
        TTS, then play -- what a pipeline without streaming does."""
        loop = asyncio.get_running_loop()
        text = ""
        async with aclosing(self.brain.llm.stream(messages)) as pieces:
            async for piece in pieces:
                record.stamp("llm_first_token", loop.time())
                text += piece
        text = clean_for_speech(text)
        record.stamp("first_sentence", loop.time())
        if not has_speech(text):
            return
        pcm = await self.brain.tts.synthesize(text)
        record.stamp("tts_first_audio", loop.time())
        await released.wait()
        await self._play_prompt(pcm, record)
        spoken.append(text)

    async def _speak(
        self, sentence: str, record: TurnRecord, spoken: list[str], released: asyncio.Event
    ) -> None:
        loop = asyncio.get_running_loop()
        record.stamp("first_sentence", loop.time())
        pcm = await self.brain.tts.synthesize(sentence)
        if not spoken:
            pcm = self.brain.trim_leading_silence(pcm, self.brain.tts.sample_rate)
        record.stamp("tts_first_audio", loop.time())
        await released.wait()
        await self._play_prompt(pcm, record)
        spoken.append(sentence)

    async def _play_prompt(self, pcm_tts_rate: bytes, record: TurnRecord | None) -> None:
        resampler = StreamResampler(self.brain.tts.sample_rate, self.ch.sample_rate)
        pcm = self.brain.volume(resampler.process(pcm_tts_rate) + resampler.flush())
        first = record is not None and "first_frame_out" not in record.stamps
        onset = self.ch.next_speech_onset() if first else None
        await self.ch.play(pcm)
        if onset is not None and record is not None:
            self._spawn(self._await_onset(onset, record), "onset")

    async def _await_onset(self, onset: asyncio.Future[float], record: TurnRecord) -> None:
        t = await onset
        record.stamp("first_frame_out", t)
        self.turns.bot_started()

    async def _greet(self) -> None:
        if not self.brain.greeting_pcm:
            return
        self.turns.bot_turn()
        onset = self.ch.next_speech_onset()
        await self._play_prompt(self.brain.greeting_pcm, None)
        await onset
        self.turns.bot_started()
        self.conversation.add_assistant(self.brain.greeting)
        self._emit({"type": "turn", "role": "bot", "text": self.brain.greeting})
        await self.ch.wait_output_idle()
        self.turns.reply_finished()

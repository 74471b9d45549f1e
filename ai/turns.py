"""Turn-taking: who has the floor, decided from voice activity, as a pure state machine.

Theory of operation. The session feeds one voice-activity probability per
VAD window (32 ms) with the time it was computed, and tells the machine
when the bot starts and stops being heard. The machine answers with events;
it never sleeps, reads a clock or touches audio, so it is tested with
numbers in, events out.

States and transitions::

    LISTENING --speech >= start_min_s--> CALLER_SPEAKING        (UtteranceStarted)
    CALLER_SPEAKING --silence >= speculate_after_s--> (same)     (SpeechPaused: transcribe now,
                                                                  speculatively)
    CALLER_SPEAKING --silence >= endpoint_silence_s--> THINKING  (UtteranceEnded)
    THINKING --bot_started()--> BOT_SPEAKING
    THINKING --speech >= start_min_s--> CALLER_SPEAKING          (UtteranceStarted continuation:
                                                                  the caller was not done)
    THINKING / BOT_SPEAKING --reply_finished()--> LISTENING
    BOT_SPEAKING --speech >= barge_in_min_s--> INTERRUPTED       (PauseBot, UtteranceStarted)
    INTERRUPTED --speech reaches backchannel_max_s--> CALLER_SPEAKING  (BargeIn)
    INTERRUPTED --short speech then endpoint silence--> DECIDING (Interjection: the session
                                                                  transcribes it and calls
                                                                  resolve_interjection())
    DECIDING --resolve_interjection(backchannel=True)--> BOT_SPEAKING  (ResumeBot)
    DECIDING --resolve_interjection(backchannel=False)--> THINKING     (BargeIn, UtteranceEnded)

Why pause first and decide later: the bot must fall silent within 200 ms of
the caller cutting in, but "mm-hm" or "yeah" must not cut it off. Pausing at
once and resuming after a backchannel gives both, the way people do it.
Speech while the bot talks must pass a higher threshold (``barge_in_threshold``),
and the session marks windows that are likely the bot's own echo
(``echo=True``: the bridge knows what it sent), which never count as speech.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class TurnState(enum.Enum):
    LISTENING = "listening"
    CALLER_SPEAKING = "caller_speaking"
    THINKING = "thinking"
    BOT_SPEAKING = "bot_speaking"
    INTERRUPTED = "interrupted"
    DECIDING = "deciding"


@dataclass(frozen=True)
class TurnOptions:
    """Endpointing and barge-in tuning; the defaults suit 8 kHz telephone audio."""

    start_threshold: float = 0.5
    end_threshold: float = 0.35
    start_min_s: float = 0.064
    endpoint_silence_s: float = 0.30
    # Silence after which a speculative transcription starts (before the endpoint).
    speculate_after_s: float = 0.064
    barge_in_threshold: float = 0.6
    barge_in_min_s: float = 0.096
    backchannel_max_s: float = 0.70
    max_utterance_s: float = 30.0


@dataclass(frozen=True)
class UtteranceStarted:
    t: float  # when the caller's speech began (start of its first speech window)
    continuation: bool = False  # the caller resumed before the bot answered
    over_bot: bool = False  # began while the bot was speaking


@dataclass(frozen=True)
class SpeechPaused:
    t: float  # last speech seen; a good moment for a speculative transcription


@dataclass(frozen=True)
class SpeechResumed:
    t: float


@dataclass(frozen=True)
class UtteranceEnded:
    speech_end: float  # end of the last speech window: the turn latency clock starts here
    detected: float  # when the endpoint was decided
    forced: bool = False  # max_utterance_s reached


@dataclass(frozen=True)
class PauseBot:
    t: float


@dataclass(frozen=True)
class ResumeBot:
    t: float


@dataclass(frozen=True)
class BargeIn:
    t: float


@dataclass(frozen=True)
class Interjection:
    speech_end: float
    duration_s: float


TurnEvent = (
    UtteranceStarted
    | SpeechPaused
    | SpeechResumed
    | UtteranceEnded
    | PauseBot
    | ResumeBot
    | BargeIn
    | Interjection
)


class TurnTaker:
    def __init__(self, options: TurnOptions | None = None, window_s: float = 0.032) -> None:
        self.options = options or TurnOptions()
        self.window_s = window_s
        self.state = TurnState.LISTENING
        self._speech_run = 0.0  # consecutive speech, seconds
        self._silence_run = 0.0  # consecutive non-speech, seconds
        self._speech_total = 0.0  # speech within the current utterance
        self._utt_start = 0.0
        self._last_speech_end = 0.0
        self._paused_reported = False
        self._await_silence = False  # after a forced end: the monologue must pause first

    # -- notifications from the session ----------------------------------------

    def bot_turn(self) -> None:
        """The bot takes the floor unprompted (the greeting): as if the caller had just spoken."""
        if self.state is TurnState.LISTENING:
            self.state = TurnState.THINKING
            self._reset_runs()

    def bot_started(self) -> None:
        """The first audio of the reply reached the line."""
        if self.state is TurnState.THINKING:
            self.state = TurnState.BOT_SPEAKING

    def reply_finished(self) -> None:
        """The reply is over (fully played, or produced nothing): the floor is the caller's."""
        if self.state in (TurnState.THINKING, TurnState.BOT_SPEAKING):
            self.state = TurnState.LISTENING
            self._reset_runs()

    def resolve_interjection(self, backchannel: bool, now: float) -> list[TurnEvent]:
        """The session's verdict on a short interjection over the bot."""
        if self.state is not TurnState.DECIDING:
            return []
        self._reset_runs()
        if backchannel:
            self.state = TurnState.BOT_SPEAKING
            return [ResumeBot(now)]
        self.state = TurnState.THINKING
        return [BargeIn(now), UtteranceEnded(self._last_speech_end, now)]

    # -- voice activity ---------------------------------------------------------

    def vad(self, prob: float, now: float, echo: bool = False) -> list[TurnEvent]:
        """One VAD window ending at ``now``. ``echo``: the window is likely the bot's own voice."""
        o, w, state = self.options, self.window_s, self.state
        over_bot = state in (TurnState.BOT_SPEAKING, TurnState.INTERRUPTED)
        if echo:
            speech = False
        elif state in (TurnState.CALLER_SPEAKING, TurnState.INTERRUPTED):
            speech = prob >= o.end_threshold  # hysteresis: easier to stay in speech
        else:
            speech = prob >= (o.barge_in_threshold if over_bot else o.start_threshold)
        if speech:
            self._speech_run += w
            self._silence_run = 0.0
        else:
            self._silence_run += w
            self._speech_run = 0.0

        if self._await_silence:
            self._await_silence = speech
            if speech:
                return []
        if state in (TurnState.LISTENING, TurnState.THINKING):
            if speech and self._speech_run >= o.start_min_s - 1e-9:
                return self._start(now, continuation=state is TurnState.THINKING)
            return []
        if state is TurnState.BOT_SPEAKING:
            if speech and self._speech_run >= o.barge_in_min_s - 1e-9:
                events = self._start(now, over_bot=True)
                self.state = TurnState.INTERRUPTED
                return [PauseBot(now), *events]
            return []
        if state is TurnState.DECIDING:
            return []
        return self._in_utterance(speech, now)

    def _start(
        self, now: float, continuation: bool = False, over_bot: bool = False
    ) -> list[TurnEvent]:
        self.state = TurnState.CALLER_SPEAKING
        self._utt_start = now - self._speech_run
        self._speech_total = self._speech_run
        self._last_speech_end = now
        self._paused_reported = False
        return [UtteranceStarted(self._utt_start, continuation=continuation, over_bot=over_bot)]

    def _in_utterance(self, speech: bool, now: float) -> list[TurnEvent]:
        o = self.options
        events: list[TurnEvent] = []
        if speech:
            self._speech_total += self.window_s
            self._last_speech_end = now
            if self._paused_reported:
                self._paused_reported = False
                events.append(SpeechResumed(now))
            if self.state is TurnState.INTERRUPTED and self._speech_total >= o.backchannel_max_s:
                self.state = TurnState.CALLER_SPEAKING
                events.append(BargeIn(now))
            if now - self._utt_start >= o.max_utterance_s:
                if self.state is TurnState.INTERRUPTED:
                    events.append(BargeIn(now))
                self.state = TurnState.THINKING
                self._reset_runs()
                self._await_silence = True
                events.append(UtteranceEnded(now, now, forced=True))
            return events
        if not self._paused_reported and self._silence_run >= o.speculate_after_s - 1e-9:
            self._paused_reported = True
            events.append(SpeechPaused(self._last_speech_end))
        if self._silence_run >= o.endpoint_silence_s - 1e-9:
            if self.state is TurnState.INTERRUPTED:
                self.state = TurnState.DECIDING
                events.append(Interjection(self._last_speech_end, self._speech_total))
            else:
                self.state = TurnState.THINKING
                events.append(UtteranceEnded(self._last_speech_end, now))
            self._reset_runs()
        return events

    def _reset_runs(self) -> None:
        self._speech_run = 0.0
        self._silence_run = 0.0
        self._paused_reported = False

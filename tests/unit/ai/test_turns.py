"""Turn-taking state machine: VAD probabilities in, events out, no clock, no audio."""

from __future__ import annotations

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

W = 0.032


class Feed:
    """Drives a TurnTaker window by window and collects the events with their times."""

    def __init__(self, taker: TurnTaker | None = None) -> None:
        self.tt = taker or TurnTaker(TurnOptions(), window_s=W)
        self.t = 0.0
        self.events: list[TurnEvent] = []

    def windows(self, prob: float, seconds: float, echo: bool = False) -> list[TurnEvent]:
        out: list[TurnEvent] = []
        for _ in range(round(seconds / W)):
            self.t += W
            out += self.tt.vad(prob, self.t, echo=echo)
        self.events += out
        return out


def kinds(events: list[TurnEvent]) -> list[str]:
    return [type(e).__name__ for e in events]


def test_utterance_then_endpoint() -> None:
    f = Feed()
    assert f.windows(0.0, 0.32) == []
    started = f.windows(0.9, 1.0)
    assert kinds(started) == ["UtteranceStarted"]
    assert isinstance(started[0], UtteranceStarted)
    assert abs(started[0].t - 0.32) < 1e-6  # back-dated to the first speech window
    assert f.tt.state is TurnState.CALLER_SPEAKING
    speech_end = f.t
    ended = f.windows(0.0, 0.4)
    assert kinds(ended) == ["SpeechPaused", "UtteranceEnded"]
    end = ended[1]
    assert isinstance(end, UtteranceEnded)
    assert end.speech_end == speech_end
    assert 0.29 <= end.detected - end.speech_end <= 0.33
    assert f.tt.state is TurnState.THINKING


def test_speculation_starts_before_the_endpoint() -> None:
    f = Feed()
    f.windows(0.9, 0.5)
    events = f.windows(0.0, 0.128)
    assert kinds(events) == ["SpeechPaused"]
    assert f.tt.state is TurnState.CALLER_SPEAKING


def test_short_pause_resumes_without_endpoint() -> None:
    f = Feed()
    f.windows(0.9, 0.5)
    paused = f.windows(0.1, 0.16)
    assert kinds(paused) == ["SpeechPaused"]
    resumed = f.windows(0.9, 0.1)
    assert kinds(resumed) == ["SpeechResumed"]
    assert isinstance(resumed[0], SpeechResumed)
    assert f.tt.state is TurnState.CALLER_SPEAKING


def test_a_click_is_not_an_utterance() -> None:
    f = Feed()
    f.windows(0.9, W)  # one window of "speech"
    assert f.windows(0.0, 1.0) == []
    assert f.tt.state is TurnState.LISTENING


def test_hysteresis_keeps_speech_between_thresholds() -> None:
    f = Feed()
    f.windows(0.9, 0.2)
    assert f.windows(0.4, 1.0) == []  # 0.4 >= end_threshold 0.35: still speaking
    assert kinds(f.windows(0.0, 0.4)) == ["SpeechPaused", "UtteranceEnded"]


def test_caller_continuing_while_bot_thinks_is_a_continuation() -> None:
    f = Feed()
    f.windows(0.9, 0.5)
    f.windows(0.0, 0.4)
    assert f.tt.state is TurnState.THINKING
    events = f.windows(0.9, 0.1)
    assert kinds(events) == ["UtteranceStarted"]
    assert isinstance(events[0], UtteranceStarted) and events[0].continuation


def test_barge_in_pauses_within_min_then_confirms() -> None:
    f = Feed()
    f.tt.bot_turn()
    f.tt.bot_started()
    assert f.tt.state is TurnState.BOT_SPEAKING
    events = f.windows(0.9, 0.096)
    assert kinds(events) == ["PauseBot", "UtteranceStarted"]
    assert isinstance(events[1], UtteranceStarted) and events[1].over_bot
    assert f.tt.state is TurnState.INTERRUPTED
    more = f.windows(0.9, 0.7)
    assert kinds(more) == ["BargeIn"]
    assert f.tt.state is TurnState.CALLER_SPEAKING
    assert kinds(f.windows(0.0, 0.4)) == ["SpeechPaused", "UtteranceEnded"]


def test_backchannel_resumes_the_bot() -> None:
    f = Feed()
    f.tt.bot_turn()
    f.tt.bot_started()
    f.windows(0.9, 0.3)  # "mm-hm"
    events = f.windows(0.0, 0.4)
    assert kinds(events) == ["SpeechPaused", "Interjection"]
    assert isinstance(events[1], Interjection) and events[1].duration_s < 0.7
    assert f.tt.state is TurnState.DECIDING
    assert f.windows(0.9, 0.5) == []  # nothing is decided by VAD while the session judges
    resolved = f.tt.resolve_interjection(backchannel=True, now=f.t)
    assert kinds(resolved) == ["ResumeBot"]
    assert isinstance(resolved[0], ResumeBot)
    assert f.tt.state is TurnState.BOT_SPEAKING


def test_short_real_interjection_becomes_a_turn() -> None:
    f = Feed()
    f.tt.bot_turn()
    f.tt.bot_started()
    f.windows(0.9, 0.4)  # "stop"
    f.windows(0.0, 0.4)
    resolved = f.tt.resolve_interjection(backchannel=False, now=f.t)
    assert kinds(resolved) == ["BargeIn", "UtteranceEnded"]
    assert isinstance(resolved[0], BargeIn)
    assert f.tt.state is TurnState.THINKING


def test_bot_speech_needs_the_higher_threshold() -> None:
    f = Feed()
    f.tt.bot_turn()
    f.tt.bot_started()
    assert f.windows(0.55, 1.0) == []  # enough to start a turn when silent, not to barge in
    assert f.tt.state is TurnState.BOT_SPEAKING


def test_echo_windows_never_count_as_speech() -> None:
    f = Feed()
    f.tt.bot_turn()
    f.tt.bot_started()
    assert f.windows(0.99, 2.0, echo=True) == []
    assert f.tt.state is TurnState.BOT_SPEAKING
    assert kinds(f.windows(0.99, 0.1)) == ["PauseBot", "UtteranceStarted"]


def test_reply_finished_returns_the_floor() -> None:
    f = Feed()
    f.windows(0.9, 0.5)
    f.windows(0.0, 0.4)
    f.tt.bot_started()
    f.tt.reply_finished()
    assert f.tt.state is TurnState.LISTENING
    assert kinds(f.windows(0.9, 0.1)) == ["UtteranceStarted"]


def test_reply_finished_does_not_steal_the_floor_from_the_caller() -> None:
    f = Feed()
    f.tt.bot_turn()
    f.tt.bot_started()
    f.windows(0.9, 1.0)  # barge-in confirmed: the caller has the floor
    f.tt.reply_finished()  # the cancelled reply's cleanup runs late
    assert f.tt.state is TurnState.CALLER_SPEAKING


def test_overlong_utterance_is_forced_to_end() -> None:
    f = Feed(TurnTaker(TurnOptions(max_utterance_s=2.0), window_s=W))
    events = f.windows(0.9, 2.5)
    ended = [e for e in events if isinstance(e, UtteranceEnded)]
    assert len(ended) == 1 and ended[0].forced
    assert f.tt.state is TurnState.THINKING


def test_pause_event_carries_last_speech_time() -> None:
    f = Feed()
    f.windows(0.9, 0.5)
    last = f.t
    paused = [e for e in f.windows(0.0, 0.2) if isinstance(e, SpeechPaused)]
    assert paused and paused[0].t == last


def test_pausebot_exported() -> None:
    assert PauseBot(1.0).t == 1.0

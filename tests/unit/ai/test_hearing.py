"""Hearing: frames gathered into whole VAD windows, pre-roll bounded, echo gated."""

from __future__ import annotations

from ai.hearing import Hearing, level_dbfs
from ai.turns import TurnTaker, UtteranceStarted

FRAME = 640  # 20 ms at 16 kHz
WINDOW = 1024  # 32 ms at 16 kHz


def hearing(preroll_s: float = 0.6) -> Hearing:
    return Hearing(TurnTaker(), echo_margin_db=20.0, preroll_s=preroll_s)


def test_windows_are_scored_whole_not_per_frame() -> None:
    h = hearing()
    got = []
    for i in range(10):  # 200 ms: six whole windows (192 ms), 8 ms left over
        h.frame(bytes([i]) * FRAME)
        got.append(len(h.take_windows()))
    assert sum(got) == 6 * WINDOW
    assert all(n % WINDOW == 0 for n in got)
    assert got.count(0) == 4, "a frame that completes no window must not cost a VAD call"
    h.frame(bytes(FRAME))  # 8 + 20 = 28 ms: still no window
    assert h.take_windows() == b""
    h.frame(bytes(FRAME))
    assert len(h.take_windows()) == WINDOW


def test_windows_keep_the_audio_in_order() -> None:
    h = hearing()
    frames = [bytes([i]) * FRAME for i in range(8)]
    out = b""
    for f in frames:
        h.frame(f)
        out += h.take_windows()
    assert out == b"".join(frames)[: len(out)]


def test_preroll_is_bounded_and_starts_the_utterance() -> None:
    h = hearing(preroll_s=0.1)  # 3200 bytes: five frames
    for i in range(20):
        h.frame(bytes([i]) * FRAME)
    h.start_utterance(head=b"HEAD")
    assert bytes(h.utterance) == b"HEAD" + b"".join(bytes([i]) * FRAME for i in range(15, 20))
    h.frame(b"\x01\x02" * 320)
    assert h.utterance.endswith(b"\x01\x02" * 320)
    assert h.end_utterance() == h.last_utterance and not h.collecting


def test_quiet_audio_under_loud_bot_output_is_echo() -> None:
    h = hearing()
    loud = (b"\x00\x40") * 512  # about -6 dBFS
    quiet = (b"\x10\x00") * 512  # about -67 dBFS
    assert level_dbfs(loud) > -10 and level_dbfs(quiet) < -60
    assert h.is_echo(quiet, bot_dbfs=-6.0)
    assert not h.is_echo(loud, bot_dbfs=-6.0)
    assert not h.is_echo(quiet, bot_dbfs=None), "no bot audio: nothing to echo"


def test_events_feed_the_turn_taker() -> None:
    h = hearing()
    events = h.events([0.9, 0.9, 0.9], now=1.0, echo=False)
    assert any(isinstance(e, UtteranceStarted) for e in events)
    assert hearing().events([0.9] * 5, now=2.0, echo=True) == [], "echo is never speech"

"""Conversations through the real phone path: sipp speaks (espeak-ng voice), the bot answers
with the embedded models, and what the caller hears is transcribed."""

from __future__ import annotations

import re
import threading
from pathlib import Path

from bench.media import record_measurement, transcribe
from bench.processes import StackPorts, VoicebotProcess
from bench.sipcaller import CallRecord, CallScript, make_dialogue_wav, place_call
from bench.turns import turn_records

GREETING_WAIT_S = 6.0


def words(text: str) -> set[str]:
    return set(re.findall(r"[a-z']+", text.lower()))


def replies(record: CallRecord) -> list[tuple[float, float]]:
    """For each question the caller asked: (its end, the next question's start or the end)."""
    asked = record.speech_spans(sent=True)
    ends = [end for _, end in asked]
    nexts = [start for start, _ in asked[1:]] + [record.rtp_times[-1] + 0.02]
    return list(zip(ends, nexts, strict=True))


def last_calls(bridge: VoicebotProcess, n: int) -> dict[str, list[dict]]:
    """The turn records of the ``n`` calls the bridge served last, by channel (call id)."""
    by_channel: dict[str, list[dict]] = {}
    for r in turn_records(bridge.output()):
        by_channel.setdefault(r["channel"], []).append(r)
    return dict(list(by_channel.items())[-n:])


def test_two_questions_get_two_spoken_answers(
    bridge: VoicebotProcess, ports: StackPorts, whisper, tmp_path: Path
) -> None:
    caller = make_dialogue_wav(
        [
            ("", GREETING_WAIT_S),
            ("What is the weather like today?", 9.0),
            ("Which planet do we live on?", 9.0),
        ],
        tmp_path / "caller.wav",
    )
    record = place_call(
        CallScript(audio=caller, hangup_after_ms=int((GREETING_WAIT_S + 23) * 1000)),
        workdir=tmp_path,
        sip_port=ports.sip,
    )
    assert record.ok, f"sipp reported a failed call:\n{record.sipp_output}"
    assert not record.bye_from_remote

    windows = replies(record)
    assert len(windows) == 2, f"expected 2 questions in what the caller sent, got {windows}"
    heard = [transcribe(whisper, record.received_pcm_between(t0, t1)) for t0, t1 in windows]
    for i, text in enumerate(heard):
        assert len(words(text)) >= 2, f"answer {i + 1}: the caller heard {text!r}"

    (turns,) = last_calls(bridge, 1).values()
    assert len(turns) == 2, f"the bridge's turns for this call: {turns}"
    # tiny.en mishears espeak over mu-law now and then: one of the two keywords will do.
    asked = " ".join(t["user_text"].lower() for t in turns)
    assert "weather" in asked or "planet" in asked, turns
    for rec, text in zip(turns, heard, strict=True):
        assert rec["bot_text"] and not rec["error"], rec
        overlap = words(rec["bot_text"]) & words(text)
        assert overlap, f"caller heard {text!r}, bot said {rec['bot_text']!r}"
    latencies = record.turn_latencies()
    record_measurement(
        "conversation-two-questions",
        {
            "heard": heard,
            "turn_latencies_ms": [round(x * 1000) for x in latencies],
            "bridge_turns": turns,
        },
    )


def test_caller_talking_over_a_long_answer_silences_the_bot_and_is_answered(
    bridge: VoicebotProcess, ports: StackPorts, whisper, tmp_path: Path
) -> None:
    # The greeting (about 4 s) is the bot's first long utterance; the caller cuts in 1.5 s
    # into it, then asks something else.
    caller = make_dialogue_wav([("", 1.5), ("Do you like music?", 9.0)], tmp_path / "caller.wav")
    record = place_call(
        CallScript(audio=caller, hangup_after_ms=14_000),
        workdir=tmp_path,
        sip_port=ports.sip,
    )
    assert record.ok, f"sipp reported a failed call:\n{record.sipp_output}"
    (cut_in, cut_end), *_ = record.speech_spans(sent=True)
    # When did the bot fall silent after the caller started talking over it?
    heard = record.speech_spans(sent=False, min_gap_s=0.0, min_len_s=0.0)
    before = [s for s in heard if cut_in - 0.5 < s[1] <= cut_in + 0.02]
    assert before, f"the bot was not speaking when the caller cut in: {heard}"
    # The last bot audio the caller heard while it was talking over the bot.
    over = [min(end, cut_end) for start, end in heard if start < cut_end and end > cut_in]
    silent_after = max(over, default=cut_in) - cut_in
    assert silent_after < 0.5, f"the bot went on for {silent_after:.3f} s over the caller"

    answer = [s for s in heard if s[0] >= cut_end]
    assert answer, "the caller's interruption was not answered"
    text = transcribe(whisper, record.received_pcm_between(cut_end, record.rtp_times[-1] + 1))
    assert len(words(text)) >= 2, f"the caller heard {text!r}"
    (turns,) = last_calls(bridge, 1).values()
    assert turns and turns[-1]["user_text"], turns
    record_measurement(
        "barge-in", {"bot_silent_after_cut_in_ms": round(silent_after * 1000), "answer": text}
    )


def test_two_simultaneous_calls_each_get_their_own_answers(
    bridge: VoicebotProcess, ports: StackPorts, whisper, tmp_path: Path
) -> None:
    questions = {"a": "What is the weather like today?", "b": "Do you like music?"}
    results: dict[str, CallRecord] = {}

    def call(key: str) -> None:
        wav = make_dialogue_wav(
            [("", GREETING_WAIT_S), (questions[key], 10.0)], tmp_path / f"caller-{key}.wav"
        )
        results[key] = place_call(
            CallScript(audio=wav, hangup_after_ms=int((GREETING_WAIT_S + 12) * 1000)),
            workdir=tmp_path / key,
            sip_port=ports.sip,
        )

    threads = [threading.Thread(target=call, args=(k,)) for k in questions]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)

    calls = last_calls(bridge, 2)
    assert len(calls) == 2, calls
    said = {ch: words(" ".join(t["bot_text"] for t in turns)) for ch, turns in calls.items()}
    matched = []
    for key in questions:
        record = results[key]
        assert record.ok, f"call {key} failed:\n{record.sipp_output}"
        ((t0, t1),) = replies(record)
        heard = words(transcribe(whisper, record.received_pcm_between(t0, t1)))
        # Each caller heard its own call's answer: it matches one channel better than the other.
        best = max(said, key=lambda ch: len(said[ch] & heard))
        assert said[best] & heard, f"call {key} heard {heard}, the bot said {said}"
        matched.append(best)
    assert len(set(matched)) == 2, f"both callers heard the same call's answer: {said}"

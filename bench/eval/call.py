"""One evaluation call: place it with sipp, then cut what the caller heard into turns.

Where each question lies on the line is known twice: from the caller's WAV (its
offsets, counted from the first RTP packet the caller sent) and from the caller's own
captured packets. The packets win where they show speech near the expected place (sipp
may start streaming a few ms late); the WAV offsets are the fallback. A turn's reply is
what the caller received between the end of its question and the start of the next one
(or the end of the call); its latency is from the end of the question to the first reply
audio after it, both on the caller's capture clock (the way ``bench`` measures).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.eval.voices import CallerAudio
from bench.sipcaller import PHONE_RATE, CallRecord, CallScript, place_call
from bridge.media.resample import StreamResampler

HANGUP_TAIL_S = 1.0  # the caller hangs up this long after its WAV ends
WHISPER_BEAM = 5  # beam search: tiny.en's numbers are steadier with it than greedy
# Reply speech ending this close to the next question counts as cut by it.
CUT_MARGIN_S = 0.3
PAD_S = 0.15  # audio kept either side of the reply's speech for Whisper


@dataclass(frozen=True)
class TurnAudio:
    """What the caller heard after one question (times on the capture clock)."""

    question_start: float
    question_end: float
    window_end: float
    reply: np.ndarray  # int16 8 kHz, the reply's speech (empty when nothing was heard)
    latency_ms: float | None
    reply_cut: bool  # the reply was still going when the next question started
    talking_at_question_end: bool  # the bot was speaking when the caller stopped
    bot_hung_up: bool  # the bot's BYE came after this question, before the next one


def place_eval_call(audio: CallerAudio, sip_port: int, extension: str, workdir: Path) -> CallRecord:
    """Stream ``audio`` to ``extension``, hang up shortly after it ends (unless the bot hung
    up first: sipp answers a BYE it did not expect with 200 OK and ends the call)."""
    hangup_ms = int((audio.duration_s + HANGUP_TAIL_S) * 1000)
    return place_call(
        CallScript(audio=audio.path, hangup_after_ms=hangup_ms),
        workdir=workdir,
        sip_port=sip_port,
        extension=extension,
        timeout_s=hangup_ms / 1000 + 60,
    )


def question_times(record: CallRecord, audio: CallerAudio) -> list[tuple[float, float]]:
    """(start, end) of each question on the capture clock: the caller's sent speech near
    where the WAV puts it, else the WAV's offsets from the first packet sent."""
    t0 = record.sent_times[0]
    sent = record.speech_spans(sent=True, min_gap_s=0.5)
    out = []
    for start, end in audio.questions:
        a, b = t0 + start, t0 + end
        near = [(s, e) for s, e in sent if s < b + 0.5 and e > a - 0.5]
        out.append((min(s for s, _ in near), max(e for _, e in near)) if near else (a, b))
    return out


def cut_turns(record: CallRecord, audio: CallerAudio) -> list[TurnAudio]:
    """One ``TurnAudio`` per question of ``audio`` (an empty list if the call sent nothing)."""
    if not record.sent_times:
        return []
    questions = question_times(record, audio)
    call_end = max(record.rtp_times[-1] + 0.02 if record.rtp_times else 0.0, record.sent_times[-1])
    heard = record.speech_spans(sent=False, min_gap_s=0.1, min_len_s=0.1)
    bye = record.time_of("BYE ", "BYE", outgoing=False)
    turns = []
    for i, (q_start, q_end) in enumerate(questions):
        w_end = questions[i + 1][0] if i + 1 < len(questions) else call_end
        inside = [(max(s, q_end), min(e, w_end)) for s, e in heard if e > q_end and s < w_end]
        onsets = [s for s, _ in heard if q_end <= s < w_end]
        latency = (onsets[0] - q_end) * 1000.0 if onsets else None
        reply = np.zeros(0, dtype=np.int16)
        if inside:
            reply = record.received_pcm_between(inside[0][0] - PAD_S, inside[-1][1] + PAD_S)
        turns.append(
            TurnAudio(
                question_start=q_start,
                question_end=q_end,
                window_end=w_end,
                reply=reply,
                latency_ms=None if latency is None else round(latency, 1),
                reply_cut=i + 1 < len(questions)
                and any(e > w_end - CUT_MARGIN_S for s, e in heard if s < w_end and e > q_end),
                talking_at_question_end=any(s < q_end < e for s, e in heard),
                bot_hung_up=bye is not None and q_end <= bye <= w_end + HANGUP_TAIL_S,
            )
        )
    return turns


def alignment_ms(record: CallRecord, audio: CallerAudio) -> float | None:
    """Median of (question end seen in the caller's packets - where the WAV puts it): how
    far sipp's stream lagged its WAV (a few ms; large values mean misplaced turns)."""
    if not record.sent_times:
        return None
    t0 = record.sent_times[0]
    shifts = sorted(
        (seen - (t0 + end)) * 1000.0
        for (_, seen), (_, end) in zip(question_times(record, audio), audio.questions, strict=True)
    )
    return round(shifts[len(shifts) // 2], 1) if shifts else None


def greeting_end(record: CallRecord, audio: CallerAudio) -> float | None:
    """Seconds from the first caller packet to the end of the bot's speech before the first
    question (the greeting), None if the bot said nothing before it."""
    if not record.sent_times or not audio.questions:
        return None
    t0 = record.sent_times[0]
    first_question = t0 + audio.questions[0][0]
    ends = [e for s, e in record.speech_spans(sent=False) if s < first_question]
    return round(max(ends) - t0, 2) if ends else None


def transcribe(whisper, pcm_8k: np.ndarray) -> str:  # type: ignore[no-untyped-def]
    """Whisper's words for 8 kHz int16 audio, punctuation and digits kept (the scorer
    reads "$95" and "8 a.m."); "" for no audio."""
    if pcm_8k.size < PHONE_RATE // 10:
        return ""
    resampler = StreamResampler(PHONE_RATE, 16000)
    pcm16 = resampler.process(pcm_8k.astype(np.int16).tobytes()) + resampler.flush()
    samples = np.frombuffer(pcm16, dtype=np.int16).astype(np.float32) / 32768.0
    segments, _ = whisper.transcribe(
        samples, beam_size=WHISPER_BEAM, language="en", condition_on_previous_text=False
    )
    return " ".join(s.text.strip() for s in segments).strip()

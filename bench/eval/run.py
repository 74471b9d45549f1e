"""Conversation quality through the real phone path: ``make eval``.

    make eval                              # every set, calls one at a time
    .venv/bin/python -m bench.eval --quick # the first call of each set
    .venv/bin/python -m bench.eval --set riverside-dental --parallel 2

For every call of every set (``bench/eval/sets/*.toml``; ``heldout/*.toml`` reported
apart) the caller's WAV is built in the call's voice, the call is placed with sipp
through the project's own Asterisk to the set's extension, what the caller heard after
each question is transcribed by Whisper and scored by ``bench/eval/score.py``. Prints a
table per set and every turn that was not RIGHT; writes
``bench/results/eval-latest.json`` (+ a timestamped copy) and ``bench/results/eval.png``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from bench import resampler
from bench.eval import report
from bench.eval.call import alignment_ms, cut_turns, greeting_end, place_eval_call, transcribe
from bench.eval.report import TurnRow
from bench.eval.score import RIGHT, Heard, Summary, judge
from bench.eval.sets import HELDOUT_DIR, SETS_DIR, CallSpec, EvalSet, SetError, load_sets
from bench.eval.stack import EvalStack
from bench.eval.voices import CallerAudio, Speaker, build_call_audio
from bench.run import machine
from bench.sipcaller import CallRecord
from bench.turns import RESULTS
from records.messages import read_messages

GREETING_WAIT_S = (
    5.0  # the agents' greetings ("Thank you for calling X. How can I help?") take ~3 s
)
WINDOW_S = 9.0  # silence after each question for the reply: at 7.5 s, 15 of 186 were cut
CALL_OVERHEAD_S = 3.0  # set-up, tear-down and scoring of one call, roughly


@dataclass
class PlannedCall:
    set: EvalSet
    index: int  # 1-based within its set
    spec: CallSpec
    audio: CallerAudio


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.eval",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--set", action="append", default=[], help="run only this set (repeatable)")
    parser.add_argument("--quick", action="store_true", help="only the first call of each set")
    parser.add_argument("--parallel", type=int, choices=(1, 2), default=1, help="calls at once")
    parser.add_argument("--window", type=float, default=WINDOW_S, help="reply window, s")
    parser.add_argument("--greeting-wait", type=float, default=GREETING_WAIT_S)
    parser.add_argument("--sets-dir", type=Path, default=SETS_DIR)
    parser.add_argument("--heldout-dir", type=Path, default=HELDOUT_DIR)
    return parser.parse_args()


def _select(args: argparse.Namespace) -> list[EvalSet]:
    sets = load_sets(args.sets_dir, args.heldout_dir)
    if args.set:
        unknown = sorted(set(args.set) - {s.name for s in sets})
        if unknown:
            raise SetError(f"no set {unknown}; the sets are {[s.name for s in sets]}")
        sets = [s for s in sets if s.name in args.set]
    if not sets:
        raise SetError(f"no question sets in {args.sets_dir} or {args.heldout_dir}")
    return sets


def _plan(sets: list[EvalSet], args: argparse.Namespace, workdir: Path) -> list[PlannedCall]:
    speaker = Speaker()
    planned = []
    for s in sets:
        calls = s.calls[:1] if args.quick else s.calls
        for i, spec in enumerate(calls, 1):
            audio = build_call_audio(
                speaker,
                [t.say for t in spec.turns],
                spec.voice,
                workdir / s.name / f"caller-{i}.wav",
                greeting_wait_s=args.greeting_wait,
                window_s=args.window,
            )
            planned.append(PlannedCall(s, i, spec, audio))
    return planned


def _load_whisper():  # type: ignore[no-untyped-def]
    from faster_whisper import WhisperModel

    from ai.models import whisper_model

    return WhisperModel(str(whisper_model()), device="cpu", compute_type="int8", cpu_threads=2)


def _place(calls: list[PlannedCall], stack: EvalStack, workdir: Path) -> list[CallRecord]:
    """``calls`` at once (one or two), the second started half a turn later, as real callers
    are not in step."""
    records: list[CallRecord | None] = [None] * len(calls)

    def one(i: int) -> None:
        c = calls[i]
        records[i] = place_eval_call(
            c.audio, stack.ports.sip, c.set.extension, workdir / c.set.name / f"call-{c.index}"
        )

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(calls))]
    for i, t in enumerate(threads):
        t.start()
        if i + 1 < len(threads):
            time.sleep(5.0)
    for t in threads:
        t.join()
    return [r for r in records if r is not None]


def _score(  # type: ignore[no-untyped-def]
    call: PlannedCall, record: CallRecord, whisper, stored: tuple[str, ...]
) -> tuple[list[TurnRow], dict]:
    turns = cut_turns(record, call.audio)
    rows = []
    for j, spec in enumerate(call.spec.turns):
        cut = turns[j] if j < len(turns) else None
        text = transcribe(whisper, cut.reply) if cut is not None else ""
        heard = Heard(text, bot_hung_up=bool(cut and cut.bot_hung_up), stored_numbers=stored)
        verdict = judge(spec, heard)
        rows.append(
            TurnRow(
                set=call.set.name,
                heldout=call.set.heldout,
                call=call.index,
                voice=call.spec.voice,
                turn=j + 1,
                kind=spec.kind,
                say=spec.say,
                expect=list(spec.expect),
                allow=list(spec.allow),
                heard=text,
                verdict=verdict.verdict,
                offending=list(verdict.offending),
                missing=list(verdict.missing),
                note=verdict.note,
                latency_ms=cut.latency_ms if cut else None,
                reply_cut=bool(cut and cut.reply_cut),
                talking_at_question_end=bool(cut and cut.talking_at_question_end),
                bot_hung_up=bool(cut and cut.bot_hung_up),
            )
        )
    sent_s = len(record.sent_payloads) * 160 / 8000
    info = {
        "set": call.set.name,
        "call": call.index,
        "voice": call.spec.voice,
        "extension": call.set.extension,
        "sipp_ok": record.ok,
        "bye_from_remote": record.bye_from_remote,
        "caller_audio_s": round(call.audio.duration_s, 2),
        "sent_audio_s": round(sent_s, 2),
        "greeting_end_s": greeting_end(record, call.audio),
        "first_question_s": call.audio.questions[0][0],
        "question_alignment_ms": alignment_ms(record, call.audio),
    }
    if not record.sent_times:
        info["sipp_output"] = record.sipp_output[-2000:]
    return rows, info


def main() -> int:
    args = _parse()
    started = time.monotonic()
    try:
        sets = _select(args)
    except SetError as exc:
        print(f"eval: {exc}", file=sys.stderr)
        return 2
    workdir = RESULTS / "last-eval"
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    cpu = resampler.measure()  # before the stack runs: the machine at rest
    planned = _plan(sets, args, workdir)
    turns = sum(len(c.spec.turns) for c in planned)
    estimate = sum(c.audio.duration_s + CALL_OVERHEAD_S for c in planned) / args.parallel
    print(
        f"eval: {len(sets)} set(s), {len(planned)} call(s), {turns} turns; calls "
        f"{'one at a time' if args.parallel == 1 else 'two at a time'}; about "
        f"{estimate / 60:.0f} min of calls (+ start-up); reply window {args.window} s; "
        f"CPU reference: resampler {cpu['us_per_frame']} us/frame",
        flush=True,
    )
    whisper = _load_whisper()
    rows: list[TurnRow] = []
    calls_info: list[dict] = []
    with EvalStack(workdir, sets, instance=f"eval-{os.getpid()}") as stack:
        assert stack.info is not None
        print(
            f"eval: stack up ({'agents configured' if stack.info.agents else 'NO agents'}; "
            f"extensions {stack.info.routes}) after {time.monotonic() - started:.0f} s",
            flush=True,
        )
        for k in range(0, len(planned), args.parallel):
            group = planned[k : k + args.parallel]
            records = _place(group, stack, workdir)
            time.sleep(0.5)  # the store's writer thread has the last step
            stored = tuple(m.number for m in read_messages(stack.data_dir) if m.complete)
            for call, record in zip(group, records, strict=True):
                call_rows, info = _score(call, record, whisper, stored)
                rows += call_rows
                calls_info.append(info)
                right = sum(r.verdict == RIGHT for r in call_rows)
                print(
                    f"eval: [{len(calls_info)}/{len(planned)}, {_clock(started)}] "
                    f"{call.set.name} call {call.index} ({call.spec.voice}): "
                    f"{right}/{len(call_rows)} right",
                    flush=True,
                )
    elapsed = round(time.monotonic() - started, 1)
    print()
    print(report.table(rows))
    print(report.kinds_table(rows))
    cut = sum(r.reply_cut for r in rows)
    if cut:
        print(f"eval: {cut} replies were still going when the next question began (--window)")
    late = [c for c in calls_info if (c["greeting_end_s"] or 0) > c["first_question_s"]]
    if late:
        print(f"eval: in {len(late)} call(s) the greeting overlapped the first question")
    problems = report.problem_lines(rows)
    if problems:
        print("\nturns not RIGHT:\n" + problems)
    result = {
        "command": " ".join(["python -m bench.eval", *sys.argv[1:]]),
        "machine": machine(),
        "cpu_reference": {"resampler_us_per_frame": cpu["us_per_frame"]},
        "agents_configured": stack.info.agents,
        "agents_error": stack.info.agents_error,
        "extensions": stack.info.routes,
        "parallel_calls": args.parallel,
        "reply_window_s": args.window,
        "greeting_wait_s": args.greeting_wait,
        "elapsed_s": elapsed,
        "summary": {
            name: _summary_dict(report.summary_of([r for r in rows if r.set == name]))
            for name in dict.fromkeys(r.set for r in rows)
        },
        "summary_tuned": _summary_dict(report.summary_of([r for r in rows if not r.heldout])),
        "calls": calls_info,
        "turns": [asdict(r) for r in rows],
    }
    latest, stamped = report.write_json(result, RESULTS)
    png = report.plot(rows, RESULTS / "eval.png")
    print(
        f"\nwritten {latest}, {stamped.name} and {png.name} in {elapsed / 60:.1f} min "
        f"(CPU reference: resampler {cpu['us_per_frame']} us/frame)"
    )
    return 0


def _clock(started: float) -> str:
    minutes, seconds = divmod(int(time.monotonic() - started), 60)
    return f"{minutes}:{seconds:02d}"


def _summary_dict(s: Summary) -> dict:
    return {**asdict(s), "right_pct": round(s.right_pct, 1)}


if __name__ == "__main__":
    sys.exit(main())

"""Turn latency through the real phone path, measured at the caller.

Starts the project's Asterisk and bridge on free loopback ports, places calls
with sipp that ask scripted questions (espeak-ng voice, not the bot's),
captures what each caller sends and hears with tcpdump, and measures for
every question the time from the end of the caller's speech to the first
reply audio the caller receives. The bridge's per-turn stage stamps (its
``voicebot.turns`` log) are collected alongside.

    .venv/bin/python -m bench.turns --turns 10

Writes ``bench/results/turns.json`` (git-ignored) and prints p50/p95. The
whole benchmark (baseline, concurrency, plots) is ``bench/run.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import threading
import time
from pathlib import Path
from types import TracebackType

from ai.stamps import STAGES
from bench.processes import StackPorts, VoicebotProcess, wait_healthy, write_config
from bench.sipcaller import CallRecord, CallScript, make_dialogue_wav, place_call

RESULTS = Path(__file__).resolve().parent / "results"
GREETING_WAIT_S = 7.0

# What a caller asks the default example agent (agents/riverside-dental.md), in words
# tiny.en still understands in espeak-ng's voice after mu-law at 8 kHz: mostly facts it
# has, two it has not (an honest "I don't know" is a reply too), one piece of chat.
QUESTIONS = [
    "What time do you open on Saturday?",
    "How much is a cleaning?",
    "Where are you located?",
    "Do you do braces?",
    "Can I park at the practice?",
    "Do you take credit cards?",
    "My tooth really hurts.",
    "Who is the dentist?",
    "Are you open on Sunday?",
    "Do you sell toothbrushes?",
]

# The workload of the first benchmark (before agents): general questions to an agent that
# has no facts, so every reply comes from the LLM. `make bench` with --chat asks these, which
# keeps figures comparable with runs of code older than the agents.
CHAT_QUESTIONS = [
    "What is the weather like today?",
    "Which planet do we live on?",
    "Do you like music?",
    "What is the biggest ocean on Earth?",
    "What color is the sky on a clear day?",
    "What is the capital of France?",
    "Where is the Eiffel Tower?",
    "What is two plus two?",
    "How many days are there in a week?",
    "Can you tell me a short story?",
]
CHAT_AGENT = 'default_agent = "chat"\n\n[agents.chat]\ngreeting = "Hello, how can I help you?"\n'


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * q / 100.0
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def summarize(latencies_ms: list[float]) -> dict[str, float]:
    return {
        "p50": round(percentile(latencies_ms, 50), 1),
        "p95": round(percentile(latencies_ms, 95), 1),
        "n": len(latencies_ms),
    }


def turn_records(log_text: str) -> list[dict]:
    """The bridge's per-turn JSON records (logger voicebot.turns)."""
    records = []
    marker = "voicebot.turns: "
    for line in log_text.splitlines():
        if marker in line:
            records.append(json.loads(line.split(marker, 1)[1]))
    return records


def stage_medians(records: list[dict]) -> dict[str, float]:
    out = {}
    for stage in STAGES:
        values = [r["stages_ms"][stage] for r in records if stage in r.get("stages_ms", {})]
        if values:
            out[stage] = round(statistics.median(values), 1)
    return out


class BenchStack:
    """The project's Asterisk plus a bridge whose [brain] settings can change between runs."""

    def __init__(self, workdir: Path, voicebot_toml: str = "", brain_toml: str = "") -> None:
        self.workdir = workdir
        self.ports = StackPorts.pick()
        self.base = write_config(
            workdir / "base.toml", self.ports, f"bench-{os.getpid()}", rtp=(23000, 24999)
        )
        if voicebot_toml:
            self.base.write_text(self.base.read_text() + voicebot_toml)
        self.brain_toml = brain_toml
        self.asterisk: VoicebotProcess | None = None
        self.bridge: VoicebotProcess | None = None
        self._runs = 0

    def __enter__(self) -> BenchStack:
        self.asterisk = VoicebotProcess("asterisk", self.base, self.workdir / "asterisk.log")
        self.asterisk.wait_ready(timeout=300)
        return self

    def start_bridge(self, brain_toml: str = "") -> VoicebotProcess:
        self.stop_bridge()
        self._runs += 1
        config = self.workdir / f"bridge-{self._runs}.toml"
        brain = "\n".join(t for t in (self.brain_toml, brain_toml) if t)
        config.write_text(self.base.read_text() + ("\n[brain]\n" + brain + "\n" if brain else ""))
        self.bridge = VoicebotProcess("bridge", config, self.workdir / f"bridge-{self._runs}.log")
        self.bridge.wait_ready(timeout=180)
        wait_healthy(self.ports.http, timeout=30)
        return self.bridge

    def stop_bridge(self) -> None:
        if self.bridge is not None:
            self.bridge.stop()
            self.bridge = None

    def __exit__(self, *exc: tuple[type[BaseException], BaseException, TracebackType]) -> None:
        self.stop_bridge()
        if self.asterisk is not None:
            self.asterisk.stop()


def converse(
    stack: BenchStack, name: str, questions: list[str], calls: int = 1, gap_s: float = 6.0
) -> list[CallRecord]:
    """``calls`` simultaneous calls, each asking ``questions`` (rotated per call)."""
    workdir = stack.workdir / name
    workdir.mkdir(parents=True, exist_ok=True)
    results: list[CallRecord | None] = [None] * calls

    def one(i: int) -> None:
        qs = questions[i % len(questions) :] + questions[: i % len(questions)]
        wav = make_dialogue_wav(
            [("", GREETING_WAIT_S)] + [(q, gap_s) for q in qs], workdir / f"caller-{i}.wav"
        )
        duration_ms = int((GREETING_WAIT_S + len(qs) * (gap_s + 2.5)) * 1000)
        results[i] = place_call(
            CallScript(audio=wav, hangup_after_ms=duration_ms),
            workdir=workdir / f"call-{i}",
            sip_port=stack.ports.sip,
            timeout_s=duration_ms / 1000 + 60,
        )

    # Real callers are not in step: spread the calls' start over one question cycle, so
    # that their questions end at different moments (as they would on a real line).
    cycle_s = gap_s + 2.5
    threads = [threading.Thread(target=one, args=(i,)) for i in range(calls)]
    for i, t in enumerate(threads):
        t.start()
        if i + 1 < len(threads):
            time.sleep(cycle_s / calls)
    for t in threads:
        t.join()
    return [r for r in results if r is not None]


def latencies_ms(records: list[CallRecord]) -> list[float]:
    return [x * 1000.0 for r in records for x in r.turn_latencies()]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--turns", type=int, default=10)
    parser.add_argument("--calls", type=int, default=1)
    parser.add_argument("--gap", type=float, default=6.0, help="silence after each question, s")
    parser.add_argument("--brain", default="", help="extra [brain] TOML lines")
    args = parser.parse_args()
    workdir = RESULTS / "last-turns"
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    questions = (QUESTIONS * (args.turns // len(QUESTIONS) + 1))[: args.turns]
    with BenchStack(workdir) as stack:
        bridge = stack.start_bridge(args.brain)
        records = converse(stack, "run", questions, calls=args.calls, gap_s=args.gap)
        stack.stop_bridge()
    lat = latencies_ms(records)
    turns = turn_records(bridge.output())
    result = {
        "calls_ok": all(r.ok for r in records),
        "turn_latency_ms": summarize(lat),
        "turn_latencies_ms": [round(x, 1) for x in lat],
        "stages_ms": stage_medians(turns),
        "bridge_turns": turns,
        "pacing": [r.pacing() for r in records],
    }
    out = RESULTS / "turns.json"
    out.write_text(json.dumps(result, indent=2))
    s = result["turn_latency_ms"]
    print(f"turns measured at the caller: n={s['n']} p50={s['p50']} ms p95={s['p95']} ms")
    print(f"bridge stage medians (ms after speech end): {result['stages_ms']}")
    print(f"written {out}")


if __name__ == "__main__":
    main()

"""Turn latency through the real phone path, measured at the caller.

Starts the project's Asterisk and bridge on free loopback ports, places a call
with sipp that greets nothing and asks scripted questions (espeak-ng voice,
not the bot's), captures what the caller sends and hears with tcpdump, and
measures for every question the time from the end of the caller's speech to
the first reply audio the caller receives. The bridge's per-turn stage
stamps (its ``voicebot.turns`` log) are collected alongside.

    .venv/bin/python -m bench.turns --turns 10

Writes ``bench/results/turns.json`` (git-ignored) and prints p50/p95.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import time
from pathlib import Path

from bench.processes import StackPorts, VoicebotProcess, wait_healthy, write_config
from bench.sipcaller import CallScript, make_dialogue_wav, place_call

RESULTS = Path(__file__).resolve().parent / "results"

# Questions that tiny.en still understands in espeak-ng's voice after mu-law at 8 kHz.
QUESTIONS = [
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


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * q / 100.0
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def turn_records(log_text: str) -> list[dict]:
    """The bridge's per-turn JSON records (logger voicebot.turns)."""
    records = []
    for line in log_text.splitlines():
        marker = "voicebot.turns: "
        if marker in line:
            records.append(json.loads(line.split(marker, 1)[1]))
    return records


def summarize(latencies_s: list[float]) -> dict[str, float]:
    ms = [x * 1000.0 for x in latencies_s]
    return {
        "n": len(ms),
        "p50": round(percentile(ms, 50), 1),
        "p95": round(percentile(ms, 95), 1),
        "mean": round(statistics.fmean(ms), 1) if ms else float("nan"),
    }


def run(turns: int, gap_s: float, workdir: Path, extra_brain: str = "") -> dict:
    ports = StackPorts.pick()
    config = write_config(
        workdir / "voicebot.toml", ports, f"bench-{os.getpid()}", rtp=(23000, 23999)
    )
    if extra_brain:
        config.write_text(config.read_text() + "\n[brain]\n" + extra_brain + "\n")
    questions = (QUESTIONS * (turns // len(QUESTIONS) + 1))[:turns]
    script_wav = make_dialogue_wav(
        [("", 7.0)] + [(q, gap_s) for q in questions], workdir / "caller.wav"
    )
    asterisk = VoicebotProcess("asterisk", config, workdir / "asterisk.log")
    bridge = None
    try:
        asterisk.wait_ready(timeout=300)
        bridge = VoicebotProcess("bridge", config, workdir / "bridge.log")
        bridge.wait_ready(timeout=180)
        wait_healthy(ports.http, timeout=30)
        duration_ms = int((7.0 + turns * (gap_s + 2.5)) * 1000)
        started = time.monotonic()
        record = place_call(
            CallScript(audio=script_wav, hangup_after_ms=duration_ms),
            workdir=workdir / "call",
            sip_port=ports.sip,
            timeout_s=duration_ms / 1000 + 60,
        )
        elapsed = time.monotonic() - started
    finally:
        if bridge is not None:
            bridge.stop()
        asterisk.stop()
    latencies = record.turn_latencies()
    stamps = turn_records(bridge.output() if bridge else "")
    stages = {}
    for stage in (
        "endpoint",
        "stt_final",
        "llm_first_token",
        "first_sentence",
        "tts_first_audio",
        "first_frame_out",
    ):
        values = [r["stages_ms"][stage] for r in stamps if stage in r.get("stages_ms", {})]
        if values:
            stages[stage] = round(statistics.median(values), 1)
    return {
        "call_ok": record.ok,
        "questions": len(questions),
        "turn_latency_ms": summarize(latencies),
        "turn_latencies_ms": [round(x * 1000, 1) for x in latencies],
        "stages_ms_median": stages,
        "bridge_turns": stamps,
        "pacing": record.pacing(),
        "elapsed_s": round(elapsed, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--turns", type=int, default=10)
    parser.add_argument("--gap", type=float, default=8.0, help="silence after each question, s")
    parser.add_argument("--brain", default="", help="extra [brain] TOML lines")
    args = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    workdir = RESULTS / "last-run"
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    result = run(args.turns, args.gap, workdir, args.brain)
    out = RESULTS / "turns.json"
    out.write_text(json.dumps(result, indent=2))
    s = result["turn_latency_ms"]
    print(f"turns measured at the caller: n={s['n']} p50={s['p50']} ms p95={s['p95']} ms")
    print(f"bridge stage medians (ms after speech end): {result['stages_ms_median']}")
    print(f"written {out}")


if __name__ == "__main__":
    main()

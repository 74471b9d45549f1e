"""The setup's smoke check: every native library the brain needs loads and runs once.

Why a separate process per library: a library compiled for instructions that this
CPU (or the virtual machine around it) does not grant dies with SIGILL on its first
matrix multiply, and no Python code can catch a signal raised inside native code. So
each check runs ``python -m ai.smoke --child NAME`` and the parent reads how that
child ended: exit 0 is a pass; an exception is a non-zero exit with its message on
stderr; a signal (SIGILL, SIGSEGV, SIGBUS) is a negative return code. Either way the
parent prints one clear paragraph naming the library, the CPU flags that matter and
the fix, and exits non-zero, so ``make`` leaves no "installed" stamp and retries.

The llama.cpp check also compares the instruction sets the installed library reports
(``llama_print_system_info``) with those the setup built it for (``--llama-features``,
from the Makefile): a wheel built with other flags, or on another CPU, is refused
even on a machine where it happens to run.

Usage: ``python -m ai.smoke [--llm-model P] [--stt-model P] [--tts-voice P]
[--only NAME ...] [--llama-features "AVX AVX2 ..."]``.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ai.smoke_children import CHILDREN

# CPU flags (as /proc/cpuinfo spells them) that decide whether a native build runs.
RELEVANT_FLAGS = ("avx", "avx2", "fma", "f16c", "bmi2", "avx512", "amx", "avx_vnni")
CHILD_TIMEOUT_S = 180.0


@dataclass(frozen=True)
class Check:
    """One library to exercise: what it is called in messages, and how to fix it."""

    name: str
    library: str
    does: str
    fix: str


CHECKS: tuple[Check, ...] = (
    Check(
        "llm",
        "llama.cpp (llama-cpp-python)",
        "load the LLM and generate one token",
        "the Makefile builds llama.cpp with GGML_NATIVE=OFF and an explicit instruction "
        "set (LLAMA_CMAKE_ARGS: AVX2, FMA, F16C; no AVX-512, no AMX). Run `make setup` "
        "again; if a changed LLAMA_CMAKE_ARGS caused this, restore the Makefile's value "
        "(or delete the wheel folder under ~/.cache/voicebot/wheels and rebuild)",
    ),
    Check(
        "stt",
        "CTranslate2 (faster-whisper)",
        "load Whisper and transcribe one second",
        "CTranslate2 picks its kernels at run time; force a lower instruction set with "
        "CT2_FORCE_CPU_ISA=AVX2 (or GENERIC) in the environment, or reinstall ctranslate2",
    ),
    Check(
        "tts",
        "onnxruntime (Piper)",
        "load the Piper voice and speak one word",
        "onnxruntime picks its kernels at run time; reinstall onnxruntime and piper-tts "
        "(`rm -rf .venv && make setup`), or try another onnxruntime release",
    ),
    Check(
        "vad",
        "onnxruntime (Silero VAD)",
        "load the Silero VAD and score one window",
        "reinstall onnxruntime (`rm -rf .venv && make setup`)",
    ),
    Check(
        "resample",
        "soxr (libsoxr)",
        "resample 20 ms from 22.05 to 8 kHz",
        "reinstall soxr (`rm -rf .venv && make setup`)",
    ),
    Check(
        "webrtc",
        "aiortc codecs (libopus via PyAV)",
        "encode and decode 20 ms of Opus",
        "reinstall aiortc and av (`rm -rf .venv && make setup`)",
    ),
)
BY_NAME = {c.name: c for c in CHECKS}


@dataclass(frozen=True)
class Outcome:
    check: Check
    ok: bool
    detail: str
    seconds: float


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> list[str]:
    """The CPU flags among ``RELEVANT_FLAGS`` (and their families), as the kernel lists them."""
    try:
        text = cpuinfo.read_text()
    except OSError:
        return []
    for line in text.splitlines():
        if line.startswith("flags"):
            flags = line.split(":", 1)[1].split()
            return [f for f in flags if f in RELEVANT_FLAGS or f.startswith(("avx512", "amx"))]
    return []


def describe_signal(returncode: int) -> str:
    """``-4`` -> ``"SIGILL (Illegal instruction)"``; an unknown number -> ``"signal 200"``."""
    try:
        sig = signal.Signals(-returncode)
    except ValueError:
        return f"signal {-returncode}"
    return f"{sig.name} ({signal.strsignal(sig) or sig.name})"


def explain_failure(check: Check, returncode: int, stderr: str, flags: Sequence[str]) -> str:
    """The paragraph the setup prints when a check fails: what, why, which flags, the fix."""
    tail = "\n    ".join(stderr.strip().splitlines()[-12:])
    if returncode < 0:
        how = f"died with {describe_signal(returncode)}"
        if -returncode == signal.SIGILL:
            why = (
                "The library executed an instruction this CPU, or the virtual machine around "
                "it, does not allow (a build for another CPU, or AMX/AVX-512 that the CPU "
                "advertises but the OS does not grant)."
            )
        else:
            why = "A crash inside native code."
    else:
        how = f"failed (exit status {returncode})"
        why = "The error it reported is below."
    return (
        f"smoke check failed: {check.library} {how} while trying to {check.does}.\n"
        f"  {why}\n"
        f"  CPU flags here: {' '.join(flags) or '(unknown)'}\n"
        f"  Fix: {check.fix}.\n" + (f"  Its last output:\n    {tail}\n" if tail else "")
    )


def run_check(check: Check, argv: Sequence[str], timeout: float = CHILD_TIMEOUT_S) -> Outcome:
    """Run one check's child process and judge how it ended."""
    started = time.monotonic()
    try:
        proc = subprocess.run(
            list(argv), capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired as exc:
        err = exc.stderr or ""  # text mode gives str; some Pythons give bytes here
        if isinstance(err, bytes):
            err = err.decode(errors="replace")
        detail = explain_failure(check, 1, f"{err}\ntimed out after {timeout:.0f} s", cpu_flags())
        return Outcome(check, False, detail, time.monotonic() - started)
    seconds = time.monotonic() - started
    if proc.returncode == 0:
        return Outcome(check, True, proc.stdout.strip(), seconds)
    return Outcome(
        check, False, explain_failure(check, proc.returncode, proc.stderr, cpu_flags()), seconds
    )


def _child_argv(name: str, args: argparse.Namespace) -> list[str]:
    argv = [sys.executable, "-X", "faulthandler", "-m", "ai.smoke", "--child", name]
    for flag, value in (
        ("--llm-model", args.llm_model),
        ("--stt-model", args.stt_model),
        ("--tts-voice", args.tts_voice),
        ("--llama-features", args.llama_features),
    ):
        if value is not None and value != "":
            argv += [flag, value]
    return argv


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ai.smoke", description=__doc__.split("\n")[0])
    parser.add_argument("--llm-model", default="", help="GGUF file ('' = embedded SmolLM2)")
    parser.add_argument("--stt-model", default="", help="CTranslate2 Whisper dir ('' = tiny.en)")
    parser.add_argument("--tts-voice", default="", help="Piper .onnx ('' = embedded voice)")
    parser.add_argument("--llama-features", default=None, help="instruction sets llama.cpp may use")
    parser.add_argument("--only", nargs="*", choices=sorted(BY_NAME), help="run only these")
    parser.add_argument("--child", choices=sorted(CHILDREN), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        os.environ.setdefault("OMP_NUM_THREADS", "2")
        print(CHILDREN[args.child](args), flush=True)
        return 0

    failed = 0
    for check in CHECKS:
        if args.only and check.name not in args.only:
            continue
        outcome = run_check(check, _child_argv(check.name, args))
        if outcome.ok:
            print(f"smoke: {check.library}: ok, {outcome.detail} ({outcome.seconds:.1f} s)")
        else:
            failed += 1
            print(outcome.detail, file=sys.stderr, end="")
    if failed:
        print(
            f"smoke: {failed} native librar{'y' if failed == 1 else 'ies'} failed; the setup "
            "is not complete (no stamp written: the next `make` tries again)",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

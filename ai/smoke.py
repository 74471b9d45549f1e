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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

# CPU flags (as /proc/cpuinfo spells them) that decide whether a native build runs.
RELEVANT_FLAGS = ("avx", "avx2", "fma", "f16c", "bmi2", "avx512", "amx", "avx_vnni")
# What llama.cpp's system info lists that is not an instruction set of the CPU.
LLAMA_NON_ISA = {"LLAMAFILE", "OPENMP", "REPACK", "KLEIDIAI", "ACCELERATE", "BLAS"}
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
    """``-4`` -> ``"SIGILL (Illegal instruction)"``."""
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
        err = exc.stderr.decode(errors="replace") if isinstance(exc.stderr, bytes) else ""
        detail = explain_failure(check, 1, f"{err}\ntimed out after {timeout:.0f} s", cpu_flags())
        return Outcome(check, False, detail, time.monotonic() - started)
    seconds = time.monotonic() - started
    if proc.returncode == 0:
        return Outcome(check, True, proc.stdout.strip(), seconds)
    return Outcome(
        check, False, explain_failure(check, proc.returncode, proc.stderr, cpu_flags()), seconds
    )


# -- the children: each exercises one library and prints one line ----------------------------


def _child_llm(args: argparse.Namespace) -> str:
    import llama_cpp

    from ai.models import llm_model

    info = llama_cpp.llama_print_system_info().decode(errors="replace")
    reported = {
        part.split("=")[0].strip()
        for part in info.replace("CPU :", "|").split("|")
        if part.strip().endswith("= 1")
    }
    if args.llama_features is not None:
        allowed = set(args.llama_features.split()) | LLAMA_NON_ISA
        extra = sorted(reported - allowed)
        if extra:
            raise RuntimeError(
                f"the installed llama.cpp uses {', '.join(extra)}, which this setup's build "
                f"does not enable (expected only: {args.llama_features}): a wheel built with "
                f"other flags or on another CPU was installed. System info: {info.strip()}"
            )
    path = llm_model(args.llm_model)
    llm = llama_cpp.Llama(model_path=str(path), n_ctx=256, n_threads=2, verbose=False)
    started = time.monotonic()
    out = llm.create_completion("Hello", max_tokens=1, temperature=0.0)
    took = (time.monotonic() - started) * 1000
    features = " ".join(sorted(reported - LLAMA_NON_ISA))
    return f"{path.name}: one token {out['choices'][0]['text']!r} in {took:.0f} ms ({features})"


def _child_stt(args: argparse.Namespace) -> str:
    import numpy as np
    from faster_whisper import WhisperModel

    from ai.models import whisper_model

    path = whisper_model(args.stt_model)
    model = WhisperModel(str(path), device="cpu", compute_type="int8", cpu_threads=2)
    tone = (0.1 * np.sin(2 * np.pi * 440 * np.arange(16000) / 16000)).astype(np.float32)
    segments, _ = model.transcribe(tone, beam_size=1, language="en")
    list(segments)  # the generator runs the model
    return f"{path.name}: transcribed 1 s"


def _child_tts(args: argparse.Namespace) -> str:
    from piper import PiperVoice

    from ai.models import piper_voice

    path = piper_voice(args.tts_voice)
    voice = PiperVoice.load(path)
    samples = sum(len(chunk.audio_int16_array) for chunk in voice.synthesize("OK."))
    if samples == 0:
        raise RuntimeError("Piper produced no audio")
    return f"{path.name}: {samples} samples"


def _child_vad(args: argparse.Namespace) -> str:
    from ai.vad import WINDOW_SAMPLES, SileroVad

    probs = SileroVad().new_stream().process(bytes(2 * WINDOW_SAMPLES))
    return f"Silero: {len(probs)} window scored"


def _child_resample(args: argparse.Namespace) -> str:
    import numpy as np
    import soxr

    stream = soxr.ResampleStream(22050, 8000, 1, dtype="int16", quality="HQ")
    out = stream.resample_chunk(np.zeros(441, dtype=np.int16))
    return f"soxr {soxr.__version__}: {len(out)} samples"


def _child_webrtc(args: argparse.Namespace) -> str:
    import fractions

    import av
    from aiortc.codecs import get_decoder, get_encoder
    from aiortc.rtcrtpparameters import RTCRtpCodecParameters

    codec = RTCRtpCodecParameters(mimeType="audio/opus", clockRate=48000, channels=2)
    frame = av.AudioFrame(format="s16", layout="stereo", samples=960)
    for plane in frame.planes:
        plane.update(bytes(plane.buffer_size))
    frame.sample_rate = 48000
    frame.pts = 0
    frame.time_base = fractions.Fraction(1, 48000)
    payloads, _ = get_encoder(codec).encode(frame)
    from aiortc.jitterbuffer import JitterFrame

    decoded = get_decoder(codec).decode(JitterFrame(data=payloads[0], timestamp=0))
    return f"opus: {len(payloads[0])} bytes, {len(decoded)} frame decoded"


CHILDREN: dict[str, Callable[[argparse.Namespace], str]] = {
    "llm": _child_llm,
    "stt": _child_stt,
    "tts": _child_tts,
    "vad": _child_vad,
    "resample": _child_resample,
    "webrtc": _child_webrtc,
}


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

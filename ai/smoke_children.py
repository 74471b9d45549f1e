"""The smoke check's children: each exercises one native library once and prints one line.

Each function runs in a process of its own (``python -m ai.smoke --child NAME``,
see ai/smoke.py), so that a library killed by a signal takes only its child down.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

# What llama.cpp's system info lists that is not an instruction set of the CPU.
LLAMA_NON_ISA = {"LLAMAFILE", "OPENMP", "REPACK", "KLEIDIAI", "ACCELERATE", "BLAS"}


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

"""faster-whisper speech recognition on its own worker threads.

Whisper is only given audio that our VAD already judged to be speech, so its
own VAD filter stays off. It still invents text on noise, breath and clicks
("Thank you.", "Thanks for watching!"), so every result goes through
``filter_transcript`` (ai/stt_filter.py), which says why one should be dropped.

``WhisperModel.transcribe`` returns a *lazy* generator: the decoding happens
while it is iterated. ``transcribe_sync`` drains it completely, and
``transcribe`` runs ``transcribe_sync`` on this STT's own thread pool, so the
model never runs on the event loop. ``workers`` threads (and the model's
``num_workers``) let that many calls be transcribed at once; each uses
``threads`` CPU threads.

Cost, measured on the 2-core development machine (tiny.en, int8, beam 1):
a 2.9 s turn (2.3 s of espeak speech, 0.3 s of silence each side) takes
0.24-0.25 s with threads=2 and 0.33-0.35 s with threads=1; loading takes
0.15-0.3 s. Whisper pads every input to 30 s for its encoder, so a short turn
costs nearly as much as a long one: the cost is per turn, not per second.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ai.stt_filter import filter_transcript, strip_non_speech
from ai.workers import model_executor

log = logging.getLogger(__name__)

STT_RATE = 16000
"""Whisper's sample rate: callers resample to it before transcribing."""


class SttError(RuntimeError):
    """The model could not be loaded or used; the message says why."""


@dataclass(frozen=True)
class SttOptions:
    """Decoding options, tuned for short telephone turns and low latency.

    Attributes:
      beam_size: 1 is greedy decoding: several times faster than 5, and the
        difference on short single-speaker turns is small.
      language: fixed, so no time goes into language detection.
      without_timestamps: a turn is one short utterance; we need only its text.
      condition_on_previous_text: off, so one bad window cannot seed a loop.
      temperature: one greedy pass, no fallback re-decoding (latency is bounded).
      no_speech_threshold, log_prob_threshold: Whisper's own silence check:
        a window is skipped when its no-speech probability is above the first
        and its mean token log-probability below the second.
      initial_prompt: optional vocabulary hint (business name, product names).
      short_encoder_frames: a turn shorter than this many 10 ms frames is encoded
        with an encoder input of this length instead of Whisper's fixed 30 s
        (3000 frames); 0 turns this off. The encoder's cost is proportional to its
        input, and a telephone turn is a few seconds: padding it to 30 s spends
        most of the time on silence. Measured here (tiny.en, int8, 2 threads):
        1.8-5.4 s questions took 75-120 ms instead of 240-290 ms, with the same
        words. Much shorter inputs (700 frames and below) start to lose words or
        loop, so the floor is 10 s (the idea of whisper.cpp's ``audio_ctx``).
    """

    beam_size: int = 1
    language: str = "en"
    without_timestamps: bool = True
    condition_on_previous_text: bool = False
    temperature: float = 0.0
    no_speech_threshold: float = 0.6
    log_prob_threshold: float = -1.0
    initial_prompt: str | None = None
    short_encoder_frames: int = 1000


@dataclass(frozen=True)
class Transcript:
    """What Whisper heard in one piece of audio.

    Attributes:
      text: the recognised text with non-speech tags ("[MUSIC]") removed. It is
        kept even when ``rejected`` is set, for logs; do not act on it then.
      no_speech_prob: Whisper's probability that the audio holds no speech
        (token-weighted mean over segments). NaN when Whisper returned no
        segment at all (its own silence check skipped the audio).
      avg_logprob: mean log-probability of the decoded tokens; NaN as above.
      audio_s: length of the audio given, in seconds.
      elapsed_s: time spent in the model (load excluded, queueing excluded).
      rejected: why this transcript should be dropped, or None to keep it.
    """

    text: str
    no_speech_prob: float
    avg_logprob: float
    audio_s: float
    elapsed_s: float
    rejected: str | None

    @property
    def kept(self) -> bool:
        return self.rejected is None

    @classmethod
    def typed(cls, text: str) -> Transcript:
        """Keys the caller typed, as a turn's transcript."""
        return cls(text, 0.0, 0.0, 0.0, 0.0, None)


class WhisperStt:
    """A faster-whisper model with its own thread pool. ``load()`` once, share between calls."""

    def __init__(
        self,
        model_dir: Path,
        *,
        threads: int = 2,
        workers: int = 1,
        options: SttOptions = SttOptions(),  # frozen, so one shared default is safe
    ) -> None:
        self.model_dir = model_dir
        self.threads = threads
        self.workers = workers
        self.options = options
        self._model: Any = None
        self._tokenizer: Any = None
        self._executor = model_executor("whisper", workers)

    def load(self) -> None:
        """Load the CTranslate2 model (int8 on CPU); blocking, about 0.3 s for tiny.en."""
        from faster_whisper import WhisperModel  # heavy import, deferred until wanted

        started = time.monotonic()
        try:
            self._model = WhisperModel(
                str(self.model_dir),
                device="cpu",
                compute_type="int8",
                cpu_threads=self.threads,
                num_workers=self.workers,
            )
        except Exception as exc:
            raise SttError(f"cannot load Whisper model {self.model_dir}: {exc}") from exc
        log.info(
            "stt: loaded %s (%d threads, %d workers) in %.2f s",
            self.model_dir,
            self.threads,
            self.workers,
            time.monotonic() - started,
        )

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def transcribe_sync(self, pcm16k: bytes) -> Transcript:
        """Transcribe int16 little-endian mono 16 kHz audio (blocking: call it off the loop)."""
        model = self._model
        if model is None:
            raise SttError("Whisper model not loaded")
        samples = np.frombuffer(pcm16k, dtype="<i2", count=len(pcm16k) // 2)
        audio_s = len(samples) / STT_RATE
        if len(samples) == 0:
            return Transcript("", math.nan, math.nan, 0.0, 0.0, "empty")

        audio = samples.astype(np.float32) / 32768.0
        opts = self.options
        started = time.monotonic()
        if opts.short_encoder_frames and audio_s * 100 < opts.short_encoder_frames - 50:
            raw, no_speech, logprob = self._transcribe_short(model, audio)
            return self._result(raw, no_speech, logprob, audio_s, time.monotonic() - started)
        segments, _info = model.transcribe(
            audio,
            language=opts.language,
            beam_size=opts.beam_size,
            temperature=opts.temperature,
            without_timestamps=opts.without_timestamps,
            condition_on_previous_text=opts.condition_on_previous_text,
            no_speech_threshold=opts.no_speech_threshold,
            log_prob_threshold=opts.log_prob_threshold,
            initial_prompt=opts.initial_prompt,
            vad_filter=False,  # our VAD already decided this is speech
        )
        # Draining the generator is what runs the decoder: it must happen here, on this thread.
        segments = list(segments)
        elapsed_s = time.monotonic() - started

        raw = "".join(segment.text for segment in segments).strip()
        if segments:
            # Weighted by token count, so a long segment counts more than a short one.
            weights = [max(len(segment.tokens), 1) for segment in segments]
            no_speech = float(np.average([s.no_speech_prob for s in segments], weights=weights))
            logprob = float(np.average([s.avg_logprob for s in segments], weights=weights))
        else:
            no_speech = logprob = math.nan
        return self._result(raw, no_speech, logprob, audio_s, elapsed_s)

    def _transcribe_short(self, model: Any, audio: np.ndarray) -> tuple[str, float, float]:
        """One greedy decode of a short turn over a shortened encoder input (see SttOptions)."""
        import ctranslate2
        from faster_whisper.tokenizer import Tokenizer

        opts = self.options
        extractor = model.feature_extractor
        frames = opts.short_encoder_frames
        padded = np.zeros(frames * extractor.hop_length, dtype=np.float32)
        padded[: len(audio)] = audio
        features = extractor(padded, padding=0)[:, :frames]
        if self._tokenizer is None:
            self._tokenizer = Tokenizer(
                model.hf_tokenizer,
                model.model.is_multilingual,
                task="transcribe",
                language=opts.language,
            )
        tok = self._tokenizer
        prompt: list[int] = []
        if opts.initial_prompt:
            prompt = [tok.sot_prev, *tok.encode(" " + opts.initial_prompt.strip())]
        prompt += [*tok.sot_sequence, tok.no_timestamps]
        encoded = model.model.encode(
            ctranslate2.StorageView.from_array(np.ascontiguousarray(features[None])),
            to_cpu=False,
        )
        result = model.model.generate(
            encoded,
            [prompt],
            beam_size=opts.beam_size,
            max_length=224,
            return_scores=True,
            return_no_speech_prob=True,
            suppress_blank=True,
            suppress_tokens=[-1],
        )[0]
        tokens = [t for t in result.sequences_ids[0] if t < tok.eot]
        # As faster-whisper does: the score is length-normalised; undo it, then average
        # over the tokens plus the end-of-text token.
        cumulative = result.scores[0] * max(len(tokens), 1)
        no_speech, logprob = float(result.no_speech_prob), cumulative / (len(tokens) + 1)
        if no_speech > opts.no_speech_threshold and logprob < opts.log_prob_threshold:
            return "", no_speech, logprob  # Whisper's own silence rule, as faster-whisper has it
        return tok.decode(tokens).strip(), no_speech, logprob

    def _result(
        self, raw: str, no_speech: float, logprob: float, audio_s: float, elapsed_s: float
    ) -> Transcript:
        rejected = filter_transcript(raw, no_speech, logprob, audio_s)
        if rejected:
            log.debug("stt: dropped %r (%s)", raw, rejected)
        return Transcript(
            text=strip_non_speech(raw),
            no_speech_prob=no_speech,
            avg_logprob=logprob,
            audio_s=audio_s,
            elapsed_s=elapsed_s,
            rejected=rejected,
        )

    async def transcribe(self, pcm16k: bytes) -> Transcript:
        """``transcribe_sync`` on this STT's worker threads; the event loop stays free.

        Cancelling the awaiting task does not stop a transcription already
        running in a worker; its result is discarded.
        """
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self.transcribe_sync, pcm16k)

    def close(self) -> None:
        """Stop accepting work and release the model once running transcriptions finish."""
        self._executor.shutdown(wait=False, cancel_futures=True)
        self._model = None

"""The models, loaded once per process and shared by every call and browser session.

Each model works on its own worker thread(s): VAD on one thread (tiny, but
50 calls x 31 windows/s add up), Whisper on ``stt_workers`` threads, the LLM
on one thread per llama.cpp context, Piper on its own thread. The event loop
only ever awaits them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from ai import models
from ai.agent import Agent, AgentSpec
from ai.config import BrainSettings
from ai.embedding import SentenceEncoder
from ai.llm import LlmBackend, LlmOptions
from ai.llm_llama import LlamaCppBackend
from ai.message_keeper import MessageBox
from ai.stt import SttOptions, Transcript, WhisperStt
from ai.tts import PiperTts
from ai.vad import SileroVad
from ai.workers import lower_priority

log = logging.getLogger(__name__)


class Brain:
    def __init__(
        self,
        settings: BrainSettings,
        *,
        agents: Sequence[AgentSpec] = (),
        default_agent: str = "",
        tts_voice: str = "",
        greeting: str = "",
        hangup_digit: str = "#",
        messages: MessageBox | None = None,
    ) -> None:
        """``agents`` answer the calls (``default_agent`` those that name none or an unknown
        one); without any, one agent without facts greets with ``greeting``. ``messages``:
        where the messages callers leave are kept (ai/message_keeper.py)."""
        self.settings = settings
        self.hangup_digit = hangup_digit
        self.messages = messages
        self.tts = PiperTts(models.piper_voice(tts_voice))
        specs = list(agents) or [AgentSpec("default", greeting=greeting)]
        voices: dict[str, PiperTts] = {"": self.tts}
        self.encoder: SentenceEncoder | None = None
        if settings.embedding_model != "off" and any(s.knowledge for s in specs):
            self.encoder = SentenceEncoder(
                models.embedding_model(settings.embedding_model),
                models.embedding_tokenizer(settings.embedding_model),
            )
        # Deciding a turn (retrieval, with a sentence encoding of the question: ~5 ms) runs
        # here, off the event loop; one thread, as turns are decided one at a time each. At
        # normal priority, like the VAD: every turn waits for it, and behind the niced
        # models (several calls' STT and TTS) a 5 ms decision waited far longer.
        self.text_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="decide")
        self.agents: dict[str, Agent] = {}
        for spec in specs:
            if spec.voice not in voices:
                voices[spec.voice] = PiperTts(models.piper_voice(spec.voice))
            self.agents[spec.name] = Agent(spec, voices[spec.voice], self.encoder)
        self._voices = list(voices.values())
        self.default_agent = default_agent or specs[0].name
        if self.default_agent not in self.agents:
            raise ValueError(f"default agent {self.default_agent!r} is not among the agents")
        self._unknown_agents: set[str] = set()
        self.stt = WhisperStt(
            models.whisper_model(settings.stt_model),
            threads=settings.stt_threads,
            workers=settings.stt_workers,
            options=SttOptions(beam_size=settings.stt_beam_size),
        )
        self.vad = SileroVad()
        # The VAD stays at normal priority: it costs about 60 us per 32 ms window, and
        # queueing it behind the niced models would delay every turn decision.
        self.vad_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vad")
        self.llm = _make_llm(settings)
        self.apology_pcm = b""

    def agent_for(self, name: str) -> Agent:
        """The agent called ``name``; the default one for "" or a name no agent has (logged
        once per name: a dialplan line naming an agent the config lacks)."""
        agent = self.agents.get(name) if name else None
        if agent is not None:
            return agent
        if name and name not in self._unknown_agents:
            self._unknown_agents.add(name)
            log.warning(
                "no agent %r in the configuration: agent %r answers its calls",
                name,
                self.default_agent,
            )
        return self.agents[self.default_agent]

    async def transcribe_safely(self, audio: bytes, call: str) -> Transcript | None:
        """A transcript for listeners (partials, interjections): None when STT fails."""
        try:
            return await self.stt.transcribe(audio)
        except Exception:
            log.exception("session %s: speech recognition failed", call)
            return None

    def load(self) -> None:
        """Load every model (blocking: run it on a thread of its own, never the event loop).

        The loading thread is niced first: thread pools the libraries create while
        loading inherit its priority (see ai/workers.py).
        """
        lower_priority()
        started = time.monotonic()
        for voice in self._voices:
            voice.load()
        self.stt.load()
        self.llm.load()
        if self.encoder is not None:
            self.encoder.load()
        for agent in self.agents.values():
            agent.load()
        self.apology_pcm = self.tts.synthesize_sync(self.settings.apology)
        self._warm_up()
        log.info("brain: models loaded in %.1f s", time.monotonic() - started)

    def trim_leading_silence(self, pcm: bytes, rate: int, keep_s: float = 0.01) -> bytes:
        """Drop the near-silence Piper puts before a sentence (about 40 ms): the first
        sentence of a reply is the one the caller waits for."""
        a = np.frombuffer(pcm, dtype=np.int16)
        loud = np.flatnonzero(np.abs(a) > 300)  # about -40 dBFS
        if loud.size == 0:
            return pcm
        start = max(0, int(loud[0]) - int(keep_s * rate))
        return a[start:].tobytes()

    def _warm_up(self) -> None:
        # The first inference of each model pays one-off allocation costs: pay them now,
        # not on the first caller's first turn.
        silence = np.zeros(16000, dtype=np.int16).tobytes()
        self.vad.new_stream().process(silence)
        self.stt.transcribe_sync(silence)

    @property
    def loaded(self) -> bool:
        voices = all(v.loaded for v in self._voices)
        encoder = self.encoder is None or self.encoder.loaded
        return voices and encoder and self.stt.loaded and self.llm.loaded

    def volume(self, pcm: bytes) -> bytes:
        """Scale TTS output to the configured line level."""
        v = self.settings.tts_volume
        if v >= 1.0:
            return pcm
        a = np.frombuffer(pcm, dtype=np.int16).astype(np.float32) * v
        return a.astype(np.int16).tobytes()

    def close(self) -> None:
        for voice in self._voices:
            voice.close()
        self.stt.close()
        self.llm.close()
        self.vad_executor.shutdown(wait=False, cancel_futures=True)
        self.text_executor.shutdown(wait=False, cancel_futures=True)


def _make_llm(s: BrainSettings) -> LlmBackend:
    options = LlmOptions(
        max_tokens=s.llm_max_tokens,
        temperature=s.llm_temperature,
        threads=s.llm_threads,
        batch_threads=s.llm_batch_threads,
    )
    if s.llm_backend == "openai":
        from ai.llm_openai import OpenAICompatBackend

        return OpenAICompatBackend(
            s.openai_base_url, s.openai_model, api_key=s.openai_api_key or None
        )
    return LlamaCppBackend(Path(models.llm_model(s.llm_model)), options, contexts=s.llm_contexts)

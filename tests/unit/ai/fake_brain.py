"""Fakes for unit tests of the session's wiring: a channel and a brain whose models are
deterministic stand-ins (the real models are exercised by their own tests and the
integration tests). Speech "audio" is the text's UTF-8 bytes, so tests read back
exactly what the bot said."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from ai import message_taking, transfer
from ai.agent import Agent, AgentSpec
from ai.brain import Brain
from ai.channel import BRAIN_RATE, Dtmf
from ai.config import BrainSettings
from ai.knowledge import Knowledge
from ai.message_keeper import StoredMessage
from ai.stt import Transcript
from ai.vad import WINDOW_SAMPLES

FRAME_BYTES = BRAIN_RATE // 50 * 2  # 20 ms
LOUD = (
    (8000 * np.sin(2 * np.pi * 300 * np.arange(FRAME_BYTES // 2) / BRAIN_RATE))
    .astype(np.int16)
    .tobytes()
)
QUIET = bytes(FRAME_BYTES)
APOLOGY = "APOLOGY"
GREETING = "GREETING"


def speech(text: str) -> bytes:
    data = text.encode()
    return data + b" " * (len(data) % 2)


class FakeVadStream:
    """Loud windows are speech (0.95), quiet ones are not (0.02)."""

    def __init__(self, owner: FakeVad) -> None:
        self.owner = owner

    def process(self, pcm: bytes) -> list[float]:
        if self.owner.fail:
            raise RuntimeError("injected VAD crash")
        a = np.frombuffer(pcm, dtype=np.int16).reshape(-1, WINDOW_SAMPLES).astype(np.float32)
        return [0.95 if float(np.abs(w).mean()) > 1000 else 0.02 for w in a]


class FakeVad:
    def __init__(self) -> None:
        self.fail = False

    def new_stream(self) -> FakeVadStream:
        return FakeVadStream(self)


class FakeStt:
    def __init__(self, text: str = "what time do you open") -> None:
        self.text = text

    async def transcribe(self, pcm: bytes) -> Transcript:
        await asyncio.sleep(0.005)
        return Transcript(self.text, 0.01, -0.1, len(pcm) / (2 * BRAIN_RATE), 0.005, None)


class FakeLlm:
    def __init__(self, reply: str = "We open at nine. See you soon.") -> None:
        self.reply = reply
        self.fail_next = 0

    async def stream(self, messages: list[dict[str, str]]) -> AsyncIterator[str]:
        await asyncio.sleep(0.005)
        if self.fail_next:
            self.fail_next -= 1
            raise RuntimeError("injected LLM failure")
        for word in self.reply.split(" "):
            yield word + " "


class FakeTts:
    sample_rate = 22050

    async def synthesize(self, text: str) -> bytes:
        await asyncio.sleep(0.002)
        return speech(text)


class FakeAgent:
    """An agent without facts (the LLM answers), with the fake voice."""

    def __init__(
        self,
        knowledge: Knowledge | None = None,
        greeting: str = GREETING,
        transfer_to: str = "",
        take_messages: bool = False,
    ) -> None:
        keys = ("0",) if transfer_to else ()
        self.spec = AgentSpec(
            "fake",
            greeting=greeting,
            transfer_to=transfer_to,
            transfer_keys=keys,
            take_messages=take_messages,
        )
        self.name = self.spec.name
        self.tts = FakeTts()
        self.greeting_pcm = speech(greeting) if greeting else b""
        self.digit_lines: dict[str, tuple[str, bytes]] = {}
        offer = message_taking.OFFER if take_messages else ""
        lines = {key: transfer.line(key, offer) for key in transfer.LINES}
        self.transfer_lines = {key: (text, speech(text)) for key, text in lines.items()}
        self.knowledge = knowledge
        self.index = None  # the responder builds its own

    opening = Agent.opening
    responder = Agent.responder


class FakeBrain:
    def __init__(self, agent: FakeAgent | None = None) -> None:
        self.settings = BrainSettings(apology=APOLOGY, partial_interval_ms=0)
        self.vad = FakeVad()
        self.vad_executor = ThreadPoolExecutor(1, thread_name_prefix="fake-vad")
        self.text_executor = ThreadPoolExecutor(1, thread_name_prefix="fake-decide")
        self.stt = FakeStt()
        self.llm = FakeLlm()
        self.tts = FakeTts()
        self.greeting = GREETING
        self.greeting_pcm = speech(GREETING)
        self.apology_pcm = speech(APOLOGY)
        self.hangup_digit = "#"
        self.agent = agent or FakeAgent()
        self.agent.tts = self.tts
        self.agent_names: list[str] = []
        self.messages = FakeMessageBox()

    transcribe_safely = Brain.transcribe_safely

    def agent_for(self, name: str) -> FakeAgent:
        self.agent_names.append(name)
        return self.agent

    def trim_leading_silence(self, pcm: bytes, rate: int) -> bytes:
        return pcm

    def volume(self, pcm: bytes) -> bytes:
        return pcm

    def close(self) -> None:
        self.vad_executor.shutdown(wait=False)
        self.text_executor.shutdown(wait=False)


class FakeMessageBox:
    """Keeps every submission, in order: ``latest`` is the store's view of each message."""

    def __init__(self) -> None:
        self.submitted: list[tuple[StoredMessage, bytes]] = []

    def submit(self, message: StoredMessage, audio: bytes) -> None:
        self.submitted.append((message, audio))

    @property
    def latest(self) -> dict[str, StoredMessage]:
        return {m.id: m for m, _ in self.submitted}


class FakeChannel:
    """Implements ``ai.channel.Channel``; output is 'sent' at once."""

    sample_rate = BRAIN_RATE

    def __init__(self, name: str) -> None:
        self.name = name
        self.audio_in: asyncio.Queue[bytes] = asyncio.Queue(250)
        self.events: asyncio.Queue[Dtmf] = asyncio.Queue(32)
        self.plays: list[tuple[bytes, int]] = []
        self.hangups: list[str] = []
        self.onset_error: BaseException | None = None
        self._ended = asyncio.Event()
        self.can_transfer = False
        self.transfers: list[str] = []
        self.transfer_works = True

    @property
    def said(self) -> list[str]:
        return [pcm.decode().strip() for pcm, _ in self.plays]

    @property
    def ended(self) -> bool:
        return self._ended.is_set()

    async def wait_ended(self) -> None:
        await self._ended.wait()

    async def play(self, pcm: bytes, rate: int) -> None:
        if self.ended:
            raise RuntimeError("channel ended")
        self.plays.append((pcm, rate))

    def flush_output(self) -> int:
        return 0

    def pause_output(self) -> None:
        pass

    def resume_output(self) -> None:
        pass

    def output_queued_s(self) -> float:
        return 0.0

    async def wait_output_idle(self) -> None:
        await asyncio.sleep(0)

    def next_speech_onset(self) -> asyncio.Future[float]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[float] = loop.create_future()
        if self.onset_error is not None:
            loop.call_soon(future.set_exception, self.onset_error)
        else:
            loop.call_soon(future.set_result, loop.time())
        return future

    def recent_output_dbfs(self) -> float | None:
        return None

    async def hangup(self, reason: str) -> None:
        self.hangups.append(reason)
        self._ended.set()

    async def transfer(self, target: str) -> bool:
        self.transfers.append(target)
        if self.can_transfer and self.transfer_works:
            self._ended.set()
            return True
        return False

    def end(self) -> None:
        self._ended.set()


async def say(ch: FakeChannel, speech_s: float = 0.8, silence_s: float = 0.6) -> None:
    """The caller speaks for ``speech_s`` then is silent for ``silence_s`` (fast: no real time)."""
    for frame, seconds in ((LOUD, speech_s), (QUIET, silence_s)):
        for _ in range(round(seconds * 50)):
            await ch.audio_in.put(frame)
            await asyncio.sleep(0.001)


async def until(condition, limit_s: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    """Poll ``condition`` (fakes have no event to wait on), at most ``limit_s``."""
    async with asyncio.timeout(limit_s):
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0.005)

"""Hearing: the caller's 16 kHz frames in, VAD windows scored, turn events out.

Theory of operation
-------------------
``Hearing`` holds what the session must remember of the caller's audio, and no
asyncio: the session's audio task gives it each 20 ms frame (``frame()``), and
asks it for the audio that is ready to score. The Silero VAD scores 32 ms
windows, so frames are gathered until at least one whole window is there
(``take_windows()``), and only then does the session hop to the VAD's worker
thread: about 31 hops a second instead of 50, and never a hop for nothing.
The probabilities come back to ``events()``, which feeds the pure
``TurnTaker`` (ai/turns.py) and returns its events.

Two buffers follow the turn-taking:

- the *pre-roll*: the last ``preroll_s`` of audio while nobody is known to be
  speaking, so the first syllable, heard before the VAD was sure, is kept;
- the *utterance*: from ``start_utterance()`` (pre-roll included) to
  ``stop_collecting()``; this is what Whisper transcribes.

The echo gate: audio quieter than what the bot sent in the last 200 ms, by
more than ``echo_margin_db``, is most likely the bot's own voice coming back
on the line; those windows never count as the caller speaking.
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np

from ai.channel import BRAIN_RATE
from ai.turns import TurnEvent, TurnTaker
from ai.vad import WINDOW_SAMPLES

# Audio kept from before the VAD is sure the caller speaks: the first syllable, with
# little of the line noise before it. (Until 2026-12 the pre-roll was trimmed in ~100 ms
# resampler blocks and so held 0.5-0.6 s; a frame-exact 0.6 s put up to 100 ms more noise
# in front of each turn, and tiny.en misheard more. 0.5 s is the bottom of that range.)
PREROLL_S = 0.5
_WINDOW_BYTES = 2 * WINDOW_SAMPLES


def level_dbfs(pcm: bytes) -> float:
    a = np.frombuffer(pcm, dtype=np.int16).astype(np.float32)
    rms = float(np.sqrt(np.mean(a * a))) if a.size else 0.0
    return 20.0 * math.log10(max(rms, 1e-3) / 32768.0)


class Hearing:
    def __init__(
        self, turns: TurnTaker, *, echo_margin_db: float, preroll_s: float = PREROLL_S
    ) -> None:
        self.turns = turns
        self.echo_margin_db = echo_margin_db
        self.preroll_max_bytes = int(preroll_s * BRAIN_RATE) * 2
        self.collecting = False
        self.utterance = bytearray()
        self.last_utterance = b""
        self._preroll: deque[bytes] = deque()
        self._preroll_bytes = 0
        self._unscored = bytearray()

    # -- audio in ---------------------------------------------------------------------

    def frame(self, pcm16k: bytes) -> None:
        """One frame of caller audio: kept for transcription and queued for the VAD."""
        self._unscored += pcm16k
        if self.collecting:
            self.utterance += pcm16k
            return
        self._preroll.append(pcm16k)
        self._preroll_bytes += len(pcm16k)
        while self._preroll_bytes > self.preroll_max_bytes and self._preroll:
            self._preroll_bytes -= len(self._preroll.popleft())

    def take_windows(self) -> bytes:
        """The whole 32 ms windows gathered so far ('' until there is one)."""
        n = len(self._unscored) - len(self._unscored) % _WINDOW_BYTES
        if n == 0:
            return b""
        chunk = bytes(self._unscored[:n])
        del self._unscored[:n]
        return chunk

    def is_echo(self, chunk: bytes, bot_dbfs: float | None) -> bool:
        """True when ``chunk`` is quiet enough, next to what the bot just sent, to be echo."""
        return bot_dbfs is not None and level_dbfs(chunk) < bot_dbfs - self.echo_margin_db

    def events(self, probs: list[float], now: float, *, echo: bool) -> list[TurnEvent]:
        """Turn events for the VAD's probabilities of the windows just scored."""
        out: list[TurnEvent] = []
        for prob in probs:
            out += self.turns.vad(prob, now, echo=echo)
        return out

    # -- the utterance ----------------------------------------------------------------

    def start_utterance(self, head: bytes = b"") -> None:
        """Collect from now on, starting with ``head`` and the pre-roll."""
        self.utterance = bytearray(head + b"".join(self._preroll))
        self._preroll.clear()
        self._preroll_bytes = 0
        self.collecting = True

    def stop_collecting(self) -> None:
        self.collecting = False

    def end_utterance(self) -> bytes:
        """Stop collecting; the utterance becomes ``last_utterance`` (for a continuation)."""
        self.collecting = False
        self.last_utterance = bytes(self.utterance)
        return self.last_utterance

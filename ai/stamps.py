"""Per-turn stage stamps: where the time between the caller's last word and the bot's first
sound went.

Every stage stamps ``loop.time()`` (monotonic) when it happens; the record is
logged as one JSON line (logger ``voicebot.turns``) with the text both ways
and each stage in milliseconds after the end of the caller's speech, ready
for metrics and the benchmark.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field

turn_log = logging.getLogger("voicebot.turns")

STAGES = (
    "endpoint",
    "stt_final",
    "decided",
    "llm_first_token",
    "first_sentence",
    "tts_first_audio",
    "first_frame_out",
)


@dataclass
class TurnRecord:
    channel: str
    turn: int
    speech_end: float
    user_text: str = ""
    bot_text: str = ""
    interrupted: bool = False
    error: str = ""
    answer: str = ""  # how the agent answered: fact, small_talk, goodbye, unknown, chat
    stamps: dict[str, float] = field(default_factory=dict)
    announced: bool = False  # the user's text was shown to listeners

    def stamp(self, stage: str, t: float) -> None:
        """Record ``stage`` at loop time ``t`` (only its first occurrence counts)."""
        self.stamps.setdefault(stage, t)

    def stages_ms(self) -> dict[str, float]:
        return {
            s: round((self.stamps[s] - self.speech_end) * 1000.0, 1)
            for s in STAGES
            if s in self.stamps
        }

    @property
    def latency_ms(self) -> float | None:
        """End of the caller's speech to the first frame of the reply on the line."""
        t = self.stamps.get("first_frame_out")
        return None if t is None else round((t - self.speech_end) * 1000.0, 1)

    def to_json(self) -> str:
        data = asdict(self)
        data.pop("stamps")
        data.pop("speech_end")
        data.pop("announced")
        data["stages_ms"] = self.stages_ms()
        data["latency_ms"] = self.latency_ms
        return json.dumps(data, ensure_ascii=False)

    def log(self) -> None:
        turn_log.info("%s", self.to_json())

"""The browser door's signalling messages: JSON over the ``/ws`` WebSocket, checked.

Pure: text in, a typed message or a ``SignalError`` with a message a person
can act on. The browser sends::

    {"type": "offer", "sdp": "..."}   # once, with its ICE candidates gathered
    {"type": "hangup"}

and the server answers ``{"type": "answer", "sdp": ...}``, then pushes
session events (``turn``, ``partial``, ``barge_in``, ``state``, ``error``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

MAX_MESSAGE_CHARS = 64 * 1024  # an SDP offer is a few kB


class SignalError(ValueError):
    """A message the server cannot use; ``str()`` says why."""


@dataclass(frozen=True)
class Offer:
    sdp: str


@dataclass(frozen=True)
class Hangup:
    pass


Message = Offer | Hangup


def parse_message(text: str | bytes) -> Message:
    """Decode one browser message, or raise ``SignalError``."""
    if isinstance(text, bytes):
        raise SignalError("expected a JSON text message, got a binary one")
    if len(text) > MAX_MESSAGE_CHARS:
        raise SignalError(f"message too long ({len(text)} characters, at most {MAX_MESSAGE_CHARS})")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SignalError(f"not valid JSON: {exc.msg} at character {exc.pos}") from None
    if not isinstance(data, dict):
        raise SignalError('expected a JSON object such as {"type": "offer", "sdp": "..."}')
    kind = data.get("type")
    if kind == "offer":
        sdp = data.get("sdp")
        if not isinstance(sdp, str) or not sdp.startswith("v=0"):
            raise SignalError('an offer needs "sdp": the SDP text of the browser\'s offer')
        return Offer(sdp)
    if kind == "hangup":
        return Hangup()
    raise SignalError(f'unknown message type {kind!r}; expected "offer" or "hangup"')


def encode(message: dict[str, Any]) -> str:
    """One server message as JSON text (numbers and strings; anything else as text)."""
    return json.dumps(message, default=str, separators=(",", ":"))


def error(text: str) -> str:
    return encode({"type": "error", "error": text})

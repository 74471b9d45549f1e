"""The browser door's signalling messages: what is accepted, and the errors for the rest."""

import json

import pytest

from bridge.web.signalling import (
    MAX_MESSAGE_CHARS,
    Hangup,
    Offer,
    SignalError,
    encode,
    error,
    parse_message,
)


def test_offer_and_hangup() -> None:
    assert parse_message('{"type": "offer", "sdp": "v=0\\r\\n"}') == Offer("v=0\r\n")
    assert parse_message('{"type": "hangup"}') == Hangup()


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "expected a JSON object"),
        ('{"type": "offer"}', 'needs "sdp"'),
        ('{"type": "offer", "sdp": 42}', 'needs "sdp"'),
        ('{"type": "offer", "sdp": "hello"}', 'needs "sdp"'),
        ('{"type": "dance"}', "unknown message type 'dance'"),
        ('{"sdp": "v=0"}', "unknown message type None"),
    ],
)
def test_bad_messages_say_why(text: str, says: str) -> None:
    with pytest.raises(SignalError, match=says):
        parse_message(text)


def test_binary_and_oversized_messages() -> None:
    with pytest.raises(SignalError, match="binary"):
        parse_message(b'{"type": "hangup"}')
    with pytest.raises(SignalError, match="too long"):
        parse_message(" " * (MAX_MESSAGE_CHARS + 1))


def test_encode_is_json_with_a_fallback_for_odd_values() -> None:
    assert json.loads(encode({"type": "turn", "latency_ms": 12.5})) == {
        "type": "turn",
        "latency_ms": 12.5,
    }
    assert json.loads(encode({"x": {1, 2}}))["x"] in ("{1, 2}", "{2, 1}")
    assert json.loads(error("busy")) == {"type": "error", "error": "busy"}

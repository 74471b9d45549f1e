"""Backchannels are short acknowledgements; anything with content takes the floor."""

from __future__ import annotations

import pytest

from ai.backchannel import is_backchannel


@pytest.mark.parametrize("text", ["Mm-hm.", "yeah", "OK.", "Okay, right.", "uh huh", "I see"])
def test_acknowledgements(text: str) -> None:
    assert is_backchannel(text)


@pytest.mark.parametrize(
    "text", ["", "Yeah, but what time do you open?", "No.", "Wait", "ok ok ok ok"]
)
def test_not_acknowledgements(text: str) -> None:
    assert not is_backchannel(text)

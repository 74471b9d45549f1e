"""The few moves every phone call shares, told apart from questions."""

from __future__ import annotations

import pytest

from ai.dialogue_acts import Act, acts, is_question


@pytest.mark.parametrize(
    ("text", "act"),
    [
        ("OK, thanks, bye!", Act.GOODBYE),
        ("That's all, have a nice day.", Act.GOODBYE),
        ("Thank you so much.", Act.THANKS),
        ("Are you a real person?", Act.IDENTITY),
        ("How are you today?", Act.HOW_ARE_YOU),
        ("Hello?", Act.GREETING),
        ("Sorry, can you hear me?", Act.HEARING),
    ],
)
def test_acts(text: str, act: Act) -> None:
    assert act in acts(text)


@pytest.mark.parametrize("text", ["Brilliant, sunk, bye!", "lovely thanks by", "Okay, Karen. Bye."])
def test_a_short_turn_ending_in_bye_is_a_goodbye_whatever_came_before(text: str) -> None:
    """The recogniser often garbles the words before a goodbye; the goodbye still counts."""
    assert acts(text) == {Act.GOODBYE}


@pytest.mark.parametrize("text", ["Can I drop by?", "What time do you close, bye", "stand by"])
def test_by_or_bye_in_a_question_or_phrase_is_not_a_goodbye(text: str) -> None:
    assert Act.GOODBYE not in acts(text)


def test_a_question_with_a_greeting_is_a_question_not_small_talk() -> None:
    assert acts("Hi, what time do you open on Saturday?") == set()
    assert acts("Thanks, and how much is a crown?") == set()


@pytest.mark.parametrize(
    "text",
    ["do you do braces", "I was wondering about parking", "And on Sunday?", "where are you"],
)
def test_questions(text: str) -> None:
    assert is_question(text)


def test_a_statement_is_not_a_question() -> None:
    assert not is_question("My tooth hurts a lot.")


def test_a_question_in_a_later_clause() -> None:
    assert is_question("I chipped my tooth last night, is there any chance of being seen today")

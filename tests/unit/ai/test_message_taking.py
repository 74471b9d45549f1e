"""Taking a message: name, callback number read back and confirmed, the message."""

from __future__ import annotations

import pytest

from ai import message_taking as mt
from ai.message_taking import MessageTaking, Step, asks_to_leave_message


def run(turns: list[str], caller: str = "") -> tuple[MessageTaking, list[str]]:
    state, lines = MessageTaking(caller=caller), []
    for text in turns:
        said = state.heard(text)
        state = said.state
        lines.append(said.line)
    return state, lines


def test_a_whole_message_is_name_number_confirmation_text() -> None:
    state, lines = run(
        [
            "Yes, my name is Jane Doe.",
            "It's 555 0123.",
            "Yes, that's right.",
            "Please ask Dr. Lee to call me about my crown.",
        ]
    )
    m = state.message
    assert (m.name, m.number, m.complete) == ("Jane Doe", "5550123", True)
    assert m.text == "Please ask Dr. Lee to call me about my crown."
    assert len(m.answers) == 4 and state.step is Step.DONE
    assert lines[0] == mt.ASK_NUMBER
    assert lines[1] == "I have five five five, zero one two three. Is that right?"
    assert lines[2] == mt.ASK_TEXT and lines[3] == mt.DONE


def test_a_wrong_number_is_asked_again_and_a_correction_read_back() -> None:
    state, lines = run(["Sam", "555 0123", "No, it's 555 0124", "yes"])
    assert state.message.number == "5550124" and state.step is Step.TEXT
    assert "zero one two four" in lines[2]
    state, lines = run(["Sam", "555 0123", "no"])
    assert lines[2] == mt.NUMBER_AFTER_NO and state.step is Step.NUMBER


def test_name_and_number_in_one_turn() -> None:
    state, _ = run(["This is Priya Shah, my number is 07700 900123"])
    assert state.message.name == "Priya Shah"
    assert state.message.number == "07700900123" and state.step is Step.CONFIRM


def test_typed_digits_are_a_number_like_spoken_ones() -> None:
    state, _ = run(["Tom", "5550199"])
    assert state.step is Step.CONFIRM and state.message.number == "5550199"
    assert MessageTaking(step=Step.NUMBER).wants_digits
    assert not MessageTaking(step=Step.TEXT).wants_digits


def test_too_few_digits_are_asked_again_then_the_callers_own_number_is_kept() -> None:
    state, lines = run(["Tom", "five five", "um", "I don't know"], caller="+15550100")
    assert lines[1:3] == [mt.NUMBER_AGAIN, mt.NUMBER_AGAIN] and lines[3] == mt.ASK_TEXT
    assert state.message.number == "+15550100" and state.step is Step.TEXT


def test_this_number_is_the_callers_own_when_the_call_has_one() -> None:
    state, _ = run(["Tom", "Just call me back on this number."], caller="+15550100")
    assert state.message.number == "+15550100" and state.step is Step.CONFIRM
    state, lines = run(["Tom", "this number"], caller="")
    assert lines[1] == mt.NUMBER_AGAIN


def test_never_mind_stops_and_keeps_what_was_said_incomplete() -> None:
    state, lines = run(["Tom", "actually never mind"])
    assert state.step is Step.DONE and lines[1] == mt.CANCELLED
    assert state.message.name == "Tom" and not state.message.complete


def test_a_goodbye_before_the_message_ends_the_call_after_the_message_text_ends_it_too() -> None:
    said = MessageTaking(step=Step.NUMBER).heard("Okay, bye.")
    assert said.hang_up and said.over and not said.state.message.complete
    said = MessageTaking(step=Step.TEXT).heard("Tell her I'll be late. Bye!")
    assert said.hang_up and said.line == mt.DONE_BYE and said.state.message.complete


def test_an_empty_name_is_asked_again() -> None:
    state, lines = run(["um"])
    assert lines == [mt.NAME_AGAIN] and state.step is Step.NAME


@pytest.mark.parametrize(
    "text",
    [
        "Can I leave a message?",
        "I'd like to leave a message for Dr. Patel.",
        "Could you take a message?",
        "voicemail please",
        "Can I leave him a message",
    ],
)
def test_requests_to_leave_a_message(text: str) -> None:
    assert asks_to_leave_message(text)


@pytest.mark.parametrize(
    "text", ["Did you get my message?", "What time do you open?", "I sent a message yesterday"]
)
def test_not_requests_to_leave_a_message(text: str) -> None:
    assert not asks_to_leave_message(text)


def test_a_fragment_is_not_taken_for_the_message_but_asked_about() -> None:
    state, lines = run(["Tom", "555 0123", "Yeah.", "and slide.", "Please call me back today."])
    assert lines[3] == mt.TEXT_AGAIN
    assert state.message.text == "Please call me back today." and state.message.complete
    state, lines = run(["Tom", "555 0123", "yes", "Call me.", "Call me."])
    assert state.message.text == "Call me." and state.message.complete  # asked once only

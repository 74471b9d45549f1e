"""Requests to be put through to a person, told apart from questions about people."""

from __future__ import annotations

import pytest

from ai.person_request import asks_for_person


@pytest.mark.parametrize(
    "text",
    [
        "Can I speak to someone?",
        "A human, please.",
        "Operator.",
        "Reception, please.",
        "Could I talk to a real person?",
        "I'd like to speak with the manager.",
        "Hi, can I speak with Doctor Okafor please?",
        "Put me through to the front desk.",
        "Could you transfer me to somebody?",
        "Can you connect me with a person?",
        "Is there someone I can talk to?",
        "Is there anyone I could speak to about my bill?",
        "Is there somebody there I can talk to?",
        "Is there anyone in the office I could speak with?",
        "I need to talk to somebody about an invoice.",
        "Let me speak to a human.",
        "I would rather talk to a person.",
        "Can I get a human?",
        "Representative.",
        "Customer service, please.",
        "Get me a real person.",
        "Talk to a human.",
        "Yes, um, can I talk to someone, please?",
    ],
)
def test_requests_for_a_person(text: str) -> None:
    assert asks_for_person(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Do you have a receptionist?",
        "Who is your manager?",
        "Am I talking to a person?",
        "Are you a real person?",
        "I talked to someone yesterday about my appointment.",
        "Can I talk to you about my appointment?",
        "Do I need to talk to my insurer first?",
        "Do you speak Spanish?",
        "What time do you open on Saturday?",
        "Can someone call me back?",
        "The person who came last week was great.",
        "Office hours?",
        "Speaking of prices, how much is a check-up?",
    ],
)
def test_questions_and_statements_about_people_are_not_requests(text: str) -> None:
    assert not asks_for_person(text)

"""What an agent says: the business's sentence, a polite line, or an honest "don't know"."""

from __future__ import annotations

import datetime as dt

from ai.knowledge import parse
from ai.responder import CHAT_FALLBACK, Kind, Responder

FACTS = """\
# Lakeside Garage

## Opening hours
- Monday to Friday: 8 am to 6 pm.
- Saturday and Sunday: closed.

## Prices
- An oil change costs $70.
- A full service costs $240.
"""


def responder() -> Responder:
    return Responder(parse(FACTS))


def decide(r: Responder, text: str, previous: str = "") -> tuple[Kind, str]:
    d = r.decide(text, previous, today=dt.date(2026, 12, 2))
    return d.kind, d.text


def test_a_fact_is_the_owners_sentence() -> None:
    assert decide(responder(), "how much is an oil change?") == (
        Kind.FACT,
        "An oil change costs $70.",
    )


def test_out_of_scope_is_an_honest_dont_know_never_yes() -> None:
    r = responder()
    kind, text = decide(r, "do you sell tyres?")
    assert kind is Kind.UNKNOWN
    assert "don't know" in text and "opening hours" in text
    kind, text = decide(r, "do you fix motorbikes?")
    assert (kind, text) == (Kind.UNKNOWN, "I'm sorry, I don't know that.")


def test_small_talk_and_goodbye() -> None:
    r = responder()
    assert decide(r, "thank you")[0] is Kind.SMALL_TALK
    kind, text = decide(r, "is this a robot?")
    assert kind is Kind.SMALL_TALK and "Lakeside Garage" in text
    d = r.decide("ok that's all, bye")
    assert d.kind is Kind.GOODBYE and d.hang_up and "Lakeside Garage" in d.text


def test_is_that_the_business() -> None:
    kind, text = decide(responder(), "hello, is that lakeside garage?")
    assert kind is Kind.SMALL_TALK and text.startswith("Yes")


def test_chat_is_checked_against_the_facts() -> None:
    r = responder()
    assert decide(r, "my car makes a funny noise")[0] is Kind.CHAT
    assert r.checked("Oh no, I'm sorry to hear that.") == "Oh no, I'm sorry to hear that."
    assert r.checked("We can fix it on Sunday for $50.") == CHAT_FALLBACK


def test_an_agent_without_facts_chats() -> None:
    r = Responder(None)
    assert not r.has_facts
    assert r.decide("what time do you open").kind is Kind.CHAT
    assert r.decide("bye").kind is Kind.GOODBYE


def test_a_request_for_a_person_is_put_through_only_when_the_call_can_be() -> None:
    from ai import transfer

    for knowledge in (parse(FACTS), None):
        can = Responder(knowledge, can_transfer=True)
        decision = can.decide("Can I speak to someone, please?")
        assert decision.kind is Kind.TRANSFER and decision.transfer
        assert decision.text == transfer.GOING
        cannot = Responder(knowledge).decide("Can I speak to someone, please?")
        assert (cannot.kind, cannot.text) == (Kind.SMALL_TALK, transfer.CANNOT)
        assert not cannot.transfer
    assert (
        not Responder(parse(FACTS), can_transfer=True)
        .decide("Do you have a receptionist?")
        .transfer
    )

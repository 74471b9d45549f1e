"""What an agent says: the business's sentence, a polite line, or an honest "don't know"."""

from __future__ import annotations

import datetime as dt

from ai import message_taking, transfer
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
    """One whole caller turn: decided, then committed (the caller's turn was over)."""
    d = r.decide(text, previous, today=dt.date(2026, 12, 2))
    r.commit(d)
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


def test_a_decision_changes_nothing_until_committed() -> None:
    """A speculative reply that is thrown away must leave the call as it was."""
    r = responder()
    first = r.decide("do you fix motorbikes?")
    again = r.decide("do you fix motorbikes?")
    assert first.text == again.text and "opening hours" in again.text
    r.commit(again)
    assert "opening hours" not in r.decide("do you sell tyres?").text


def taking() -> Responder:
    return Responder(parse(FACTS), take_messages=True, caller="+15550100")


def test_a_request_to_leave_a_message_starts_taking_it() -> None:
    r = taking()
    d = r.decide("Can I leave a message?")
    assert (d.kind, d.text, d.new_message) == (Kind.MESSAGE, message_taking.START, True)
    r.commit(d)
    assert decide(r, "John Smith")[1] == message_taking.ASK_NUMBER and r.wants_digits
    assert "Is that right" in decide(r, "555 0123")[1]
    assert decide(r, "yes")[1] == message_taking.ASK_TEXT
    d = r.decide("Please call me back about my oil change.")
    assert d.kind is Kind.MESSAGE and d.message is not None and d.message.complete
    assert d.message.number == "5550123" and d.message.name == "John Smith"
    r.commit(d)
    assert decide(r, "what time do you open on monday")[0] is Kind.FACT  # the call goes on


def test_an_agent_that_takes_no_messages_says_so() -> None:
    kind, text = decide(responder(), "Can I leave a message?")
    assert (kind, text) == (Kind.SMALL_TALK, message_taking.NO_MESSAGES)


def test_dont_know_offers_a_message_and_yes_takes_it() -> None:
    r = taking()
    kind, text = decide(r, "do you fix motorbikes?")
    assert kind is Kind.UNKNOWN and text.endswith(message_taking.OFFER)
    assert decide(r, "Yes, please.") == (Kind.MESSAGE, message_taking.START)


def test_the_offer_holds_one_turn_and_no_declines_it() -> None:
    r = taking()
    decide(r, "do you fix motorbikes?")
    assert decide(r, "No.") == (Kind.SMALL_TALK, message_taking.DECLINED)
    assert decide(r, "yes")[0] is not Kind.MESSAGE  # nothing was offered this time
    decide(r, "do you fix motorbikes?")
    assert decide(r, "yes, and how much is an oil change?")[0] is Kind.FACT


def test_cannot_transfer_offers_a_message_and_a_fixed_line_offer_counts_too() -> None:
    r = taking()
    text = decide(r, "Can I speak to someone, please?")[1]
    assert text.endswith(message_taking.OFFER)
    assert decide(r, "yes")[0] is Kind.MESSAGE
    r = taking()
    r.note_said(transfer.line(transfer.NOBODY, message_taking.OFFER))
    assert decide(r, "sure")[0] is Kind.MESSAGE
    r.note_said("Hello, how can I help?")
    assert not r.state.offered

"""A generated reply may state only what the facts state."""

from __future__ import annotations

from ai.fact_check import claims, support, unsupported

FACTS = "Saturday: 9 am to 1 pm. A cleaning costs $95. Doctor Anna Patel is our dentist."


def test_supported_claims_pass() -> None:
    ok = support(FACTS)
    assert unsupported("Sure, on Saturday we open at nine.", ok) == []
    assert unsupported("A cleaning is 95 dollars, and Doctor Patel will see you.", ok) == []


def test_a_wrong_number_day_or_name_is_caught() -> None:
    ok = support(FACTS)
    assert unsupported("We open at 8 on Saturday.", ok) == ["8"]
    assert unsupported("We are also open on Sunday.", ok) == ["sunday"]
    assert unsupported("Your dentist will be Doctor Smith.", ok) == ["smith"]


def test_claims_of_a_sentence() -> None:
    assert claims("Call 555-0142 before 5:30 pm on Tuesday.") >= {"555", "142", "5", "30"}
    assert "tuesday" in claims("Call 555-0142 before 5:30 pm on Tuesday.")
    assert claims("Hello there, how can I help?") == set()

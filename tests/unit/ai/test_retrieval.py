"""Retrieval of the business's own sentences: the right one, only that one, or none.

The facts here are a made-up business (a bakery) that no code was written for."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from ai.knowledge import parse
from ai.retrieval import FactIndex

FACTS = """\
# Hilltop Bakery

## Opening hours
- Tuesday to Friday: 7 am to 6 pm.
- Saturday: 8 am to 2 pm.
- Sunday and Monday: closed.

## Where we are
Hilltop Bakery is at 9 Orchard Lane. We are next to the post office.

## Cakes
- A birthday cake for 10 people costs $45.
- A wedding cake starts at $300.
- Please order cakes at least 3 days in advance.

## Payment
We take cash and all major credit cards.
"""
WEDNESDAY = dt.date(2026, 12, 2)


@pytest.fixture(scope="module")
def index() -> FactIndex:
    return FactIndex(parse(FACTS))


def answer(index: FactIndex, question: str, previous: str = "") -> str | None:
    found = index.find(question, previous=previous, today=WEDNESDAY)
    return None if found is None else found.text


def test_a_day_inside_a_range_gets_that_line_only(index: FactIndex) -> None:
    assert answer(index, "um are you guys open on a thursday?") == (
        "Tuesday to Friday: 7 am to 6 pm."
    )
    assert answer(index, "what time do you close on saturday") == "Saturday: 8 am to 2 pm."


def test_today_is_the_day_it_is(index: FactIndex) -> None:
    assert answer(index, "are you open today") == "Tuesday to Friday: 7 am to 6 pm."


def test_a_general_question_gets_every_line_of_the_section(index: FactIndex) -> None:
    text = answer(index, "what are your opening hours?")
    assert text is not None
    for line in ("7 am to 6 pm", "8 am to 2 pm", "closed"):
        assert line in text


def test_the_price_asked_for_and_not_the_price_list(index: FactIndex) -> None:
    assert answer(index, "how much would a wedding cake be") == "A wedding cake starts at $300."


def test_where_finds_the_address(index: FactIndex) -> None:
    text = answer(index, "where are you located")
    assert text is not None and "9 Orchard Lane" in text


def test_a_follow_up_resolves_against_the_previous_question(index: FactIndex) -> None:
    assert answer(index, "and on sunday?", previous="are you open on saturday") == (
        "Sunday and Monday: closed."
    )


def test_a_word_in_another_form_still_matches(index: FactIndex) -> None:
    assert answer(index, "can I pay with a card") == "We take cash and all major credit cards."


@pytest.mark.parametrize(
    "question",
    ["do you do gluten free bread?", "do you deliver to the hospital", "is the chef french"],
)
def test_what_the_facts_do_not_say_finds_nothing(index: FactIndex, question: str) -> None:
    assert answer(index, question) is None


def test_a_question_about_something_else_is_not_answered_with_a_price(index: FactIndex) -> None:
    # "how long" asks a duration: a cake's price does not answer it.
    assert answer(index, "how long does a birthday cake keep") is None


def test_empty_facts_find_nothing() -> None:
    assert FactIndex(parse("# Nothing yet\n")).find("what time do you open") is None


def test_retrieval_is_well_under_ten_ms(index: FactIndex) -> None:
    index.find("warm up")
    started = time.perf_counter()
    for _ in range(20):
        index.find("how much is a birthday cake for ten people", previous="hi there")
    assert (time.perf_counter() - started) / 20 < 0.010


@pytest.fixture(scope="module")
def meaning_index() -> FactIndex:
    from ai import models
    from ai.embedding import SentenceEncoder

    encoder = SentenceEncoder(models.embedding_model(), models.embedding_tokenizer())
    return FactIndex(parse(FACTS), encoder=encoder)


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("how much for a marriage cake", "A wedding cake starts at $300."),
        ("how far ahead should I ask for a cake", "Please order cakes at least 3 days"),
    ],
)
def test_meaning_finds_what_other_words_ask(
    index: FactIndex, meaning_index: FactIndex, question: str, expected: str
) -> None:
    assert answer(index, question) is None  # the owner's words are not the caller's
    found = answer(meaning_index, question)
    assert found is not None and found.startswith(expected)


@pytest.mark.parametrize(
    "question",
    ["do you sell coffee", "do you do gluten free bread", "is there parking", "do you deliver"],
)
def test_meaning_does_not_answer_what_the_facts_do_not_hold(
    meaning_index: FactIndex, question: str
) -> None:
    assert answer(meaning_index, question) is None


def test_meaning_keeps_the_day_asked(meaning_index: FactIndex) -> None:
    assert answer(meaning_index, "what time do you open on saturday") == "Saturday: 8 am to 2 pm."

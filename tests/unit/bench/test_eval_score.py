"""bench/eval/score.py: canonical form, fact tokens, and the verdict of each turn kind."""

from __future__ import annotations

import pytest

from bench.eval.score import (
    FALSE_TRANSFER,
    JUDGES,
    MISSED,
    RIGHT,
    SILENT,
    VERDICTS,
    WRONG,
    YES_TO_UNKNOWN,
    Fact,
    Heard,
    TurnSpec,
    Verdict,
    affirms,
    compatible,
    expected_heard,
    extract_facts,
    honest_dont_know,
    judge,
    normalise,
    numbers_to_digits,
    percentile,
    summarise,
)


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("Nine thirty", "9:30"),
        ("nine thirty A.M.", "9:30 am"),
        ("ninety five dollars", "$95"),
        ("ninety-five dollars", "$95"),
        ("a hundred and twenty", "120"),
        ("one hundred twenty five", "125"),
        ("two thousand five hundred", "2500"),
        ("$95.00", "$95"),
        ("$95.50", "$95.50"),
        ("$ 95", "$95"),
        ("95 dollars", "$95"),
        ("twelve dollars and fifty cents", "$12.50"),
        ("$1,200", "$1200"),
        ("8 o'clock", "8"),
        ("eight o'clock", "8"),
        ("8:00 AM", "8 am"),
        ("8am", "8 am"),
        ("8 a. m.", "8 am"),
        ("9.30", "9:30"),
        ("9.30pm", "9:30 pm"),
        ("5:30 p.m.", "5:30 pm"),
        ("17:30", "5:30 pm"),
        ("nine oh five", "9:05"),
        ("eleven forty five", "11:45"),
        ("half past nine", "9:30"),
        ("quarter to nine", "8:45"),
        ("noon", "12 pm"),
        ("555-0142", "5550142"),
        ("(555) 123-4567", "5551234567"),
        ("five five five, oh one four two", "5550142"),
        ("5, 5, 5, 0, 1, 4, 2", "5550142"),
        ("Forty-two Mill Rd.", "42 mill road"),
        ("Thursdays", "thursday"),
        ("Monday–Friday", "monday friday"),
    ],
)
def test_normalise(text: str, canonical: str) -> None:
    assert normalise(text) == canonical


def test_normalise_keeps_words_that_only_look_like_numbers() -> None:
    # "one" as a pronoun, "oh" as an interjection, "I am" is not a time.
    assert normalise("Oh, one moment. I am sure one of us can.") == (
        "oh one moment i am sure one of us can"
    )
    assert normalise("open at one pm") == "open at 1 pm"


def test_numbers_to_digits_splits_numbers_that_cannot_continue() -> None:
    assert numbers_to_digits("five ninety five".split()) == ["5", "95"]
    assert numbers_to_digits("between nine and five".split()) == ["between", "9", "and", "5"]


def test_extract_facts_kinds_in_order() -> None:
    facts = extract_facts(
        normalise("Monday to Friday, 8 a.m. to 5:30, a cleaning is $95, call 555-0142")
    )
    assert facts == [
        Fact("day", "monday"),
        Fact("day", "friday"),
        Fact("time", "8 am"),
        Fact("time", "5:30"),
        Fact("price", "$95"),
        Fact("number", "5550142"),
    ]


def test_extract_facts_of_plain_talk_is_empty() -> None:
    assert extract_facts(normalise("You're welcome, have a lovely day!")) == []


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        (Fact("time", "8 am"), Fact("number", "8"), True),
        (Fact("number", "8"), Fact("time", "8 am"), True),
        (Fact("time", "8 am"), Fact("time", "8 pm"), False),
        (Fact("time", "5:30"), Fact("time", "5:30 pm"), True),
        (Fact("time", "5:30 pm"), Fact("number", "5"), False),
        (Fact("number", "95"), Fact("price", "$95"), True),
        (Fact("price", "$95"), Fact("price", "$59"), False),
        (Fact("day", "thursday"), Fact("day", "tuesday"), False),
    ],
)
def test_compatible(a: Fact, b: Fact, same: bool) -> None:
    assert compatible(a, b) is same
    assert compatible(b, a) is same


def test_expected_heard_needs_the_item_words_too() -> None:
    heard = normalise("We're at forty two Mill Road, next to the bakery.")
    facts = extract_facts(heard)
    assert expected_heard("42 Mill Road", heard, facts)
    assert not expected_heard("42 High Street", heard, facts)
    assert expected_heard("8 am", "open at 8", extract_facts("open at 8"))


HOURS = TurnSpec(
    "When do you open on Thursday?",
    "fact",
    expect=("8 am", "Thursday"),
    allow=("5:30 pm",),
)


@pytest.mark.parametrize(
    ("reply", "verdict", "offending"),
    [
        ("On Thursday we open at 8 am and close at 5:30 pm.", RIGHT, ()),
        ("On Thursdays we open at eight.", RIGHT, ()),
        ("On Thursday we open at nine a.m.", WRONG, ("9 am",)),
        ("On Thursday we open at 8 am, or 9 on Friday.", WRONG, ("9", "friday")),
        ("On Thursday we open at 8 pm.", WRONG, ("8 pm",)),
        ("We open at 8 am.", MISSED, ()),
        ("I'm sorry, I don't know.", MISSED, ()),
        ("", SILENT, ()),
    ],
)
def test_fact_turn(reply: str, verdict: str, offending: tuple[str, ...]) -> None:
    v = judge(HOURS, Heard(reply))
    assert v.verdict == verdict
    assert v.offending == offending


def test_fact_turn_lists_what_is_missing_and_notes_an_honest_dont_know() -> None:
    v = judge(HOURS, Heard("Sorry, I don't have that information."))
    assert v.verdict == MISSED
    assert v.missing == ("8 am", "Thursday")
    assert v.note == "said it does not know"


UNKNOWN = TurnSpec("Do you treat horses?", "unknown")


@pytest.mark.parametrize(
    ("reply", "verdict"),
    [
        ("I'm not sure, I don't have that information.", RIGHT),
        ("Sorry, I do not know. I can take a message.", RIGHT),
        ("We do not have information about that.", RIGHT),
        ("Yes, we do!", YES_TO_UNKNOWN),
        ("Of course.", YES_TO_UNKNOWN),
        ("Sure, we are open at 9 on Saturday.", YES_TO_UNKNOWN),
        ("We see those on Saturday at 9.", WRONG),
        ("Let me think about that.", MISSED),
        ("", SILENT),
    ],
)
def test_unknown_turn(reply: str, verdict: str) -> None:
    assert judge(UNKNOWN, Heard(reply)).verdict == verdict


def test_affirmation_is_not_fooled_by_negations() -> None:
    assert not affirms(normalise("I'm not sure."))
    assert not affirms(normalise("We do not offer that, let me make sure."))
    assert affirms(normalise("Yeah, we do."))
    assert honest_dont_know(normalise("I dont know"))
    assert not honest_dont_know(normalise("We know our patients well."))


def test_smalltalk_turn() -> None:
    turn = TurnSpec("How are you today?", "smalltalk")
    assert judge(turn, Heard("I'm doing well, thank you! How can I help?")).verdict == RIGHT
    wrong = judge(turn, Heard("Great! We open at 8 am."))
    assert (wrong.verdict, wrong.offending) == (WRONG, ("8 am",))
    assert judge(turn, Heard("")).verdict == SILENT


def test_goodbye_turn_needs_the_bot_to_hang_up() -> None:
    turn = TurnSpec("Thanks, bye!", "goodbye")
    assert judge(turn, Heard("Goodbye!", bot_hung_up=True)).verdict == RIGHT
    assert judge(turn, Heard("Goodbye!", bot_hung_up=False)).verdict == MISSED
    assert judge(turn, Heard("", bot_hung_up=True)).verdict == SILENT


def test_every_kind_has_a_judge_and_verdicts_are_known() -> None:
    assert set(JUDGES) == {
        "fact", "unknown", "smalltalk", "goodbye", "person", "message", "stored"
    }  # fmt: skip
    assert {RIGHT, WRONG, YES_TO_UNKNOWN, MISSED, SILENT} == set(VERDICTS)


def test_summarise_counts_and_latency() -> None:
    verdicts = [
        Verdict(RIGHT),
        Verdict(WRONG, ("9 am", "friday")),
        Verdict(YES_TO_UNKNOWN),
        Verdict(SILENT),
    ]
    s = summarise(verdicts, [500.0, 700.0, None, 900.0])
    assert s.turns == 4
    assert s.counts[RIGHT] == 1 and s.counts[WRONG] == 1 and s.counts[MISSED] == 0
    assert s.right_pct == 25.0
    assert s.wrong_facts == 2
    assert (s.latency_p50_ms, s.latency_n) == (700.0, 3)
    assert s.latency_p95_ms == pytest.approx(880.0)


def test_percentile_of_nothing_is_none() -> None:
    assert percentile([], 50) is None
    assert percentile([3.0], 95) == 3.0


def test_facts_the_caller_said_may_be_echoed() -> None:
    turn = TurnSpec("what time does your office open on a tuesday", "fact", ("7 am",))
    assert judge(turn, Heard("On Tuesdays the office opens at 7 am.")).verdict == RIGHT
    assert judge(turn, Heard("On Wednesdays it opens at 7 am.")).offending == ("wednesday",)


def test_expected_phrases_tolerate_contractions_spelling_and_plurals() -> None:
    cheques = TurnSpec("do you take checks", "fact", ("not accept cheques",))
    assert judge(cheques, Heard("Sorry, we don't accept checks.")).verdict == RIGHT
    window = TurnSpec("exact time?", "fact", ("2 hour",))
    assert judge(window, Heard("We give you a two-hour window.")).verdict == RIGHT
    assert judge(window, Heard("We give you a window of two hours.")).verdict == RIGHT
    parking = TurnSpec("parking?", "fact", ("behind the building",))
    assert judge(parking, Heard("There's a car park behind our building.")).verdict == RIGHT
    assert judge(parking, Heard("There's a car park in front.")).verdict == MISSED


def test_a_request_for_a_person_is_right_when_the_caller_hears_it_put_through() -> None:
    person = TurnSpec(say="can I talk to someone", kind="person")
    assert judge(person, Heard("Sure, I'm putting you through now.")).verdict == RIGHT
    assert judge(person, Heard("One moment, I'll transfer you.")).verdict == RIGHT
    assert judge(person, Heard("We open at 9 am.")).verdict == MISSED
    question = TurnSpec(say="do you do braces", kind="unknown")
    false = judge(question, Heard("Of course. I'll put you through now, please hold."))
    assert (false.verdict, false.note) == (WRONG, FALSE_TRANSFER)


def test_a_stored_turn_is_right_only_with_a_complete_message_of_that_number() -> None:
    turn = TurnSpec("please call me back", "stored", expect=("5550142",))
    heard = "thank you, i've taken your message"
    assert judge(turn, Heard(heard, stored_numbers=("5550142",))).verdict == RIGHT
    missed = judge(turn, Heard(heard, stored_numbers=("5550124",)))
    assert missed.verdict == MISSED and "5550124" in missed.note
    assert judge(turn, Heard("")).verdict == SILENT


def test_a_message_step_is_right_when_answered_even_with_a_read_back_number() -> None:
    turn = TurnSpec("it's five five five, oh one four two", "message")
    said = "I have five five five, zero one four two. Is that right?"
    assert judge(turn, Heard(said)).verdict == RIGHT
    assert judge(turn, Heard("")).verdict == SILENT

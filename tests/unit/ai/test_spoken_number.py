"""Phone numbers as Whisper writes them, and read back digit by digit."""

from __future__ import annotations

import pytest

from ai.spoken_number import digits_in, read_back


@pytest.mark.parametrize(
    ("said", "digits"),
    [
        ("555 0123", "5550123"),
        ("555-0123.", "5550123"),
        ("It's 5550123", "5550123"),
        ("five five five, oh one two three", "5550123"),
        ("double five five, zero one two three", "5550123"),
        ("triple seven, eight nine", "77789"),
        ("Oh, it's 07700 900123", "07700900123"),
        ("my number is +44 20 7946 0958", "+442079460958"),
        ("four one five, fifty five, twenty six seventy one", "415552671"),
        ("eight hundred", "800"),
        ("no, that's wrong", ""),
        ("oh well", ""),
    ],
)
def test_digits_in_what_a_caller_says(said: str, digits: str) -> None:
    assert digits_in(said) == digits


@pytest.mark.parametrize(
    ("digits", "spoken"),
    [
        ("5550123", "five five five, zero one two three"),
        ("4155552671", "four one five, five five five, two six seven one"),
        ("07700900123", "zero seven seven, zero zero nine zero, zero one two three"),
        ("+441234", "plus four four one, two three four"),
        ("123", "one two three"),
        ("", ""),
    ],
)
def test_read_back_is_one_word_per_digit_in_groups(digits: str, spoken: str) -> None:
    assert read_back(digits) == spoken


def test_a_read_back_number_is_heard_again_as_the_same_digits() -> None:
    for digits in ("5550123", "07700900123", "+4420794609581", "12345"):
        assert digits_in(read_back(digits)) == digits

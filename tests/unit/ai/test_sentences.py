"""Speakable chunks from a streamed reply: each rule, fed in pieces of every size."""

import pytest

from ai.sentences import SentenceSplitter, clean_for_speech


def split(text: str, step: int = 0, **kwargs: int) -> list[str]:
    """All chunks of ``text`` fed ``step`` characters at a time (0: all at once)."""
    splitter = SentenceSplitter(**kwargs)
    step = step or len(text) or 1
    chunks: list[str] = []
    for i in range(0, len(text), step):
        chunks += splitter.push(text[i : i + step])
    return chunks + splitter.flush()


def split_every_way(text: str, **kwargs: int) -> list[str]:
    """Chunks must not depend on how the LLM happened to cut its pieces."""
    whole = split(text, **kwargs)
    for step in (1, 2, 3, 7):
        assert split(text, step, **kwargs) == whole, f"step {step}"
    return whole


# -- sentence ends ----------------------------------------------------------------------


def test_sentence_ends() -> None:
    assert split_every_way("Hello there. How are you today? I'm fine! Thanks") == [
        "Hello there.",
        "How are you today?",
        "I'm fine!",
        "Thanks",
    ]


def test_ellipsis_semicolon_colon_end_a_chunk() -> None:
    text = "Well… that is odd; let me see. Here is why: it rains... Sorry."
    assert split_every_way(text) == [
        "Well…",
        "that is odd;",
        "let me see.",
        "Here is why:",
        "it rains...",
        "Sorry.",
    ]


def test_runs_of_marks_and_closing_quotes_stay_with_the_sentence() -> None:
    assert split_every_way('Really?! He said "stop." Then (briefly.) left.') == [
        "Really?!",
        'He said "stop."',
        "Then (briefly.)",
        "left.",
    ]


def test_chunk_is_handed_out_as_soon_as_the_next_piece_shows_whitespace() -> None:
    splitter = SentenceSplitter()
    assert splitter.push("The capital is Paris") == []
    assert splitter.push(".") == []  # could still become "Paris.com" or a number
    assert splitter.push(" It") == ["The capital is Paris."]
    assert splitter.push(" is lovely.") == []
    assert splitter.flush() == ["It is lovely."]


def test_line_breaks_end_a_chunk() -> None:
    assert split_every_way("First line\nSecond line\n\nThird") == [
        "First line",
        "Second line",
        "Third",
    ]


# -- not sentence ends ------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Mr. Smith is here.",
        "Mrs. Jones called.",
        "Dr. Brown will see you.",
        "Meet me on Main St. tomorrow.",
        "Bring fruit, e.g. apples.",
        "Bring fruit, i.e. apples.",
        "Apples, pears etc. are fine.",
        "It is cats vs. dogs.",
        "John F. Kennedy spoke.",
        "The U.S. economy grew.",
        "It costs 3.5 dollars.",
        "Come at 10:30 please.",
        "That is 1,000 dollars.",
        "Visit example.com today.",
    ],
)
def test_no_cut_inside_abbreviations_initials_and_numbers(text: str) -> None:
    assert split_every_way(text) == [text]


def test_number_ending_a_sentence_still_ends_it() -> None:
    assert split_every_way("The total is 35. Anything else?") == [
        "The total is 35.",
        "Anything else?",
    ]


# -- the first chunk may be a phrase -------------------------------------------------------


def test_first_chunk_cut_at_comma_after_enough_words() -> None:
    text = "Sure thing, I can help you with that, no problem at all. Later, we can talk again."
    assert split_every_way(text) == [
        "Sure thing, I can help you with that,",  # "Sure thing," has only 2 words
        "no problem at all.",
        "Later, we can talk again.",  # later chunks only at sentence ends
    ]


def test_first_chunk_cut_at_dash() -> None:
    assert split_every_way("Let me check that for you — one moment. Okay.") == [
        "Let me check that for you",
        "one moment.",
        "Okay.",
    ]
    assert split_every_way("Let me check that for you - one moment.") == [
        "Let me check that for you",
        "one moment.",
    ]
    assert split_every_way("A well-known and long-standing rule applies here.") == [
        "A well-known and long-standing rule applies here."
    ]


def test_first_min_words_is_configurable() -> None:
    text = "Yes, of course. Fine."
    assert split_every_way(text) == ["Yes, of course.", "Fine."]
    assert split_every_way(text, first_min_words=1) == ["Yes,", "of course.", "Fine."]


def test_first_chunk_rule_applies_again_after_flush() -> None:
    splitter = SentenceSplitter()
    first = splitter.push("One two three four, five. Six seven eight nine, ten. ")
    assert first == ["One two three four,", "five.", "Six seven eight nine, ten."]
    assert splitter.flush() == []
    assert splitter.push("Again one two three, four ") == ["Again one two three,"]


# -- long chunks --------------------------------------------------------------------------


def test_long_run_without_punctuation_is_cut_at_max_words() -> None:
    words = [f"w{i}" for i in range(70)]
    chunks = split_every_way(" ".join(words) + ".")
    assert chunks == [" ".join(words[:30]), " ".join(words[30:60]), " ".join(words[60:]) + "."]


def test_long_chunk_prefers_its_last_comma() -> None:
    text = "Short start. " + " ".join(f"w{i}," if i % 12 == 11 else f"w{i}" for i in range(40))
    chunks = split_every_way(text + ".", max_words=30)
    assert chunks[0] == "Short start."
    assert chunks[1].endswith("w23,")
    assert len(chunks[1].split()) == 24
    assert all(len(c.split()) <= 30 for c in chunks)


def test_max_words_is_configurable() -> None:
    assert split_every_way("a b c d e f g h", first_min_words=2, max_words=3) == [
        "a b c",
        "d e f",
        "g h",
    ]


# -- cleaning -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "spoken"),
    [
        ("**Paris** is the *capital*.", "Paris is the capital."),
        ("## Opening hours", "Opening hours"),
        ("Use `pip install` now.", "Use pip install now."),
        ("- first item", "first item"),
        ("* first item", "first item"),
        ("• first item", "first item"),
        ("1. first item", "first item"),
        ("2) second item", "second item"),
        ("See https://example.com/a/b?c=d for more.", "See link for more."),
        ("See https://example.com/path.", "See link."),
        ("Go to www.example.org, then call.", "Go to link, then call."),
        ("Read [the guide](https://x.y/guide) first.", "Read the guide first."),
        ("  lots \t of\n\n  space  ", "lots of space"),
        ("— and then", "and then"),
        ("so we wait —", "so we wait"),
        ("a snake_case name", "a snake case name"),
        ("It is -5 degrees.", "It is -5 degrees."),
    ],
)
def test_clean_for_speech(raw: str, spoken: str) -> None:
    assert clean_for_speech(raw) == spoken


def test_markdown_in_a_stream_is_cleaned_even_when_split_across_pieces() -> None:
    text = "Here you go:\n\n- **Monday**: 9 to 5\n- **Sunday**: closed\n\nMore at https://shop.example.com/hours."
    assert split_every_way(text) == [
        "Here you go:",
        "Monday:",
        "9 to 5",
        "Sunday:",
        "closed",
        "More at link.",
    ]


def test_chunks_without_letters_or_digits_are_dropped() -> None:
    assert split_every_way("***\n---\n. . .\n!!\nOK.") == ["OK."]
    assert split_every_way("") == []
    assert split_every_way("   \n  ") == []


def test_invalid_settings() -> None:
    with pytest.raises(ValueError):
        SentenceSplitter(first_min_words=0)
    with pytest.raises(ValueError):
        SentenceSplitter(first_min_words=10, max_words=5)

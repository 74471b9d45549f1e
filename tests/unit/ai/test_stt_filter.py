"""The hallucination filter (pure, no model): what Whisper invents is dropped, what a
caller says is kept."""

from __future__ import annotations

import pytest

from ai.stt_filter import filter_transcript, strip_non_speech

CONFIDENT = {"no_speech_prob": 0.05, "avg_logprob": -0.2, "audio_s": 1.2}


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("  ...  ", "empty"),
        ("[BLANK_AUDIO]", "non-speech"),
        ("[Music] (laughs) ♪", "non-speech"),
        ("Thanks for watching!", "hallucination"),
        ("Thank you for watching.", "hallucination"),
        ("Thank you. Please subscribe to my channel.", "hallucination"),
        ("Subtitles by the Amara.org community", "hallucination"),
        ("the the the the", "repetition"),
        ("I'd like to. I'd like to. I'd like to. I'd like to.", "repetition"),
        ("I want to book a table table table table table table table", "repetition"),
    ],
)
def test_filter_rejects_even_when_whisper_is_confident(text: str, reason: str) -> None:
    assert filter_transcript(text, **CONFIDENT) == reason


@pytest.mark.parametrize(
    ("text", "no_speech_prob", "avg_logprob", "audio_s"),
    [
        ("Thank you.", 0.7, -0.3, 1.0),  # Whisper thinks there is no speech
        ("Bye.", 0.1, -1.4, 1.0),  # unsure of the words
        ("you", 0.1, -0.3, 0.2),  # too short to hold the phrase
        ("Okay. Thank you.", 0.6, -0.5, 1.0),
    ],
)
def test_filter_rejects_stock_phrases_when_unsure(
    text: str, no_speech_prob: float, avg_logprob: float, audio_s: float
) -> None:
    assert filter_transcript(text, no_speech_prob, avg_logprob, audio_s) == "weak-stock-phrase"


def test_filter_rejects_unsure_text_on_silent_audio() -> None:
    assert filter_transcript("I see the ship.", 0.9, -0.8, 2.0) == "no-speech"


@pytest.mark.parametrize(
    "text",
    [
        "Thank you.",
        "Bye!",
        "Okay.",
        "What time does the store open tomorrow?",
        "No, no, no.",  # three is a caller's emphasis, not a loop
        "I'd like to book a table. Thanks for watching.",  # real words are not thrown away
        "[MUSIC] I need to talk to someone about my bill.",
    ],
)
def test_filter_keeps_what_a_caller_really_says(text: str) -> None:
    assert filter_transcript(text, **CONFIDENT) is None


def test_filter_keeps_confident_speech_even_if_whisper_doubts_silence() -> None:
    assert filter_transcript("Can you call me back?", 0.9, -0.3, 1.5) is None


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("[MUSIC] Hello there.", "Hello there."),
        ("I was (laughs) saying hi [BLANK_AUDIO] .", "I was saying hi."),
        ("*coughs* Yes ♪", "Yes"),
        ("Plain text.", "Plain text."),
    ],
)
def test_non_speech_tags_are_stripped(raw: str, clean: str) -> None:
    assert strip_non_speech(raw) == clean

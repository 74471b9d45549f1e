"""Whisper's hallucinations: which transcripts of a turn to drop, and why.

Whisper is only given audio that our VAD already judged to be speech, yet it
still invents text on noise, breath and clicks ("Thank you.", "Thanks for
watching!"): subtitles from its training data. ``filter_transcript`` says why a
transcript should be dropped (or None to keep it); ``strip_non_speech`` removes
the tags ("[MUSIC]") it writes for sounds. Pure functions: text and scores in,
a verdict out.
"""

from __future__ import annotations

import re

# Phrases Whisper produces from silence or noise that no caller says on a phone line
# (they come from YouTube subtitles in its training data): always rejected.
ALWAYS_HALLUCINATIONS = frozenset(
    {
        "thanks for watching",
        "thank you for watching",
        "thank you so much for watching",
        "thank you very much for watching",
        "thank you for watching and see you next time",
        "thanks for watching and see you next time",
        "please subscribe",
        "please subscribe to my channel",
        "subscribe to my channel",
        "like and subscribe",
        "dont forget to like and subscribe",
        "see you in the next video",
        "see you next time",
        "subtitles by the amara org community",
        "transcribed by https otter ai",
    }
)

# Whisper's favourite inventions on short noise, which a caller may also really say:
# rejected only when Whisper itself is unsure (see ``filter_transcript``).
WEAK_HALLUCINATIONS = frozenset(
    {
        "thank you",
        "thank you very much",
        "thank you so much",
        "thanks",
        "you",
        "bye",
        "bye bye",
        "goodbye",
        "so",
        "okay",
        "oh",
        "hmm",
        "uh",
        "um",
    }
)

# Thresholds of the filter; see ``filter_transcript``.
WEAK_NO_SPEECH = 0.5
WEAK_LOGPROB = -1.0
WEAK_MIN_AUDIO_S = 0.3
NO_SPEECH_PROB = 0.8
NO_SPEECH_LOGPROB = -0.7
MIN_REPEATS = 4  # the whole text is one n-gram said at least this many times
MAX_RUN = 6  # or some 1-4 word n-gram repeats this many times in a row (a decoding loop)

# "[MUSIC]", "[BLANK_AUDIO]", "(laughs)", "*coughs*", and music notes.
_TAG = re.compile(r"\[[^\]]*\]|\([^)]*\)|\*[^*]*\*|[♪♫♬]+")
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([,.!?;:])")
_SENTENCE_END = re.compile(r"[.!?]+(?=\s|$)")  # not the dot in "amara.org"
_NOT_WORD = re.compile(r"[^\w\s]|_")


def strip_non_speech(text: str) -> str:
    """``text`` without non-speech tags such as "[MUSIC]" or "(laughs)", spaces tidied."""
    text = _TAG.sub(" ", text)
    text = _SPACE_BEFORE_PUNCT.sub(r"\1", text)
    return " ".join(text.split())


def _normalise(text: str) -> str:
    """Lower case, apostrophes dropped ("don't" -> "dont"), other punctuation as spaces."""
    text = text.lower().replace("'", "").replace("’", "")
    return " ".join(_NOT_WORD.sub(" ", text).split())


def _sentences(text: str) -> list[str]:
    parts = (_normalise(part) for part in _SENTENCE_END.split(text))
    return [part for part in parts if part]


def _is_repetition(words: list[str]) -> bool:
    n_words = len(words)
    # The whole text is one n-gram over and over (a trailing partial repeat allowed).
    for period in range(1, n_words // MIN_REPEATS + 1):
        if all(words[i] == words[i - period] for i in range(period, n_words)):
            return True
    # A decoding loop after some real words: one short n-gram MAX_RUN times in a row.
    for size in range(1, 5):
        for start in range(n_words - size * MAX_RUN + 1):
            gram = words[start : start + size]
            if all(
                words[start + k * size : start + (k + 1) * size] == gram for k in range(MAX_RUN)
            ):
                return True
    return False


def filter_transcript(
    text: str, no_speech_prob: float, avg_logprob: float, audio_s: float
) -> str | None:
    """Why Whisper's ``text`` should be dropped, or None if it is worth answering.

    Pure and cheap. Takes Whisper's raw text (tags included). Reasons, checked in order:

    - ``"empty"``: nothing but spaces and punctuation.
    - ``"non-speech"``: only tags such as "[BLANK_AUDIO]", "[MUSIC]", "(laughs)".
    - ``"hallucination"``: a subtitle phrase from ``ALWAYS_HALLUCINATIONS``
      ("Thanks for watching!"), alone or with other stock phrases ("Thank you.
      Please subscribe."), whatever the scores. Real words with such a phrase
      tacked on are kept: dropping them would lose what the caller said.
    - ``"repetition"``: a decoding loop ("the the the the").
    - ``"no-speech"``: Whisper thinks the audio is silent (``no_speech_prob`` >
      0.8) and is unsure of its words (``avg_logprob`` < -0.7).
    - ``"weak-stock-phrase"``: the text is made only of ``WEAK_HALLUCINATIONS``
      ("Thank you.", "Bye.", "You") *and* there is a sign that it was not
      spoken: ``no_speech_prob`` > 0.5, ``avg_logprob`` < -1.0 or under 0.3 s of
      audio. A caller who says "thank you" or "bye" clearly is kept.
    """
    if not any(ch.isalnum() for ch in text):
        return "empty"
    clean = strip_non_speech(text)
    if not any(ch.isalnum() for ch in clean):
        return "non-speech"
    sentences = _sentences(clean)
    stock = ALWAYS_HALLUCINATIONS | WEAK_HALLUCINATIONS
    only_stock = all(sentence in stock for sentence in sentences)
    if only_stock and any(sentence in ALWAYS_HALLUCINATIONS for sentence in sentences):
        return "hallucination"
    if _is_repetition(_normalise(clean).split()):
        return "repetition"
    if no_speech_prob > NO_SPEECH_PROB and avg_logprob < NO_SPEECH_LOGPROB:
        return "no-speech"
    if only_stock and (
        no_speech_prob > WEAK_NO_SPEECH or avg_logprob < WEAK_LOGPROB or audio_s < WEAK_MIN_AUDIO_S
    ):
        return "weak-stock-phrase"
    return None


# --- the model ------------------------------------------------------------------------

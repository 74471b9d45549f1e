"""How meaning adds to word coverage (ai/fact_meaning.py), with made-up vectors."""

from __future__ import annotations

import numpy as np

from ai.fact_meaning import WORD_SIMILARITY, Meaning


def meaning(cosine: list[float], word_sims: dict[str, list[float]]) -> Meaning:
    return Meaning(
        np.array(cosine),
        {k: np.array(v) for k, v in word_sims.items()},
        [np.array([0, 1]), np.array([2]), np.array([], dtype=int)],
    )


def test_a_close_word_earns_credit_and_a_far_one_none() -> None:
    m = meaning([0.5, 0.5, 0.5], {"kid": [0.9, 0.1, 0.3], "brace": [0.5, 0.2, WORD_SIMILARITY]})
    assert 0.7 < m.word_credit(0, "kid") < 0.8
    assert m.word_credit(0, "brace") == 0.0  # 0.5 is not close enough
    assert m.word_credit(1, "brace") > 0.0
    assert m.word_credit(2, "kid") == 0.0  # a fact with no words
    assert m.word_credit(0, "unknown") == 0.0


def test_meaning_alone_never_makes_a_match() -> None:
    m = meaning([0.95, 0.95, 0.1], {})
    score, _ = m.blend(np.array([0.0, 0.6, 0.6]))
    assert score[0] == 0.0  # close in meaning, no word in common: nothing
    assert score[1] > score[2]  # same words, closer meaning: higher


def test_ranking_prefers_the_closer_fact_among_equal_coverage() -> None:
    _, ranking = meaning([0.3, 0.6, 0.1], {}).blend(np.array([0.5, 0.5, 0.5]))
    assert int(np.argmax(ranking)) == 1

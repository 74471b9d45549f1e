"""The meaning half of fact retrieval: how close a caller's words are to each of the
business's sentences, by sentence embeddings (ai/embedding.py), for ai/retrieval.py.

Callers rarely use the owner's words ("faucet" for "tap", "kids" for "children"), and
word matching alone then says "I don't know" to a question the facts answer. Two
uses, both bounded so that meaning never answers on its own:

- ``word_credit``: a question word a fact lacks counts as partly found when the
  encoder puts it close to one of the fact's words (cosine at least
  ``WORD_SIMILARITY``: "checks" / "cheques", "kids" / "children"; not "braces" /
  "crowns"), so coverage still falls when the caller asks about something the facts
  do not hold;
- ``blend``: the question's cosine to each fact (its heading plus the sentence) makes
  up ``MEANING_WEIGHT`` of the score, but only as far as the fact covers the words
  at all (below ``MEANING_NEEDS_COVERAGE`` it counts proportionally less: a sentence
  encoder rates many questions about the same business as close, so a fact sharing no
  word with the question earns nothing from meaning alone); facts are ranked by that
  score plus ``MEANING_RANK`` times the cosine.

The constants were chosen on the tuned example sets' question texts and checked on
the held-out business through the phone path (``make eval``); nothing in them names a
business or a question.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ai.embedding import SentenceEncoder
from ai.knowledge import Knowledge

WORD_SIMILARITY = 0.6  # least cosine for a word to stand in for one of the fact's words
WORD_CREDIT = 0.85  # a stand-in word counts this much (times its cosine), as a heading word
MEANING_WEIGHT = 0.3  # share of the score that comes from the sentence cosine
MEANING_RANK = 0.5  # the cosine's weight when ranking facts
COSINE_FLOOR, COSINE_FULL = 0.2, 0.7  # cosine mapped linearly to 0..1 between these
MEANING_NEEDS_COVERAGE = 0.3  # meaning counts fully only from this much word coverage
_SURFACE = re.compile(r"[a-z]+")


@dataclass(frozen=True)
class Meaning:
    """One question against the facts: its cosine to each fact, and for each of its
    stems the cosine of its word to every word of the facts' vocabulary."""

    cosine: np.ndarray
    words: dict[str, np.ndarray]
    surface: list[np.ndarray]  # per fact: indices of its words in the vocabulary

    def word_credit(self, fact: int, stem: str) -> float:
        """Credit (0..1) for a question stem the fact does not hold."""
        sims, mine = self.words.get(stem), self.surface[fact]
        if sims is None or mine.size == 0:
            return 0.0
        close = float(sims[mine].max())
        return WORD_CREDIT * close if close >= WORD_SIMILARITY else 0.0

    def blend(self, coverage: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(score, ranking) of every fact from its word coverage and its cosine."""
        closeness = np.clip((self.cosine - COSINE_FLOOR) / (COSINE_FULL - COSINE_FLOOR), 0, 1)
        support = np.minimum(1.0, coverage / MEANING_NEEDS_COVERAGE)
        score = (1 - MEANING_WEIGHT) * coverage + MEANING_WEIGHT * closeness * support
        return score, score + MEANING_RANK * self.cosine


class FactVectors:
    """The vectors of one agent's facts and of their words, computed once at load."""

    def __init__(self, knowledge: Knowledge, encoder: SentenceEncoder, filler: frozenset[str]):
        self.encoder = encoder
        facts, sections = knowledge.facts, knowledge.sections
        self.facts = encoder.encode([f"{sections[f.section].heading}: {f.text}" for f in facts])
        vocab: dict[str, int] = {}
        self.surface: list[np.ndarray] = []
        for fact in facts:
            section = sections[fact.section]
            text = " ".join([fact.text, section.heading, *section.also_asked]).lower()
            words = sorted({w for w in _SURFACE.findall(text) if len(w) > 2 and w not in filler})
            self.surface.append(np.array([vocab.setdefault(w, len(vocab)) for w in words], int))
        self.words = encoder.encode(list(vocab))

    def meaning(self, question: str, terms: Callable[[str], list[tuple[str, str]]]) -> Meaning:
        """``question`` against the facts; ``terms`` gives its (stem, word) pairs."""
        pairs = terms(question)
        vectors = self.encoder.encode([question, *(w for _, w in pairs)])
        sims = vectors[1:] @ self.words.T
        words = dict(zip((t for t, _ in pairs), sims, strict=True))
        return Meaning(self.facts @ vectors[0], words, self.surface)

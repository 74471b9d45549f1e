"""Find the business's sentence(s) that answer a caller's words, and say how sure that is.

Theory of operation
-------------------
At load, every fact (ai/knowledge.py) becomes one BM25 document (``bm25s``,
English Snowball stems from ``PyStemmer``): its own words, its section's heading
and "Also asked as" lines, and the days it spans (ai/fact_types.py). Sections are
indexed too, as the sum of their facts.

For a caller's words, ``find()``:

1. takes out the *kind* of fact asked for ("what time" -> time, "how much" ->
   price: ai/fact_types.py) and keeps the other content words as stemmed terms
   (stop words and conversational filler removed), plus the days the words name;
2. scores every fact: BM25 of the fact plus a share of its section's BM25 (the
   best sentence inside the best section);
3. measures *coverage* of the best-scoring facts: the share of the question's
   term weight (IDF; a word the facts never use weighs as much as the rarest word
   they do, because it is probably what the caller is asking about) found in the
   fact's document, where each asked kind counts as one more term (of half a
   typical word's weight), found when the fact states that kind of fact (a
   time, a price) or its heading names it;
4. answers when the best coverage reaches ``min_coverage`` (``min_coverage_numbers``
   when the fact states a number: a partial match that says a price is worse than
   "I don't know"): the one best fact for a question with a subject (asked for
   Thursday, Thursday's hours), or for a question that only names a kind ("what
   are your hours?") every fact of the best section that states it, in the
   owner's order, at most ``max_facts``.

With a sentence encoder (ai/embedding.py), meaning counts too (ai/fact_meaning.py): a
question word the fact lacks earns partial credit when it is close to one of the fact's
words, and the question's cosine to the fact adds to the score as far as the fact
covers the question's words at all. Without an encoder the index is purely lexical.

A follow-up ("and on Sunday?", "how much is that?") has few terms of its own:
when the question points back (a pronoun, "and...", "what about...") or alone
does not reach ``min_coverage``, and the previous question is given, the two are
searched together, this question's terms weighing double. The previous
question's words also break ties between facts that cover this one equally.
Nothing here is written for a particular business: the product is judged on
businesses and phrasings no test contains.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import bm25s
import numpy as np
import Stemmer

from ai.embedding import SentenceEncoder
from ai.fact_meaning import FactVectors, Meaning
from ai.fact_types import asked_kinds, concept_stems, day_of, days_in, held_kinds
from ai.knowledge import Fact, Knowledge
from ai.words import ANAPHORA, FILLER, RELATIVE_DAYS, WORD, rarity, root


@dataclass(frozen=True)
class Found:
    """The facts that answer a question, with the coverage of the best one (0..1)."""

    facts: tuple[Fact, ...]
    coverage: float
    used_previous: bool = False

    @property
    def text(self) -> str:
        return " ".join(f.text for f in self.facts)


# How much a matched word counts when it matched the fact's section heading or "Also
# asked as" line rather than the fact's own words: the fact itself saying it is better.
CONTEXT_MATCH = 0.85
PREVIOUS_TIEBREAK = 0.3
MISSING_PENALTY = 0.5  # per asked kind the fact does not state, per asked day it lacks
DAY_WEIGHT = 3.0


@dataclass
class _Query:
    terms: dict[str, float]  # stem -> weight
    kinds: dict[str, set[str]]  # asked kind -> stems of the cue words that asked it

    @property
    def empty(self) -> bool:
        return not self.terms and not self.kinds


class FactIndex:
    def __init__(
        self,
        knowledge: Knowledge,
        *,
        min_coverage: float = 0.5,
        min_coverage_numbers: float = 0.65,
        max_facts: int = 4,
        section_weight: float = 0.3,
        encoder: SentenceEncoder | None = None,
    ) -> None:
        self.knowledge = knowledge
        self.min_coverage = min_coverage
        self.min_coverage_numbers = min_coverage_numbers
        self.max_facts = max_facts
        self.section_weight = section_weight
        self._stemmer = Stemmer.Stemmer("english")
        self._own: list[set[str]] = []
        self._context: list[set[str]] = []
        self._kinds: list[set[str]] = []
        corpus: list[list[str]] = []
        for fact in knowledge.facts:
            section = knowledge.sections[fact.section]
            own = [t for t, _ in self.terms(fact.text)]
            own += [r for r in map(root, own) if r] + sorted(days_in(fact.text))
            context = [t for t, _ in self.terms(" ".join([section.heading, *section.also_asked]))]
            context += [r for r in map(root, context) if r]
            corpus.append(own + context or ["_"])
            self._own.append(set(own))
            self._context.append(set(context) - set(own))
            self._kinds.append(held_kinds(fact.text))
        self._vocab = set().union(*self._own, *self._context) if corpus else set()
        self._section_of = np.array([f.section for f in knowledge.facts], dtype=np.int64)
        self._bm25: bm25s.BM25 | None = None
        if corpus:
            self._bm25 = bm25s.BM25()
            self._bm25.index(corpus, show_progress=False)
        self._vectors = FactVectors(knowledge, encoder, FILLER) if encoder and corpus else None

    def terms(self, text: str) -> list[tuple[str, str]]:
        """(stem, word) of each content word of ``text`` (filler and stop words removed); a
        day is its full name ("Sat." -> "saturday"), never stemmed."""
        out: list[tuple[str, str]] = []
        for word in WORD.findall(text.lower()):
            word = word.split("'")[0]
            if not word or word in FILLER or word in RELATIVE_DAYS:
                continue
            day = day_of(word)
            out.append((day, word) if day else (self._stemmer.stemWord(word), word))
        return [(t, w) for t, w in out if t]

    def _query(self, text: str, today: dt.date | None) -> _Query:
        kinds, rest, cues = asked_kinds(text)
        terms: dict[str, float] = {}
        for stem, word in self.terms(rest):
            # A word the facts use only in another form ("pay" / "payment"): use its root.
            if stem not in self._vocab and root(stem) in self._vocab:
                stem = root(stem)
            terms[stem] = max(terms.get(stem, 0.0), rarity(word))
        for day in days_in(text, today):
            terms[day] = DAY_WEIGHT
        cue_stems = {k: {t for t, _ in self.terms(" ".join(c))} for k, c in cues.items()}
        return _Query(terms, {k: cue_stems.get(k, set()) for k in kinds})

    def find(self, question: str, previous: str = "", today: dt.date | None = None) -> Found | None:
        """The fact(s) answering ``question`` with enough coverage, else None."""
        if self._bm25 is None:
            return None
        query = self._query(question, today)
        before = self._query(previous, today) if previous else _Query({}, {})
        meaning = self._vectors.meaning(question, self.terms) if self._vectors else None
        found = None if query.empty else self._search(query, before, meaning)
        refers_back = bool(previous and ANAPHORA.search(question))
        if previous and (refers_back or found is None or found.coverage < self.min_coverage):
            merged = _Query(
                {t: w * 0.5 for t, w in before.terms.items()} | query.terms,
                query.kinds or before.kinds,
            )
            if query.terms and set(query.terms) <= set(before.terms):
                merged = _Query({}, {})  # the same question again: nothing new to combine
            again = None if merged.empty else self._search(merged, _Query({}, {}), meaning)
            if again is not None and (
                found is None
                or again.coverage > found.coverage
                or (refers_back and again.coverage >= found.coverage - 0.1)
            ):
                found = Found(again.facts, again.coverage, used_previous=True)
        if found is None or found.coverage < self.min_coverage:
            return None
        if found.coverage < self.min_coverage_numbers and any(
            any(c.isdigit() for c in f.text) for f in found.facts
        ):
            return None  # a partial match that would state a number: too risky to say
        return found

    def _coverage(self, i: int, q: _Query, meaning: Meaning | None = None) -> float:
        """Share of the question's words the fact holds, times a penalty for each asked kind
        it does not state and each asked day it does not hold: "how long does X take" is
        not answered by X's price, nor "on Saturday" by a fact about Mondays."""
        own, context = self._own[i], self._context[i]
        total = got = 0.0
        for term, w in q.terms.items():
            if day_of(term) == term:
                continue
            total += w
            if term in own:
                got += w
            elif term in context:
                got += w * CONTEXT_MATCH
            elif meaning is not None:
                got += w * meaning.word_credit(i, term)
        share = got / total if total > 0 else 1.0
        for kind, cue in q.kinds.items():
            if kind in self._kinds[i] or cue & own:
                continue
            if any(c in own or c in context for c in (*concept_stems(kind), *cue)):
                share *= CONTEXT_MATCH
            else:
                share *= MISSING_PENALTY
        for term in q.terms:
            if day_of(term) == term and term not in own:
                share *= MISSING_PENALTY
        return share if (q.terms or q.kinds) else 0.0

    def _bm25_scores(self, q: _Query) -> np.ndarray:
        assert self._bm25 is not None
        words = [t for t in q.terms if t in self._vocab]
        for kind, cue in q.kinds.items():
            words += [c for c in (*concept_stems(kind), *cue) if c in self._vocab]
        if not words:
            return np.zeros(len(self._own))
        return np.asarray(self._bm25.get_scores(words), dtype=np.float64)

    def _search(self, q: _Query, before: _Query, meaning: Meaning | None = None) -> Found | None:
        """Best facts for ``q``. Words only: coverage decides and BM25 orders facts that
        cover the question equally, the previous question's words (``before``) breaking
        ties ("do you see kids?" then "do I pay for their checkup?": the child's checkup).
        With ``meaning``, its blend of coverage and cosine scores and orders them instead."""
        coverage = np.array([self._coverage(i, q, meaning) for i in range(len(self._own))])
        if meaning is None:
            scores = self._bm25_scores(q) + PREVIOUS_TIEBREAK * self._bm25_scores(before)
            sections = np.zeros(int(self._section_of.max()) + 1)
            np.add.at(sections, self._section_of, scores)
            combined = scores + self.section_weight * sections[self._section_of]
            order = np.lexsort((-combined, -np.round(coverage, 6)))
        else:
            coverage, ranking = meaning.blend(coverage)
            order = np.argsort(-ranking, kind="stable")
        best = int(order[0])
        if coverage[best] <= 0.0:
            return None
        # A question with a subject gets the one fact about it (a second one, however
        # close, is where a wrong number comes from); one that only names a kind ("what
        # are your hours?") gets every fact of the best section that states it.
        chosen = [best]
        if not q.terms:
            chosen = [
                int(i)
                for i in order[: self.max_facts * 4]
                if self._section_of[i] == self._section_of[best]
                and coverage[i] >= coverage[best] - 1e-6
            ][: self.max_facts]
        facts = tuple(sorted((self.knowledge.facts[i] for i in chosen), key=lambda f: f.order))
        return Found(facts, float(coverage[best]))

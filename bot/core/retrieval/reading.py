"""Reading the head of a ranking closely: which sentence answers, and does the passage speak of
everything the question asks about?

The first stages score every candidate with whole-passage vectors and BM25. This stage reads only
the few passages at the head of the ranking (``FusionParams.reading_depth``), so its cost does not
grow with the knowledge base, and gives each two signals:

- **sentence overlap**: the share of the question's terms, weighted by their inverse document
  frequency, that one sentence holds. Added to the sentence's cosine it picks the sentence to
  highlight (the one that answers, not only the one closest in topic), and the passage's best
  overlap lifts the passage that holds the answer above its section's other passages;
- **coverage**: for each content word of the question, 1 when the passage has it (same stem), else
  its best cosine with the passage's words in the multilingual embedding space (so an English
  word finds its French translation); weighted by rarity and averaged, and its minimum. A
  question about something the passage does not mention ("Who won the World Cup?" against a page
  on billionaires) covers little, which the abstention reads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np

from bot.core.knowledge.index import KnowledgeIndex
from bot.core.knowledge.lexical import LexicalIndex, analyse, content_words


@dataclass(frozen=True)
class Coverage:
    """How much of the question a passage speaks of: the weighted mean and the minimum over the
    question's content words of their match (1 for the same stem, else the best cosine)."""

    mean: float
    least: float


@dataclass(frozen=True)
class QuestionWords:
    """The question as this stage reads it: its content words, their primary vectors, its terms
    in each language of the pages, and what the team's glossary made of them (a word the
    glossary matched counts as found in a passage that holds one of the glossary's stems)."""

    words: list[str]
    vectors: np.ndarray  # (len(words), dim)
    terms: dict[str, list[str]]  # language → analysed terms of the question
    glossary_matched: frozenset[str] = frozenset()  # the question's stems the glossary knows
    glossary_stems: frozenset[str] = frozenset()  # the stems the glossary expands them to
    _stems: dict[str, list[tuple[list[str], float]]] = field(default_factory=dict, repr=False)

    def weighted_stems(self, language: str, lexical: LexicalIndex) -> list[tuple[list[str], float]]:
        """Each word's stems in ``language`` and its rarity weight (the highest IDF of its
        stems), computed once per language."""
        found = self._stems.get(language)
        if found is None:
            found = []
            for word in self.words:
                stems = analyse(word, language)
                weight = max((lexical.idf(s) for s in stems), default=lexical.rarest_idf)
                found.append((stems, weight))
            self._stems[language] = found
        return found


# The caches of analysed passages and sentences hold at most this many entries each, so a server
# that answers for months over a large knowledge base does not end up holding all of them.
CACHED = 20_000
V = TypeVar("V")


def _remember(cache: dict[int, V], key: int, value: V) -> None:
    """Keep ``value`` under ``key``; a full cache is emptied first."""
    if len(cache) >= CACHED:
        cache.clear()
    cache[key] = value


class PassageReader:
    """Per-sentence and per-passage signals for the passages of one index, computed on demand
    and cached (each passage is analysed at most once per loaded index)."""

    def __init__(
        self, index: KnowledgeIndex, vocabulary: np.ndarray, word_row: dict[str, int]
    ) -> None:
        self._index = index
        self._vocabulary = vocabulary
        self._word_row = word_row
        self.starts = index.sentence_starts
        self._sentence_terms: dict[int, frozenset[str]] = {}
        self._passage_terms: dict[int, frozenset[str]] = {}
        self._passage_rows: dict[int, np.ndarray] = {}

    def sentences(self, number: int) -> range:
        """The numbers (in ``KnowledgeIndex.sentences``) of passage ``number``'s sentences."""
        return range(int(self.starts[number]), int(self.starts[number + 1]))

    def _language(self, number: int) -> str:
        return self._index.languages[number]

    def sentence_terms(self, sentence: int, language: str) -> frozenset[str]:
        """The analysed terms of one sentence."""
        found = self._sentence_terms.get(sentence)
        if found is None:
            found = frozenset(analyse(self._index.sentences[sentence], language))
            _remember(self._sentence_terms, sentence, found)
        return found

    def passage_terms(self, number: int) -> frozenset[str]:
        """The analysed terms of a passage, its breadcrumb included."""
        found = self._passage_terms.get(number)
        if found is None:
            passage = self._index.passages[number]
            found = frozenset(analyse(passage.embedding_text, self._language(number)))
            _remember(self._passage_terms, number, found)
        return found

    def _rows(self, number: int) -> np.ndarray:
        found = self._passage_rows.get(number)
        if found is None:
            words = content_words(self._index.passages[number].embedding_text)
            found = np.array([self._word_row[w] for w in words if w in self._word_row], np.int64)
            _remember(self._passage_rows, number, found)
        return found

    def overlaps(self, number: int, question: QuestionWords) -> np.ndarray:
        """Per sentence of passage ``number``: the rarity-weighted share of the question's terms
        (in the passage's language) that the sentence holds, in [0, 1]."""
        language = self._language(number)
        lexical = self._index.lexical
        # Terms no page has cannot be in a sentence; counting them would only shrink every
        # sentence's share alike.
        terms = [t for t in dict.fromkeys(question.terms.get(language, [])) if lexical.knows(t)]
        span = self.sentences(number)
        if not terms or not len(span):
            return np.zeros(len(span), np.float32)
        weights = np.array([lexical.idf(t) for t in terms], np.float32)
        total = float(weights.sum())
        return np.array(
            [
                sum(w for t, w in zip(terms, weights, strict=True) if t in held) / total
                for held in (self.sentence_terms(s, language) for s in span)
            ],
            np.float32,
        )

    def coverage(self, number: int, question: QuestionWords) -> Coverage:
        """How much of the question passage ``number`` speaks of (see the module docstring).
        A question without a content word ("c'est quoi ça ?") covers nothing: no passage can
        be shown to speak of it."""
        if not question.words:
            return Coverage(0.0, 0.0)
        language = self._language(number)
        terms = self.passage_terms(number)
        rows = self._rows(number)
        sims = (
            question.vectors @ self._vocabulary[rows].T
            if len(rows)
            else np.zeros((len(question.words), 1), np.float32)
        )
        stems = question.weighted_stems(language, self._index.lexical)
        glossed = not terms.isdisjoint(question.glossary_stems)
        matches = [
            1.0
            if any(s in terms for s in word_stems)
            or (glossed and any(s in question.glossary_matched for s in word_stems))
            else max(0.0, float(sims[i].max()))
            for i, (word_stems, _) in enumerate(stems)
        ]
        match = np.array(matches)
        weight = np.array([w for _, w in stems])
        return Coverage(float(match @ weight / weight.sum()), float(match.min()))

"""Lexical side of retrieval: French/English analysis (stop words, Snowball stems) and BM25."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import numpy as np
import orjson

from bot.core.language import ELISION  # elided articles: l'open, d'utiliser, qu'est-ce

_TOKEN = re.compile(r"[^\W_]+(?:-[^\W_]+)*", re.UNICODE)


# English function words that bm25s's 33-word English list leaves out (its French list has 157):
# pronouns, auxiliaries and modals, and the commonest prepositions and adverbs. Without them
# "our", "would" or "does" count as terms of an English question: they weigh in its term
# coverage, its keyword embedding and its word expansion, and can never match a French page.
# Words that carry meaning here (free, open, top, down, first, most, make…) are not listed.
_ENGLISH_FUNCTION_WORDS = frozenset(
    """
i me my myself we us our ours ourselves you your yours yourself yourselves he him his himself
she her hers herself its itself them theirs themselves those am been being have has had having
do does did doing would should could can may might must shall ought about above after again
against all also any because before below between both during each few further here how just
once only other own same so some than too very why where when while until through under yet
whether within s t d ll re ve don doesn didn shouldn wouldn couldn isn aren wasn weren won
""".split()  # noqa: SIM905 - a word list reads better as text
)


@lru_cache(maxsize=1)
def _stop_words() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_EN, STOPWORDS_FRENCH

    extra = {"est-ce", "a-t-il", "y", "faut", "quoi", "quel", "quelle", "quels", "quelles"}
    words = (*STOPWORDS_EN, *_ENGLISH_FUNCTION_WORDS, *STOPWORDS_FRENCH, *extra)
    return frozenset(_fold(w) for w in words)


class WordStemmer(Protocol):
    """A Snowball stemmer of ``PyStemmer``."""

    def stemWords(self, words: Sequence[str]) -> list[str]:
        """The stems of ``words``, in order."""
        ...


@lru_cache(maxsize=2)
def _stemmer(language: str) -> WordStemmer:
    import Stemmer

    stemmer: WordStemmer = Stemmer.Stemmer("french" if language == "fr" else "english")
    return stemmer


@lru_cache(maxsize=1 << 17)
def _fold(word: str) -> str:
    """Lower-case and strip accents: ``Modèle`` → ``modele``."""
    decomposed = unicodedata.normalize("NFKD", word.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


# Question words: stop words for matching, though not all stop-word lists have them (the
# English ones missing from bm25s's list are in _ENGLISH_FUNCTION_WORDS).
_QUESTION_WORDS = frozenset(
    [
        "what",
        "who",
        "which",
        "whom",
        "whose",
        "comment",
        "pourquoi",
        "quoi",
        "quel",
        "quelle",
        "quels",
        "quelles",
        "qui",
        "quand",
        "combien",
        "faut",
        "peut",
        "doit",
    ]
)


def content_words(text: str) -> list[str]:
    """Distinct lower-cased words of ``text`` that carry meaning (no stop or question words).

    Returns them in order of appearance; these are what cross-lingual expansion maps.
    """
    stop = _stop_words()
    seen: dict[str, None] = {}
    for match in _TOKEN.finditer(ELISION.sub(" ", text)):
        word = match.group(0).lower()
        folded = _fold(word)
        if len(word) > 2 and folded not in stop and folded not in _QUESTION_WORDS:
            seen.setdefault(word, None)
    return list(seen)


def function_word(word: str) -> bool:
    """Whether ``word`` carries no meaning of its own: a stop word or a question word of French
    or English (case and accents ignored)."""
    folded = _fold(word)
    return folded in _stop_words() or folded in _QUESTION_WORDS


def analyse(text: str, language: str) -> list[str]:
    """Return the index terms of ``text``: words without stop words, stemmed, accents folded.

    Hyphenated compounds give the compound and its parts (``value-market`` → ``value-market``,
    ``value``, ``market``), so either spelling matches.
    """
    text = ELISION.sub(" ", text)
    stop = _stop_words()
    words: list[str] = []
    for match in _TOKEN.finditer(text):
        word = match.group(0).lower()
        parts = word.split("-")
        candidates = [word, *parts] if len(parts) > 1 else [word]
        words.extend(w for w in candidates if _fold(w) not in stop and len(w) > 1)
    stemmer = _stemmer(language)
    return [_fold(stem) for stem in stemmer.stemWords(words)]


@dataclass(frozen=True)
class Postings:
    """A sparse score vector over passages: passage numbers (ascending) and their scores."""

    ids: np.ndarray  # int64, sorted
    values: np.ndarray  # float32, aligned with ``ids``

    @classmethod
    def empty(cls) -> Postings:
        """No passage scores."""
        return cls(np.zeros(0, np.int64), np.zeros(0, np.float32))

    def at(self, numbers: np.ndarray) -> np.ndarray:
        """The scores of passages ``numbers`` (0 for a passage not listed)."""
        out = np.zeros(len(numbers), np.float32)
        if not self.ids.size or not len(numbers):
            return out
        where = np.minimum(np.searchsorted(self.ids, numbers), self.ids.size - 1)
        found = self.ids[where] == numbers
        out[found] = self.values[where[found]]
        return out

    def unit(self) -> Postings:
        """The scores divided by their maximum (all zeros stay zeros)."""
        top = float(self.values.max()) if self.values.size else 0.0
        return Postings(self.ids, self.values / top) if top > 0 else Postings.empty()

    def plus(self, other: Postings) -> Postings:
        """The sum of two score vectors."""
        if not other.ids.size:
            return self
        if not self.ids.size:
            return other
        ids, inverse = np.unique(np.concatenate([self.ids, other.ids]), return_inverse=True)
        values = np.bincount(
            inverse, weights=np.concatenate([self.values, other.values]), minlength=ids.size
        )
        return Postings(ids, values.astype(np.float32))

    def scaled(self, factor: float) -> Postings:
        """The scores times ``factor``."""
        return Postings(self.ids, self.values * np.float32(factor))

    def top(self, k: int) -> np.ndarray:
        """The numbers of the ``k`` best-scored passages (any order)."""
        if self.ids.size <= k:
            return self.ids[self.values > 0]
        best = np.argpartition(-self.values, k)[:k]
        return self.ids[best[self.values[best] > 0]]

    def dense(self, size: int) -> np.ndarray:
        """The scores as one array over ``size`` passages."""
        out = np.zeros(size, np.float32)
        out[self.ids] = self.values
        return out


# BM25 as Lucene scores it (the variant bm25s calls "lucene"): for a term t of a query and a
# passage d, idf(t) · tf / (tf + k1 · (1 − b + b · |d| / avg |d|)), idf(t) = log(1 + (N − df +
# 0.5) / (df + 0.5)); a query term given twice counts twice.
K1 = 1.5
B = 0.75
_ARRAYS = ("doc_indptr", "doc_terms", "doc_tf", "term_indptr", "term_docs", "term_weights")


class LexicalIndex:
    """BM25 over analysed passages, stored as plain arrays (memory-mapped when loaded).

    Two sparse views of one matrix: by passage (each passage's term ids and counts, which an
    incremental build reuses row by row) and by term (each term's passages and BM25 weights,
    which a query sums over its own terms only, so its cost is that of the query terms'
    postings, not of the number of passages).
    """

    def __init__(self, terms: list[str], arrays: dict[str, np.ndarray]) -> None:
        self.terms = terms
        self._row = {term: row for row, term in enumerate(terms)}
        self._a = arrays
        self.size = len(arrays["doc_indptr"]) - 1
        self._df = np.diff(np.asarray(arrays["term_indptr"]))

    @classmethod
    def build(cls, documents: Sequence[list[str]]) -> LexicalIndex:
        """Index analysed documents (lists of terms). Returns the index."""
        numbering = TermNumbering()
        rows = [numbering.row(doc) for doc in documents]
        indptr = np.zeros(len(rows) + 1, np.int64)
        np.cumsum([len(ids) for ids, _ in rows], out=indptr[1:])
        empty_i, empty_f = np.zeros(0, np.int32), np.zeros(0, np.float32)
        return cls.from_arrays(
            numbering.terms,
            indptr,
            np.concatenate([ids for ids, _ in rows]) if rows else empty_i,
            np.concatenate([tf for _, tf in rows]) if rows else empty_f,
        )

    @classmethod
    def from_arrays(
        cls, terms: list[str], indptr: np.ndarray, doc_terms: np.ndarray, doc_tf: np.ndarray
    ) -> LexicalIndex:
        """Index the passage-by-term counts given as compressed rows (``indptr`` over
        passages; each passage's term ids and counts). Computes the BM25 weights and the
        by-term view in a few vectorised steps."""
        size = len(indptr) - 1
        lengths = np.diff(indptr)
        doc_of = np.repeat(np.arange(size, dtype=np.int64), lengths)
        dl = np.bincount(doc_of, weights=doc_tf, minlength=size).astype(np.float32)
        avg = float(dl.mean()) if size else 1.0
        df = np.bincount(doc_terms, minlength=len(terms))
        idf = np.log(1 + (size - df + 0.5) / (df + 0.5)).astype(np.float32)
        norm = K1 * ((1 - B) + B * dl / (avg or 1.0))
        weights = idf[doc_terms] * doc_tf / (doc_tf + norm[doc_of])
        order = np.argsort(doc_terms, kind="stable")  # by term, then by passage
        term_indptr = np.zeros(len(terms) + 1, np.int64)
        np.cumsum(df, out=term_indptr[1:])
        arrays = {
            "doc_indptr": indptr.astype(np.int64),
            "doc_terms": doc_terms.astype(np.int32),
            "doc_tf": doc_tf.astype(np.float32),
            "term_indptr": term_indptr,
            "term_docs": doc_of[order].astype(np.int32),
            "term_weights": weights[order].astype(np.float32),
        }
        return cls(list(terms), arrays)

    def row(self, number: int) -> tuple[np.ndarray, np.ndarray]:
        """Passage ``number``'s term ids and counts."""
        start, stop = self._a["doc_indptr"][number], self._a["doc_indptr"][number + 1]
        return self._a["doc_terms"][start:stop], self._a["doc_tf"][start:stop]

    def rows(self, start: int, count: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Passages ``start`` to ``start + count``: how many terms each has, and their term ids
        and counts, one after the other."""
        indptr = np.asarray(self._a["doc_indptr"][start : start + count + 1])
        first, stop = int(indptr[0]), int(indptr[-1])
        return (
            np.diff(indptr),
            np.asarray(self._a["doc_terms"][first:stop]),
            np.asarray(self._a["doc_tf"][first:stop]),
        )

    def save(self, directory: Path) -> dict[str, str]:
        """Write the index into ``directory``; returns each file's checksum by name."""
        from bot.core.knowledge.rowfile import save_array, save_bytes

        directory.mkdir(parents=True, exist_ok=True)
        sums = {"terms.json": save_bytes(directory / "terms.json", orjson.dumps(self.terms))}
        for name in _ARRAYS:
            sums[f"{name}.npy"] = save_array(directory / f"{name}.npy", np.asarray(self._a[name]))
        return sums

    @classmethod
    def load(cls, directory: Path, size: int) -> LexicalIndex:
        """Read an index written by ``save`` (arrays memory-mapped). Raises ``ValueError``
        when it does not index ``size`` passages."""
        terms = orjson.loads((directory / "terms.json").read_bytes())
        arrays = {
            name: np.load(directory / f"{name}.npy", mmap_mode="r", allow_pickle=False)
            for name in _ARRAYS
        }
        index = cls(terms, arrays)
        if index.size != size or len(arrays["term_indptr"]) != len(terms) + 1:
            raise ValueError("the lexical index does not match the passages")
        return index

    def knows(self, term: str) -> bool:
        """Whether ``term`` occurs in the indexed text."""
        row = self._row.get(term)
        return row is not None and self._df[row] > 0

    def idf(self, term: str) -> float:
        """BM25's inverse document frequency of ``term``; a term no passage has gets the
        highest, ``rarest_idf``."""
        row = self._row.get(term)
        df = int(self._df[row]) if row is not None else 0
        return float(np.log(1 + (self.size - df + 0.5) / (df + 0.5)))

    @property
    def rarest_idf(self) -> float:
        """The inverse document frequency of a term that no passage has."""
        return float(np.log(1 + (self.size + 0.5) / 0.5))

    def coverage(self, terms: Sequence[str]) -> float:
        """Fraction of the query's terms that occur in the indexed text (0 when it has none)."""
        return sum(self.knows(t) for t in terms) / len(terms) if terms else 0.0

    def postings(self, terms: Sequence[str]) -> Postings:
        """BM25 score of every passage that holds one of the query ``terms``."""
        rows = [self._row[t] for t in terms if self.knows(t)]
        if not rows:
            return Postings.empty()
        indptr = self._a["term_indptr"]
        docs = np.concatenate([self._a["term_docs"][indptr[r] : indptr[r + 1]] for r in rows])
        weights = np.concatenate([self._a["term_weights"][indptr[r] : indptr[r + 1]] for r in rows])
        ids, inverse = np.unique(docs, return_inverse=True)
        values = np.bincount(inverse, weights=weights, minlength=ids.size).astype(np.float32)
        return Postings(ids.astype(np.int64), values)


class TermNumbering:
    """Numbers terms in order of first appearance, after the ones it starts with (so that an
    incremental build's copied rows keep their term numbers)."""

    def __init__(self, terms: Sequence[str] = ()) -> None:
        self.terms = list(terms)
        self._row = {term: i for i, term in enumerate(self.terms)}

    def row(self, doc: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """One passage's distinct term numbers and how often each occurs; an empty passage
        gets a placeholder term so that every passage has a length."""
        counted = Counter(doc or ["\u2205"])
        numbers = []
        for term in counted:
            number = self._row.get(term)
            if number is None:
                number = self._row[term] = len(self.terms)
                self.terms.append(term)
            numbers.append(number)
        return np.asarray(numbers, np.int32), np.fromiter(counted.values(), np.float32)

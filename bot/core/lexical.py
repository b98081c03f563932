"""Lexical side of retrieval: French/English analysis (stop words, Snowball stems) and BM25."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

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


@lru_cache(maxsize=2)
def _stemmer(language: str):
    import Stemmer

    return Stemmer.Stemmer("french" if language == "fr" else "english")


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


class LexicalIndex:
    """BM25 over analysed passages (bm25s). ``scores`` returns one score per passage."""

    def __init__(self, retriever, size: int) -> None:
        self._retriever = retriever
        self._vocab = set(retriever.vocab_dict)
        self.size = size
        # Document frequency of each term, read from the score matrix bm25s keeps per term
        # (compressed columns: a term's passages lie between two offsets of ``indptr``).
        self._df = np.diff(np.asarray(retriever.scores["indptr"]))

    @classmethod
    def build(cls, documents: Sequence[list[str]]) -> LexicalIndex:
        """Index analysed documents (lists of terms). Returns the index."""
        import bm25s

        retriever = bm25s.BM25()
        # bm25s needs one non-empty document; an empty one gets a placeholder term.
        retriever.index([doc or ["\u2205"] for doc in documents], show_progress=False)
        return cls(retriever, len(documents))

    def save(self, directory: Path) -> None:
        """Write the index into ``directory``."""
        self._retriever.save(str(directory), show_progress=False)

    @classmethod
    def load(cls, directory: Path, size: int) -> LexicalIndex:
        """Read an index written by ``save``."""
        import bm25s

        retriever = bm25s.BM25.load(str(directory), show_progress=False, verbosity=0)
        return cls(retriever, size)

    def knows(self, term: str) -> bool:
        """Whether ``term`` occurs in the indexed text."""
        return term in self._vocab

    def idf(self, term: str) -> float:
        """BM25's inverse document frequency of ``term``; a term no passage has gets the
        highest, ``rarest_idf``."""
        row = self._retriever.vocab_dict.get(term)
        df = int(self._df[row]) if row is not None and row < self._df.size else 0
        return float(np.log(1 + (self.size - df + 0.5) / (df + 0.5)))

    @property
    def rarest_idf(self) -> float:
        """The inverse document frequency of a term that no passage has."""
        return float(np.log(1 + (self.size + 0.5) / 0.5))

    def coverage(self, terms: Sequence[str]) -> float:
        """Fraction of the query's terms that occur in the indexed text (0 when it has none)."""
        return sum(t in self._vocab for t in terms) / len(terms) if terms else 0.0

    def scores(self, terms: Sequence[str]) -> np.ndarray:
        """BM25 score of every passage for the query ``terms`` (zeros when none is known)."""
        known = [t for t in terms if t in self._vocab]
        if not known or self.size == 0:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._retriever.get_scores(known), dtype=np.float32)

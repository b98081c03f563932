"""The team's bilingual glossary (``knowledge/glossary.yaml``) and query expansion with it.

Each entry groups terms that mean the same thing, by language. A question that uses one of an
entry's terms is also searched with the entry's other terms: an English question about the
"funnel" then finds the French "entonnoir". This is how the bot bridges English questions and
French pages where the multilingual encoder alone is weak (see README "Retrieval").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from bot.core.knowledge.lexical import analyse, content_words
from bot.core.knowledge.team_yaml import YamlRefused, read_team_file

GLOSSARY_FILE = "glossary.yaml"
LANGUAGES = ("fr", "en")


class GlossaryError(ValueError):
    """The glossary file cannot be used; the message says why and names the entry."""


@dataclass(frozen=True)
class Term:
    """One glossary term: its text, its language and its index terms (stems)."""

    text: str
    language: str
    stems: tuple[str, ...]


@dataclass(frozen=True)
class Expansion:
    """What the glossary adds to a question: other terms of the entries it uses."""

    terms: tuple[Term, ...] = ()
    covered: frozenset[str] = frozenset()  # the question's stems that an entry matched

    def stems(self) -> list[str]:
        """The added terms' index terms, for BM25, each once: "payer", "payant" and "payé" share
        a stem, and a concept with many spellings must not outweigh the others."""
        return list(dict.fromkeys(s for t in self.terms for s in t.stems))


def analyse_all(text: str) -> dict[str, list[str]]:
    """``text``'s index terms in each glossary language."""
    return {lang: analyse(text, lang) for lang in LANGUAGES}


def _contains(haystack: list[str], needle: tuple[str, ...]) -> bool:
    n = len(needle)
    return any(tuple(haystack[i : i + n]) == needle for i in range(len(haystack) - n + 1))


@dataclass(frozen=True)
class Glossary:
    """Entries of equivalent terms; ``expand`` finds those a question uses."""

    entries: tuple[tuple[Term, ...], ...] = ()

    def __len__(self) -> int:
        return len(self.entries)

    @cached_property
    def _by_first_stem(self) -> dict[tuple[str, str], list[int]]:
        """Entries by (language, first stem) of each of their terms, to look up only those
        whose terms can start in the question."""
        table: dict[tuple[str, str], list[int]] = {}
        for number, entry in enumerate(self.entries):
            for term in entry:
                slot = table.setdefault((term.language, term.stems[0]), [])
                if number not in slot:
                    slot.append(number)
        return table

    def expand(self, question: str, analysed: Mapping[str, list[str]] | None = None) -> Expansion:
        """Return the other terms of every entry that ``question`` uses, without repeats.

        ``analysed`` is the question's index terms by language when the caller has them already.
        """
        if not self.entries:
            return Expansion()
        analysed = analysed or analyse_all(question)
        numbers = sorted(
            {
                number
                for lang, stems in analysed.items()
                for stem in stems
                for number in self._by_first_stem.get((lang, stem), ())
            }
        )
        added: dict[tuple[str, str], Term] = {}
        covered: set[str] = set()
        for entry in (self.entries[n] for n in numbers):
            used = [t for t in entry if _contains(analysed[t.language], t.stems)]
            if not used:
                continue
            for term in used:
                covered.update(term.stems)
            for term in entry:
                if term not in used:
                    added.setdefault((term.language, term.text.lower()), term)
        return Expansion(tuple(added.values()), frozenset(covered))

    def to_json(self) -> list[dict[str, list[str]]]:
        """The entries as stored in the index: ``[{"fr": [...], "en": [...]}, ...]``."""
        out = []
        for entry in self.entries:
            item: dict[str, list[str]] = {}
            for term in entry:
                item.setdefault(term.language, []).append(term.text)
            out.append(item)
        return out

    @classmethod
    def from_entries(cls, entries: Iterable[object]) -> Glossary:
        """Build a glossary from ``{"fr": [...], "en": [...]}`` mappings, checking each.

        Raises ``GlossaryError`` naming the entry (1-based) when one is malformed.
        """
        built = []
        for number, item in enumerate(entries, start=1):
            where = f"entry {number}"
            if not isinstance(item, dict) or not item:
                raise GlossaryError(f"{where}: expected a mapping like {{fr: [...], en: [...]}}")
            terms = []
            for language, texts in item.items():
                if language not in LANGUAGES:
                    raise GlossaryError(f"{where}: unknown language {language!r} (use fr or en)")
                if isinstance(texts, str):
                    texts = [texts]
                if not isinstance(texts, list) or not all(
                    isinstance(t, str | int | float) for t in texts
                ):
                    raise GlossaryError(f"{where}: {language} must be a list of terms")
                for text in texts:
                    text = " ".join(str(text).split())
                    stems = tuple(analyse(text, language))
                    if not stems:
                        raise GlossaryError(f"{where}: {text!r} has only stop words")
                    terms.append(Term(text, language, stems))
            if len(terms) < 2:
                raise GlossaryError(f"{where}: an entry needs at least two terms")
            built.append(tuple(terms))
        return cls(tuple(built))


def uncovered_words(glossary: Glossary, texts: Iterable[tuple[str, str]]) -> list[tuple[str, int]]:
    """The content words of ``texts`` (``(text, language)`` pairs) that no glossary term of
    their language contains, with the number of texts that use each, most used first: the
    words a question in another language can only reach through the encoder. The team reads
    this list to decide which entries to add (``playbook glossary``)."""
    listed = {stem for entry in glossary.entries for term in entry for stem in term.stems}
    counts: dict[str, int] = {}
    for text, language in texts:
        for word in content_words(text):
            if not any(stem in listed for stem in analyse(word, language)):
                counts[word] = counts.get(word, 0) + 1
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def load_glossary(knowledge_dir: Path) -> Glossary:
    """Read ``glossary.yaml`` from ``knowledge_dir``; an empty glossary when there is none.

    Raises ``GlossaryError`` when the file exists but is not valid YAML or has a bad entry, or
    must not be read (``boundary.read_text``: a link outside the folder, not a regular file,
    too large).
    """
    try:
        data = read_team_file(knowledge_dir, GLOSSARY_FILE)
    except YamlRefused as exc:
        raise GlossaryError(str(exc)) from None
    if data is None:
        return Glossary()
    if not isinstance(data, list):
        raise GlossaryError("expected a list of entries like {fr: [...], en: [...]}")
    return Glossary.from_entries(data)

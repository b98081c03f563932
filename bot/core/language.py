"""Tell French from English (the bot's own words in each are in ``bot.core.messages``): a
question's language (``detect_language``) and the language to answer a command in
(``command_language``)."""

from __future__ import annotations

import re
import unicodedata

_WORDS = re.compile(r"[a-zàâäçéèêëîïôöùûüÿœæ]+", re.I)
# A French elision: "l'open", "d'utiliser", "qu'est", "s'adresse", "jusqu'au". Detection counts
# them on the text as written, because once split at the apostrophe "s", "t", "d" and "m" are
# also English contractions ("what's", "don't"): counting those as French made "Hey, what's
# open core?" French. Text analysis (``bot.core.knowledge.lexical``) removes them before tokenising.
ELISION = re.compile(
    r"\b(?:[cdjlmnst]|qu|jusqu|lorsqu|puisqu)['’](?=[a-zàâäçéèêëîïôöùûüÿœæh])", re.I
)

_FR = frozenset(
    [
        "le",
        "la",
        "les",
        "un",
        "une",
        "des",
        "du",
        "de",
        "et",
        "est",
        "sont",
        "que",
        "qui",
        "quoi",
        "quel",
        "quelle",
        "quels",
        "quelles",
        "comment",
        "pourquoi",
        "pour",
        "avec",
        "sur",
        "dans",
        "ce",
        "cette",
        "ces",
        "nous",
        "vous",
        "faut",
        "il",
        "elle",
        "on",
        "au",
        "aux",
        "ou",
        "où",
        "faire",
        "peut",
        "doit",
        "notre",
        "nos",
        "votre",
        "vos",
        "pas",
        "ne",
        "se",
        "combien",
        "quand",
        "y",
        "en",
        "son",
        "sa",
        "ses",
        "leur",
        "leurs",
        "entre",
        "plus",
        "moins",
        "très",
        "aussi",
        "faut-il",
        "est-ce",
        "quoi",
        "chez",
        "par",
        "sans",
        "mais",
        "donc",
        "car",
        "lorsque",
    ]
)
_EN = frozenset(
    [
        "the",
        "a",
        "an",
        "is",
        "are",
        "was",
        "were",
        "what",
        "how",
        "why",
        "who",
        "whom",
        "when",
        "which",
        "where",
        "should",
        "do",
        "does",
        "did",
        "we",
        "our",
        "you",
        "your",
        "to",
        "of",
        "in",
        "for",
        "with",
        "and",
        "can",
        "could",
        "need",
        "many",
        "much",
        "between",
        "from",
        "it",
        "its",
        "this",
        "that",
        "these",
        "those",
        "be",
        "been",
        "being",
        "have",
        "has",
        "had",
        "will",
        "would",
        "there",
        "their",
        "they",
        "them",
        "about",
        "into",
        "on",
        "at",
        "by",
        "or",
        "not",
        "if",
        "than",
        "then",
        "so",
        "my",
        "me",
        "i",
    ]
)


def detect_language(text: str, default: str = "fr") -> str:
    """Return ``"fr"`` or ``"en"``: the language of ``text`` by its function words and accents.

    Ties (a bare keyword such as "SaaS ?") return ``default``.
    """
    words = [w.lower() for w in _WORDS.findall(text.replace("’", "'").replace("'", " "))]
    fr = sum(w in _FR for w in words) + sum(1 for w in words if re.search(r"[àâçéèêëîïôûùœ]", w))
    fr += len(ELISION.findall(text))
    en = sum(w in _EN for w in words)
    if fr == en:
        return default
    return "fr" if fr > en else "en"


# The language of the commands' own words (``/checklist … reset``, ``/playbook reindex``): a
# command's replies are in it unless what the user typed with the command reads French.
COMMAND_LANGUAGE = "en"


def command_language(typed: str) -> str:
    """Return ``"fr"`` or ``"en"``: the language to answer a command in, that of what the user
    typed with it (``/checklist les piliers`` → ``"fr"``). When that does not tell (nothing, a
    bare name such as "pmf"), ``COMMAND_LANGUAGE``, the commands' own language. Slack sends no
    locale with a command, so the words typed are all both platforms go by: the same command
    gets the same language in Slack and in Discord."""
    return detect_language(typed, default=COMMAND_LANGUAGE)


def normalise_text(text: str) -> str:
    """``text`` as every reader of a question sees it: NFKC-normalised (decomposed accents
    composed, as macOS pastes them; fullwidth letters made plain), format characters removed
    (zero-width spaces and joiners, soft hyphens, byte-order marks) and runs of whitespace made
    one space. Returns the cleaned text (empty when nothing is left)."""
    folded = unicodedata.normalize("NFKC", text)
    kept = "".join(c for c in folded if unicodedata.category(c) != "Cf")
    return " ".join(kept.split())

"""Which lists of the pages a team would tick: the rule that makes a page's list a checklist.

Most lists of a knowledge base state facts ("Performance.", "Les virus.", "Mai 2024 : version
1.0."); nobody ticks those. A list becomes a checklist when it asks something of its reader:
more than half of its items, and two or more, are

- questions: the item's first sentence ends with ``?`` ("Pour qui résout-il ce problème ?");
- actions: the item, or the text after a short label ("Étape 1 : Identifier…"), starts with an
  infinitive or an imperative ("Gérer…", "De communiquer…", "Vérifiez…", "Ne recrutez…",
  "Check the…", "To write…", "Don't…");
- duties: its first clause says what must be done ("votre projet doit créer…", "… must …").

A list the sentence before it introduces as examples ("Voici quelques exemples :", "For
example:") illustrates a point and is not ticked, whatever its items look like.

Verb forms are read from the shape of the word, without a lexicon: a French infinitive ends in
``-er``, ``-ir`` or ``-re`` and an imperative in ``-ez`` (function words such as "votre" or
"entre" excepted); an English imperative is a word that is neither a function word nor shaped
like a noun plural, a gerund, a past form or an adverb, followed by a determiner or an object
("Check the logs", "Make sure…"). Pages override the rule with front matter (``checklists:``,
see ``bot.core.team.checklists``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache

from bot.core.language import detect_language

MIN_ITEMS = 2  # a single item is not a checklist
MIN_SHARE = 0.5  # more than this share of the items are actions, duties or questions
LABEL_WORDS = 6  # "Étape 1 : Identifier…": a label before a colon is this many words at most
CLAUSE_WORDS = 10  # a duty's modal verb comes within the first words of the item or its body

_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")
_LABEL = re.compile(r"^(?P<label>[^:?!.]{1,80}?)\s*:\s*(?P<body>.+)$", re.S)
_SENTENCE_END = re.compile(r"[.!?…]")
_PARENTHESES = re.compile(r"\([^()]*\)")
_CLOSERS = "\"'”’»)]*_ \t\n"

# French function words shaped like infinitives (bm25s's stop-word list has "notre" and
# "votre" but not these), and the two ordinal adjectives that are.
_FR_NOT_VERBS = frozenset(
    """
entre contre autre autres quatre outre hier premier dernier leur leurs plusieurs
""".split()  # noqa: SIM905 - a word list reads better as text
)
# Words that come before an infinitive without changing what it asks ("De communiquer…",
# "Ne pas oublier…", "Se concentrer…", "Vous assurer…").
_FR_BEFORE_INFINITIVE = frozenset(
    ["de", "d", "ne", "n", "pas", "se", "s", "vous", "nous", "me", "m", "te", "t"]
)
_FR_RE_VERB_ENDINGS = ("dre", "tre", "ire", "vre", "ure", "ncre", "mpre")
_FR_MODALS = frozenset(
    ["doit", "doivent", "devez", "devons", "dois", "devra", "devront", "devrez", "faut", "faudra"]
)
_FR_READER = frozenset(["vous", "votre", "vos", "nous", "notre", "nos"])
_EN_MODALS = frozenset(["must", "should"])
_EN_READER = frozenset(["you", "your", "we", "our"])
_EN_NEED = frozenset(["need", "needs", "have", "has"])  # "need to", "has to"
_EN_OBJECTS = frozenset(
    """
the a an your our their its my his her all each every any some this that these those it
them him me us sure up out down no
""".split()  # noqa: SIM905 - a word list reads better as text
)
_EN_NEGATIONS = ("don't", "do not", "never ", "always ", "don’t")
_EXAMPLE_WORDS = re.compile(r"\b(?:exemples?|examples?|e\.g\.|for instance)\b", re.I)


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@lru_cache(maxsize=1)
def _stop_words() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_EN, STOPWORDS_FRENCH

    return frozenset(_fold(w) for w in (*STOPWORDS_EN, *STOPWORDS_FRENCH))


def _words(text: str) -> list[str]:
    """The words of ``text``, folded, elisions split off: ``"D'avoir"`` → ``["d", "avoir"]``."""
    return _WORD.findall(_fold(text).replace("’", "'").replace("'", " "))


def is_question(text: str) -> bool:
    """Whether the item's first sentence is a question (a ``?`` in parentheses, a doubt such
    as "Candidature (?)", does not count)."""
    stripped = _PARENTHESES.sub("", text).strip().lstrip("\"'“‘«* ")
    match = _SENTENCE_END.search(stripped)
    if match is None:
        return stripped.rstrip(_CLOSERS).endswith("?")
    return match.group() == "?"


def _fr_infinitive(word: str) -> bool:
    """``word`` (folded) is shaped like a French infinitive: ``-er``, ``-ir``, or one of the
    endings of the ``-re`` verbs (prendre, mettre, dire, vivre, conclure, vaincre, rompre);
    "décembre", "genre" or "lumière" are not."""
    if word in _FR_NOT_VERBS or word in _stop_words():
        return False
    return word.endswith(("er", "ir", *_FR_RE_VERB_ENDINGS))


def _fr_action(words: Sequence[str]) -> bool:
    """``words`` start with a French infinitive or imperative."""
    position = 0
    if len(words) > 1 and words[0].endswith("ment"):  # "Premièrement, assumer…"
        position = 1
    after_pronoun = False
    while position < len(words) - 1 and words[position] in _FR_BEFORE_INFINITIVE:
        after_pronoun = after_pronoun or words[position] in ("vous", "nous")
        position += 1
    if position >= len(words):
        return False
    word = words[position].split("-")[0]
    if len(word) < 4:
        return False
    if word.endswith("ez"):  # "Vérifiez", "Soyez", "Concentrez-vous" (not "vous partez")
        return not after_pronoun
    return _fr_infinitive(word)


def _en_action(words: Sequence[str], text: str) -> bool:
    """``words`` start with an English imperative or infinitive."""
    lowered = text.strip().lower()
    if lowered.startswith(_EN_NEGATIONS):
        return True
    if words and words[0] == "to" and len(words) > 1:  # "To write the tests"
        words = words[1:]
    if len(words) < 2:
        return False
    first = words[0]
    if first in _stop_words() or len(first) < 2:
        return False
    if first.endswith(("ing", "ed", "ly")) or (first.endswith("s") and not first.endswith("ss")):
        return False
    return words[1] in _EN_OBJECTS


def _duty(words: Sequence[str], language: str) -> bool:
    """The first clause of ``words`` tells the reader what must be done: a modal verb after
    "vous", "votre", "il faut"… ("votre projet doit créer…", "you must…"); "les tâches
    doivent être…" describes, it does not ask."""
    head = list(words[:CLAUSE_WORDS])
    for position, word in enumerate(head):
        before = set(head[:position])
        if language == "fr" and word in _FR_MODALS:
            return word.startswith("f") or bool(before & _FR_READER)
        if language != "fr" and (
            word in _EN_MODALS or (word in _EN_NEED and head[position + 1 : position + 2] == ["to"])
        ):
            return bool(before & _EN_READER)
    return False


def _parts(text: str) -> list[str]:
    """Where an item's verb can be: its start, or, after a short label, the text after the
    colon (and the label itself when it has several words: "Soyez direct : …", not
    "Désir : …", which names a topic)."""
    match = _LABEL.match(text.strip())
    if not match or len(_words(match["label"])) > LABEL_WORDS:
        return [text]
    label = match["label"]
    return [label, match["body"]] if len(_words(label)) > 1 else [match["body"]]


def item_kind(text: str, language: str) -> str | None:
    """What a list item asks: ``"question"``, ``"action"``, ``"duty"``, or ``None`` (a fact)."""
    if is_question(text):
        return "question"
    for part in _parts(text):
        words = _words(part)
        if _fr_action(words) if language == "fr" else _en_action(words, part):
            return "action"
    for part in _parts(text):
        if _duty(_words(part), language):
            return "duty"
    return None


def introduces_examples(lead: str) -> bool:
    """Whether the sentence before a list presents it as examples."""
    return bool(_EXAMPLE_WORDS.search(lead))


def is_tickable(items: Sequence[str], lead: str = "") -> bool:
    """Whether a list with these item texts, after the sentence ``lead``, is one a team would
    tick: two or more items, more than half of them questions, actions or duties, and not
    introduced as examples."""
    if len(items) < MIN_ITEMS or introduces_examples(lead):
        return False
    language = detect_language(" ".join(items))
    asking = sum(item_kind(text, language) is not None for text in items)
    return asking > MIN_SHARE * len(items)

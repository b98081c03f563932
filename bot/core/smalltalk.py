"""Small talk: a message that asks nothing the knowledge base could answer. Greetings, thanks,
acknowledgements, laughter, emoji or punctuation alone ("merci !", "ok 👍", "Bonjour", "?")
get a short invitation to ask a question (``bot.core.messages``, ``smalltalk_*``), never a
quote.

The rule is general, not a list of messages: a message is small talk when none of its words
carries content. A word carries no content when it is a function word of French or English
(the stop and question words that retrieval ignores, ``bot.core.knowledge.lexical``), one of
the social words below (greetings, thanks, farewells, acknowledgements, interjections, the
"are you there" of a chat), or laughter ("haha", "mdr"); emoji (as characters or as
``:shortcodes:``) and punctuation are not words. Any other word, however short or unknown
("IA ?", "ça ?", a typo), makes the message a question for retrieval, which abstains or hedges
when it finds nothing. The social words are knowledge of the two languages, the same for every
knowledge base; nothing here comes from the pages.

What the message was (``act``) picks the reply: thanks, a farewell, a greeting, or anything
else (an acknowledgement, an emoji, a bare "?"). Its language is that of its social words
("thanks 👍" is English though it has no English function word), else ``detect_language``.
"""

from __future__ import annotations

import re
import unicodedata

from bot.core.knowledge.lexical import function_word
from bot.core.language import ELISION, detect_language

THANKS, FAREWELL, GREETING, OTHER = "thanks", "farewell", "greeting", "other"


def _set(words: str) -> frozenset[str]:
    """The words of a space-separated list."""
    return frozenset(words.split())


# Social words by act and language, accents as written (compared lower-cased and accent-folded).
_WORDS: dict[str, dict[str, frozenset[str]]] = {
    THANKS: {
        "fr": _set("merci mercis remercie remercier remerciements"),
        "en": _set("thanks thank thx tks tnx ty tyvm cheers appreciated"),
    },
    FAREWELL: {
        "fr": _set("revoir bientôt tchao ciao journée soirée week-end"),
        "en": _set("bye goodbye later cya day night weekend"),
    },
    GREETING: {
        "fr": _set("bonjour bonsoir salut coucou slt cc bjr"),
        "en": _set("hello hi hey hiya howdy greetings morning afternoon evening"),
    },
    OTHER: {
        # acknowledgements, approval, yes/no, interjections, "everyone", "are you there"
        "fr": _set(
            """
            accord dac daccord entendu compris reçu noté vu parfait nickel génial impeccable
            excellent bien bon bonne bonnes très trop vraiment beaucoup infiniment mille fois
            encore tout tous toutes monde gens oui ouais ouep non ah oh euh bah ben bref voilà
            là ici quelqu'un top super cool ok okay
            """
        ),
        "en": _set(
            """
            ok okay okey kk k alright fine sure great nice good perfect awesome cool super
            noted understood gotcha yes yeah yep yup nope no nah ah oh uh um hmm wow well
            much lot lots really everyone everybody folks guys anyone anybody there here
            """
        ),
    },
}
# Idioms whose words would carry content alone ("marche" is also "marché", market).
_PHRASES = {
    "fr": ("ça marche", "ca marche", "je vois", "de rien", "pas de souci", "pas de soucis"),
    "en": ("got it", "sounds good", "i see", "no problem", "no worries", "see you", "have a"),
}
_LAUGHTER = re.compile(
    r"(?:l+o+l+z?|mdr+|ptdr+|x+d+|lmf?ao+|rofl|(?:h+[aeiouéè]+){2,}h*|(?:[aeiouéè]+h+){2,}"
    r"[aeiouéè]*)",
)
# Emoji as chat platforms write them: ":+1:", ":slightly_smiling_face:", Discord's "<:name:id>".
_SHORTCODES = re.compile(r"<a?:\w+:\d+>|:[\w+\-']+:")
_WORD = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*")


def _fold(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _index() -> dict[str, tuple[str, str]]:
    """Each folded social word → (act, language); a word in both languages is ``both``."""
    found: dict[str, tuple[str, str]] = {}
    for act, languages in _WORDS.items():
        for language, words in languages.items():
            for word in words:
                key = _fold(word)
                previous = found.get(key)
                found[key] = (act, "both" if previous and previous[1] != language else language)
    return found


_SOCIAL = _index()


def _variants(word: str) -> tuple[str, ...]:
    """``word`` and its spellings with stretched letters shrunk ("merciii", "coool")."""
    return (word, re.sub(r"(.)\1{2,}", r"\1\1", word), re.sub(r"(.)\1+", r"\1", word))


def _words(text: str) -> tuple[list[str], list[str]]:
    """The words of ``text`` with emoji codes, elisions and the idioms taken out, and the
    languages of the idioms found."""
    text = _SHORTCODES.sub(" ", text.replace("’", "'")).lower()
    languages = []
    for language, phrases in _PHRASES.items():
        for phrase in phrases:
            if re.search(rf"\b{re.escape(phrase)}\b", text):
                text = re.sub(rf"\b{re.escape(phrase)}\b", " ", text)
                languages.append(language)
    text = ELISION.sub(" ", text)
    return _WORD.findall(text), languages


def _social(word: str) -> tuple[str, str] | None:
    """The social word ``word`` is, as (act, language), in any of its spellings; else None."""
    return next((_SOCIAL[v] for v in map(_fold, _variants(word)) if v in _SOCIAL), None)


def small_talk(text: str) -> str | None:
    """What ``text`` is when it asks nothing: ``THANKS``, ``FAREWELL``, ``GREETING`` or
    ``OTHER`` (an acknowledgement, laughter, emoji or punctuation alone); ``None`` when one of
    its words carries content (see the module docstring). A text without any word ("🙂🙂",
    "?") is ``OTHER``."""
    words, _ = _words(text)
    acts = set()
    for word in words:
        social = _social(word)
        if social is not None:
            acts.add(social[0])
        elif not (function_word(word) or _LAUGHTER.fullmatch(_fold(word))):
            return None
    return next((act for act in (THANKS, FAREWELL, GREETING) if act in acts), OTHER)


def small_talk_language(text: str) -> str:
    """The language to answer small talk in: that of most of its social words and idioms
    ("thanks 👍" → ``en``), else ``detect_language``."""
    words, languages = _words(text)
    votes = {"fr": languages.count("fr"), "en": languages.count("en")}
    for word in words:
        social = _social(word)
        if social is not None and social[1] in votes:
            votes[social[1]] += 1
    if votes["fr"] != votes["en"]:
        return "fr" if votes["fr"] > votes["en"] else "en"
    return detect_language(text)

import string

import pytest

from bot.core.language import command_language, detect_language, normalise_text
from bot.core.messages import MESSAGES


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Qu'est-ce que le modèle open core ?", "fr"),
        ("D'où vient ce résumé ?", "fr"),
        ("S'il faut choisir, quel modèle ?", "fr"),
        ("l'entonnoir", "fr"),
        ("What is value-market fit?", "en"),
        # English contractions split into "s", "t", "m", "d": not French elisions.
        ("Hey bot, quick question: what's open core?", "en"),
        ("It's the company's model, isn't it?", "en"),
        ("Don't we need PMF?", "en"),
        ("I'm new: what's the funnel?", "en"),
        ("SaaS ?", "fr"),  # nothing to go on: the default
    ],
)
def test_detect_language(text, language):
    assert detect_language(text) == language


def test_the_bot_answers_an_english_contraction_in_english(engine):
    answer = engine.ask("What's open core?")
    assert answer.lead == "Here is what the knowledge base says:"
    assert answer.quotes[0].citation.section == "Le modèle Open core"


@pytest.mark.parametrize(
    ("typed", "language"),
    [
        ("les piliers", "fr"),
        ("piliers réinitialiser", "fr"),
        ("three pillars reset", "en"),
        ("pmf", "en"),  # a bare name: the commands' own language
        ("", "en"),
    ],
)
def test_a_command_is_answered_in_the_language_typed_with_it(typed, language):
    assert command_language(typed) == language


def test_every_sentence_of_the_catalogue_is_in_french_and_in_english():
    """Both languages have every sentence, each with the same blanks to fill."""

    def blanks(text: str) -> set[str]:
        return {field for _, field, _, _ in string.Formatter().parse(text) if field}

    assert set(MESSAGES["fr"]) == set(MESSAGES["en"])
    for key in MESSAGES["fr"]:
        french, english = MESSAGES["fr"][key], MESSAGES["en"][key]
        assert french.strip() and english.strip(), key
        assert blanks(french) == blanks(english), key


def test_what_a_reload_did_is_told_in_the_admins_language():
    """The line an admin reads after ``/playbook reindex`` comes from the catalogue, in either
    language (logs keep English)."""
    from bot.core.knowledge.documents import DocumentError
    from bot.core.reload import ReloadResult

    done = ReloadResult(True, "requested by slack:U1", passages=28)
    assert done.describe() == "Knowledge reloaded (requested by slack:U1): 28 passages."
    assert done.describe("fr") == "Connaissances rechargées (requested by slack:U1) : 28 passages."
    broken = ReloadResult(False, "a page changed", errors=(DocumentError("a.md", "bad"),))
    assert broken.describe("fr").startswith(
        "Connaissances NON rechargées (a page changed) ; l'ancien index continue de servir : "
    )
    assert ReloadResult(False, "x").describe() == "Knowledge unchanged (x)."


@pytest.mark.parametrize(
    "typed",
    [
        "Qu'est-ce que le modèle Sa\u200baS ?",  # a zero-width space inside a word
        "Qu'est-ce que le modèle Sa\u00adaS ?",  # a soft hyphen
        "Qu'est-ce que le mode\u0300le SaaS ?",  # a decomposed accent, as macOS pastes it
        "Qu'est-ce que le modèle ＳａａＳ ?",  # fullwidth letters
        "\ufeffQu'est-ce que le  modèle\tSaaS ?",  # a byte-order mark, odd spaces
    ],
)
def test_invisible_and_composed_characters_do_not_change_the_answer(engine, typed):
    """Each of these, read as typed, cited another section (Le modèle de support, or Le
    cercle vertueux de l'open source for the decomposed accent)."""
    assert normalise_text(typed) == "Qu'est-ce que le modèle SaaS ?"
    answer = engine.ask(typed)
    assert answer.quotes[0].citation.section == "Le modèle SaaS"
    assert answer.question == "Qu'est-ce que le modèle SaaS ?"

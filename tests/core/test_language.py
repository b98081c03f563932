import pytest

from bot.core.language import detect_language


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

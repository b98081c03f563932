"""The rule that decides which lists of a page a team would tick."""

import pytest

from bot.core.team.tickable import is_question, is_tickable, item_kind


@pytest.mark.parametrize(
    ("items", "lead"),
    [
        (
            [
                "Gérer la feuille de route.",
                "De communiquer les décisions.",
                "D'intégrer l'analyse.",
            ],
            "",
        ),
        (["Vérifiez les accès.", "Ne recrutez personne de médiocre.", "Concentrez-vous."], ""),
        (["Étape 1 : Identifier les options.", "Étape 2 : Estimer les gains."], ""),
        (["Soyez direct : pas de détour.", "Ayez le bon objectif : aider."], ""),
        (["Check the logs before a release.", "Write the changelog.", "Don't skip review."], ""),
        (["To update the docs.", "Make sure the tests pass."], ""),
        (["Pour qui résout-il ce problème ?", "Quelles sont les alternatives ?"], ""),
        (["Who owns the budget?", "What is the deadline?"], ""),
        (["Fit : votre projet doit créer une communauté.", "Marché : vous devez vendre."], ""),
        (["Scope: you must agree on it.", "Risks: we need to list them."], ""),
    ],
    ids=[
        "fr-infinitives",
        "fr-imperatives",
        "labelled-steps",
        "labelled-imperatives",
        "en-imperatives",
        "en-infinitive",
        "fr-questions",
        "en-questions",
        "fr-duties",
        "en-duties",
    ],
)
def test_lists_that_ask_something_are_kept(items, lead):
    assert is_tickable(items, lead)


@pytest.mark.parametrize(
    ("items", "lead"),
    [
        (["Fiabilité, disponibilité, sécurité.", "Performance.", "Audit."], ""),
        (
            [
                "Les entreprises n'aiment pas le lock-in.",
                "Vos concurrents n'ont pas votre expertise.",
            ],
            "",
        ),
        (["Mai 2024 : version 1.0.", "Juin 2024 : candidature (?).", "Décembre 2024 : site."], ""),
        (["Désir : vous excitez le lecteur.", "Attention : vous captez l'attention."], ""),
        (["Les tâches doivent être modulaires.", "Les coûts doivent être faibles."], ""),
        (["The servers are in Paris.", "Backups run nightly.", "Users love it."], ""),
        (["Apprenez à coder en 24 h.", "Créez votre page en 2 h."], "Voici quelques exemples :"),
        (["Check the logs.", "Write the notes."], "For example:"),
        (["Vérifiez les accès."], ""),
        (["Vérifiez les accès.", "Le budget.", "La date."], ""),
    ],
    ids=[
        "noun-phrases",
        "statements",
        "months-and-doubts",
        "one-word-labels",
        "descriptions-with-modals",
        "en-statements",
        "examples-fr",
        "examples-en",
        "single-item",
        "minority-of-actions",
    ],
)
def test_lists_of_facts_and_examples_are_dropped(items, lead):
    assert not is_tickable(items, lead)


def test_item_kinds():
    assert item_kind("Quel est le problème ?", "fr") == "question"
    assert item_kind("“Pouvez-vous le prouver ?”", "fr") == "question"
    assert item_kind("Premièrement, assumer le succès.", "fr") == "action"
    assert item_kind("Vous distinguer de vos concurrents.", "fr") == "action"
    assert item_kind("Vous partez du problème.", "fr") is None  # indicative, not imperative
    assert item_kind("Le titre qui interpelle.", "fr") is None
    assert item_kind("Votre projet doit créer une communauté.", "fr") == "duty"
    assert item_kind("Using the cache.", "en") is None
    assert not is_question("Finir par une proposition (Oui?).")

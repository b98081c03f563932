"""Close reading of the ranking's head: the highlight that answers, a section's second passage,
and coverage (what abstention reads)."""

from __future__ import annotations

from bot.config import Settings
from bot.core.retrieval.engine import KnowledgeEngine

PAGE = """---
title: Recrutement
---

## Recruter des seniors

Une jeune entreprise hésite souvent à payer cher un profil expérimenté, et les fondateurs
préfèrent parfois former eux-mêmes des débutants motivés pendant les premières années.

Pourquoi devriez-vous recruter des seniors ? La raison est simple : le temps. Un senior a déjà
résolu les problèmes que vous découvrez, et il vous évite des mois d'erreurs coûteuses.

## Les congés

Les congés se posent dans l'outil RH deux semaines à l'avance, après accord du responsable.
"""


def _engine(tmp_path, embedder) -> KnowledgeEngine:
    kb = tmp_path / "kb"
    kb.mkdir()
    (kb / "recrutement.md").write_text(PAGE, encoding="utf-8")
    settings = Settings(knowledge_dir=kb, index_dir=tmp_path / "index")
    return KnowledgeEngine.open(settings, embedder=embedder)


def test_a_question_sentence_is_highlighted_with_the_sentence_that_answers_it(
    tmp_path, use_embedder
):
    answer = _engine(tmp_path, use_embedder).ask("Pourquoi embaucher des seniors ?")
    assert not answer.abstained
    first = answer.quotes[0]
    assert first.citation.section == "Recruter des seniors"
    assert "Pourquoi devriez-vous recruter des seniors ?" in first.highlight
    assert "La raison est simple : le temps." in first.highlight


def test_coverage_counts_a_word_the_passage_lacks(tmp_path, use_embedder):
    engine = _engine(tmp_path, use_embedder)
    retriever = engine.retriever
    asked = "Pourquoi recruter des seniors pour le football ?"
    pool = retriever.pool(asked, "fr")
    reading = retriever.reading(pool)
    number = next(
        i for i, p in enumerate(engine.index.passages) if "La raison est simple" in p.text
    )
    partial = retriever.reader.coverage(number, reading)
    whole = retriever.reader.coverage(
        number, retriever.reading(retriever.pool("seniors recruter", "fr"))
    )
    assert whole.least == 1.0 and whole.mean == 1.0  # every word is in the passage
    assert partial.least < 0.5 and partial.mean < 1.0  # "football" is not

"""Passage-level evaluation: the file formats, the answer-span check, and the figures a run
reports (answer@k, highlight@1, section@k with pages, out of scope by kind)."""

from __future__ import annotations

import pytest

from bot.core.retrieval.evaluation import (
    EvalFileError,
    EvalQuestion,
    evaluate,
    holds_answer,
    load_questions,
    score_answer,
    summarise,
)
from bot.core.types import Answer, Citation, Quote


def _quote(pid: str, section: str, before: str, highlight: str, after: str = "") -> Quote:
    return Quote(pid, before, highlight, after, Citation(section, (section,), f"#{pid}"), 0.5)


def test_answer_and_highlight_are_read_in_the_quotes_shown():
    """The span is in the second quote only, and the first quote's highlight holds most of a
    second span: answer@1 misses, answer@3 hits at rank 2, highlight@1 holds; the section is
    right by title on both pages, right by page only on the second."""
    question = EvalQuestion(
        "Quel est le risque ?",
        ("Le modèle Open core",),
        "b.md",
        ("le principal problème avec ce modèle", "placer la limite entre gratuit et payant"),
    )
    answer = Answer(
        question.question,
        "fr",
        "lead",
        (
            _quote("p1", "Le modèle Open core", "Il faut ", "placer la limite entre gratuit", "…"),
            _quote("p2", "Le modèle Open core", "…", "Le principal problème avec ce modèle", "."),
        ),
        abstained=False,
    )
    scored = score_answer(question, answer, {"p1": "a.md", "p2": "b.md"})
    assert scored["rank"] == 1 and scored["page_rank"] == 2
    assert scored["answer_rank"] == 2  # 5 of the second span's 7 words in p1: under 3/4
    assert scored["highlighted"]  # ...but more than half of them, in p1's highlight
    assert scored["first_quote_chars"] == len("Il faut placer la limite entre gratuit…")


def test_holds_answer_accepts_the_span_or_three_quarters_of_it_in_one_run():
    span = "Le principal problème avec ce modèle est la difficulté de placer la limite"
    quote = "…et puis **le principal problème** avec ce modèle est la difficulté de placer…"
    assert holds_answer(span, quote)  # 11 of 13 words in one run, emphasis ignored
    assert not holds_answer(span, "Le principal problème. Avec ce modèle, rien.")
    assert holds_answer("l’open core", "L'open core")  # apostrophe styles are the same word
    assert not holds_answer("", "anything")


def test_both_file_formats_load(tmp_path):
    path = tmp_path / "set.yaml"
    path.write_text(
        "- question: Quel est le risque ?\n"
        "  sections: [Le modèle Open core]\n"
        "  answer: [un, deux]\n"
        "- question: Who won the cup?\n"
        "  lang: en\n"
        "  page: null\n"
        "  section: null\n"
        "  answer: null\n"
        "  kind: unrelated\n"
        "- question: Combien ?\n"
        "  page: a/index.md\n"
        "  section: Titre\n"
        "  answer: la réponse\n",
        encoding="utf-8",
    )
    first, second, third = load_questions(path)
    assert first == EvalQuestion(
        "Quel est le risque ?", ("Le modèle Open core",), None, ("un", "deux")
    )
    assert second.sections == () and second.kind == "unrelated" and second.lang == "en"
    assert third.page == "a/index.md" and third.sections == ("Titre",)
    assert third.answers == ("la réponse",)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("- question: q\n  kind: off-topic\n  section: null\n", "kind must be one of"),
        ("- question: q\n  section: [a]\n", "section must be a title"),
        ("- question: q\n  section: a\n  answer: 3\n", "answer must be a text span"),
        ("- question: q\n  lang: de\n", "lang must be fr or en"),
    ],
)
def test_a_malformed_item_is_named(tmp_path, text, problem):
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(EvalFileError, match=problem):
        load_questions(path)


def test_figures_read_the_quotes_as_the_user_sees_them(engine):
    """Run through the engine: the right section on the right page, the right section
    labelled with another page, an unrelated and a near-topic question."""
    risk = "Le principal problème avec ce modèle"
    right = EvalQuestion(
        "Le modèle open core, qu'est-ce que c'est ?",
        ("Le modèle Open core",),
        "commercialisation.md",
        (engine.index.passages[0].text.split(".")[0],),
    )
    wrong_page = EvalQuestion(
        "Le modèle open core, qu'est-ce que c'est ?", ("Le modèle Open core",), "other.md", (risk,)
    )
    out = [
        EvalQuestion("Quelle est la meilleure recette de crêpes ?", (), kind="unrelated"),
        EvalQuestion("What is the best CRM for a sales team?", (), kind="near-topic"),
    ]
    outcomes = evaluate(engine, [right, wrong_page, *out])
    assert outcomes[0].rank == 1 and outcomes[0].page_rank == 1
    assert outcomes[1].rank == 1 and outcomes[1].page_rank is None
    summary = summarise(outcomes)
    assert summary["hit@1"] == 1.0 and summary["section@1"] == 0.5
    assert summary["answered_items"] == 2
    assert summary["out_of_scope_by_kind"] == {
        "near-topic": {"questions": 1, "abstained": 1},
        "unrelated": {"questions": 1, "abstained": 1},
    }
    assert summary["first_quote_chars"] > 0
    assert set(summary["by_language"]) == {"fr", "en"}
    assert summary["by_language"]["en"]["out_of_scope"] == 1


def test_small_talk_items_are_right_when_declined(engine, tmp_path):
    """``kind: smalltalk`` loads; the small-talk reply and an abstention both decline; an
    in-scope question is never taken for small talk."""
    path = tmp_path / "chat.yaml"
    path.write_text(
        '- {question: "merci !", lang: fr, section: null, answer: null, kind: smalltalk}\n'
        '- {question: "c\'est quoi ça ?", section: null, answer: null, kind: smalltalk}\n'
        '- {question: "Red Hat, quel modèle ?", sections: [Le modèle de support]}\n',
        encoding="utf-8",
    )
    thanks, vague, support = evaluate(engine, load_questions(path))
    assert thanks.smalltalk and thanks.abstained and thanks.cited == ()
    assert not vague.smalltalk and vague.abstained  # a question, without a content word
    assert not support.smalltalk and support.rank == 1
    summary = summarise([thanks, vague, support])
    assert summary["smalltalk"] == 2 and summary["smalltalk_declined"] == 2
    assert summary["smalltalk_replies"] == 1 and summary["smalltalk_in_scope"] == 0
    assert summary["out_of_scope_by_kind"] == {"smalltalk": {"questions": 2, "abstained": 2}}
    assert summary["by_language"]["fr"]["smalltalk_declined"] == 2

"""The team's example questions (knowledge/examples.yaml): parsing, storage, ranking, and the
leave-one-set-out evaluation."""

import pytest

from bot.config import Settings
from bot.core.knowledge.build import build_index
from bot.core.knowledge.examples import (
    Example,
    ExamplesError,
    load_examples,
    parse_examples,
    resolve_sections,
)
from bot.core.knowledge.index import load_index, stale_reason
from bot.core.retrieval.engine import KnowledgeEngine
from bot.core.retrieval.evaluation import EvalQuestion, evaluate

RELIABILITY = "Is reliability something customers will pay for?"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"question": "x"}, "expected a list of entries"),
        (["What is open core?"], "entry 1: expected a mapping with a question"),
        ([{"question": "What is open core?"}], "entry 1: 'What is open core\\?' needs a non-empty"),
        ([{"question": "What is SaaS?", "sections": []}], "entry 1: .* needs a non-empty list"),
        (
            [
                {"question": "a b", "sections": ["Le modèle SaaS"]},
                {"question": "c", "sections": [1]},
            ],
            "entry 2: sections must be section titles",
        ),
    ],
)
def test_malformed_examples_are_named(data, message):
    with pytest.raises(ExamplesError, match=message):
        parse_examples(data)


def test_missing_empty_and_broken_files(tmp_path):
    assert load_examples(tmp_path) == []
    (tmp_path / "examples.yaml").write_text("")
    assert load_examples(tmp_path) == []
    (tmp_path / "examples.yaml").write_text("- question: [open\n")
    with pytest.raises(ExamplesError, match="cannot be read as YAML"):
        load_examples(tmp_path)
    (tmp_path / "examples.yaml").write_text(
        "- question: '  Qu’est-ce que  le SaaS ?'\n  sections: Le modèle SaaS\n"
    )
    assert load_examples(tmp_path) == [Example("Qu’est-ce que le SaaS ?", ("Le modèle SaaS",))]


def test_titles_match_loosely_and_unknown_titles_are_named():
    titles = ["Commercialisation", "Le modèle SaaS", "Le modèle  Open core"]
    examples = [
        Example("What is SaaS?", ("le modèle saas",)),
        Example("What is open core?", ("Le modèle Open core", "Le modèle du futur")),
    ]
    usable, problems = resolve_sections(examples, titles)
    assert usable == [("What is SaaS?", (1,))]
    assert problems == [
        "entry 2: no section is titled 'Le modèle du futur' ('What is open core?' left out)"
    ]


def test_the_index_stores_the_examples_and_goes_stale_when_they_change(kb, tmp_path, fake_embedder):
    (kb / "examples.yaml").write_text(
        "- question: Who sells our support?\n  sections: [Le modèle de support]\n"
        "- question: Where is the roadmap?\n  sections: [Nowhere]\n",
        encoding="utf-8",
    )
    report = build_index(kb, tmp_path / "idx", fake_embedder)
    assert [str(e) for e in report.errors] == [
        "examples.yaml: entry 2: no section is titled 'Nowhere' ('Where is the roadmap?' left out)"
    ]
    index = load_index(tmp_path / "idx")
    assert index.examples == ["Who sells our support?"]
    [numbers] = index.example_sections
    assert [index.sections[n].section for n in numbers] == ["Le modèle de support"]
    assert index.example_vectors.shape == (2, fake_embedder.dim)
    assert stale_reason(index, kb, "fake@1") is None
    with (kb / "examples.yaml").open("a", encoding="utf-8") as f:
        f.write("- question: What is SaaS?\n  sections: [Le modèle SaaS]\n")
    assert "examples" in stale_reason(index, kb, "fake@1")


def test_a_broken_examples_file_is_reported_and_the_pages_still_indexed(
    kb, tmp_path, fake_embedder
):
    (kb / "examples.yaml").write_text("- question: What is SaaS?\n", encoding="utf-8")
    report = build_index(kb, tmp_path / "idx", fake_embedder)
    assert [str(e) for e in report.errors] == [
        "examples.yaml: entry 1: 'What is SaaS?' needs a non-empty list of sections"
    ]
    index = load_index(tmp_path / "idx")
    assert len(index.passages) == report.passages > 20
    assert index.examples == []


def _engine(kb, tmp_path, embedder, examples: str | None) -> KnowledgeEngine:
    path = kb / "examples.yaml"
    if examples is None:
        path.unlink(missing_ok=True)
    else:
        path.write_text(examples, encoding="utf-8")
    name = "with" if examples else "without"
    settings = Settings(knowledge_dir=kb, index_dir=tmp_path / f"index-{name}")
    return KnowledgeEngine.open(settings, embedder=embedder)


def test_an_example_question_brings_its_section_first(kb, tmp_path, use_embedder):
    """Without examples the reliability question is answered from the three pillars first; a
    colleague's differently worded question, labelled with Value-market fit, steers it there."""
    without = _engine(kb, tmp_path, use_embedder, None).ask(RELIABILITY)
    assert without.cited_sections[0] == "Les trois piliers du succès"
    example = (
        "- question: Would customers pay for better reliability?\n  sections: [Value-market fit]\n"
    )
    answer = _engine(kb, tmp_path, use_embedder, example).ask(RELIABILITY)
    assert answer.cited_sections[0] == "Value-market fit"
    assert not answer.abstained
    assert "Fiabilité, disponibilité, sécurité." in answer.quotes[0].text


def test_an_example_is_no_evidence(kb, tmp_path, use_embedder):
    """Examples steer the ranking, not the decision to answer: even a question that is itself
    an example (here a silly one) abstains when the pages do not answer it."""
    silly = "Quelle est la meilleure recette de crêpes ?"
    engine = _engine(
        kb, tmp_path, use_embedder, f"- question: {silly}\n  sections: [Le modèle SaaS]\n"
    )
    answer = engine.ask(silly)
    assert answer.abstained and answer.quotes == ()
    assert answer.lead.startswith("Je n'ai rien trouvé")


def test_evaluation_leaves_out_the_examples_of_the_set_it_scores(kb, tmp_path, use_embedder):
    """An example labelled with a wrong section decides the ranking of its own question when
    asked, but not when that question is scored: the figures are those of a new question."""
    wrong = f"- question: {RELIABILITY}\n  sections: [Le modèle SaaS]\n"
    engine = _engine(kb, tmp_path, use_embedder, wrong)
    assert engine.ask(RELIABILITY).cited_sections == ["Le modèle SaaS"]
    [outcome] = evaluate(engine, [EvalQuestion(RELIABILITY, ("Le modèle SaaS",))])
    assert outcome.rank is None
    assert outcome.cited[0] == "Les trois piliers du succès"
    assert engine.ask(RELIABILITY).cited_sections == ["Le modèle SaaS"]  # restored after

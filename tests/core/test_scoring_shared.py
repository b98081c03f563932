"""The engine and the tuning script (bench/tune.py) share one scoring: a weight changed in
``FusionParams``, or a formula changed in ``bot.core.retrieval.scoring``, moves the engine's
ranking and the script's offline scoring alike."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from bench import tune
from bot.core.language import detect_language
from bot.core.retrieval import scoring
from bot.core.retrieval.evaluation import EvalQuestion
from bot.core.retrieval.search import FusionParams, Retriever

# Questions of eval/dev-questions.yaml whose first passage or highlight moves when one
# close-reading weight is raised from 0.
MOVED = [
    ("Qu'est-ce que le value-market fit ?", {"passage_overlap_weight": 1.0}),
    ("What are the stages of the open source funnel?", {"coverage_weight": 1.0}),
    (
        "Que doit gérer le product manager ?",
        {"sentence_overlap_weight": 1.0, "passage_overlap_weight": 0.5},
    ),
]


def _question(text: str) -> EvalQuestion:
    return EvalQuestion(question=text, sections=("?",))


def _engine_top(engine, params: FusionParams, question: str) -> tuple[int, int]:
    """The engine's first passage and the first sentence of its highlight (in the passage)."""
    retriever = Retriever(engine.index, engine.embedder, params)
    hit = retriever.search(question).hits[0]
    return hit.number, hit.best_sentence - retriever.reader.sentences(hit.number).start


def _tune_top(engine, read: tune.Read, params: FusionParams, question: str) -> tuple[int, int]:
    """The tuning script's first passage and highlighted sentence, on its recorded head."""
    retriever = engine.retriever
    pool = retriever.pool(question, detect_language(question))
    head = pool.head(retriever.params.reading_depth)
    position, sentence = tune.rank(read, params)
    return int(pool.cand[head[position]]), sentence


@pytest.mark.parametrize(("question", "changes"), MOVED)
def test_a_weight_changed_in_fusion_params_moves_the_engine_and_the_tuning_alike(
    engine, question, changes
):
    read = tune.record(engine, _question(question), "bundled")
    before = engine.retriever.params
    after = replace(before, **changes)
    assert _engine_top(engine, before, question) == _tune_top(engine, read, before, question)
    moved = _engine_top(engine, after, question)
    assert moved != _engine_top(engine, before, question)
    assert moved == _tune_top(engine, read, after, question)


def test_a_formula_changed_in_scoring_moves_the_engine_and_the_tuning_alike(engine, monkeypatch):
    question, changes = MOVED[1]
    read = tune.record(engine, _question(question), "bundled")
    params = replace(engine.retriever.params, **changes)
    normal = _engine_top(engine, params, question)
    # Coverage now counts against a passage (a bonus for what it leaves out: the head keeps
    # the lead, since the bonus stays positive).
    monkeypatch.setattr(scoring, "coverage_bonus", lambda cover, p: p.coverage_weight * (1 - cover))
    changed = _engine_top(engine, params, question)
    assert changed != normal
    assert changed == _tune_top(engine, read, params, question)


def test_the_abstention_threshold_is_read_alike(engine, monkeypatch):
    question = MOVED[0][0]
    read = tune.record(engine, _question(question), "bundled")
    base = engine.retriever.params
    table = tune.ranked([read], base)
    support = float(tune.supports(table, base)[0])
    for shift, abstains in ((0.01, True), (-0.01, False)):
        params = replace(base, min_evidence=support + shift)
        retriever = Retriever(engine.index, engine.embedder, params)
        assert retriever.search(question).abstain is abstains
        assert bool(tune.outcomes(table, params)["abstained"][0]) is abstains
    # The formula changed in one place: both abstain.
    monkeypatch.setattr(scoring, "abstains", lambda s, p: np.asarray(s) > -np.inf)
    assert Retriever(engine.index, engine.embedder, base).search(question).abstain
    assert bool(tune.outcomes(table, base)["abstained"][0])

import numpy as np

from bot.core.search import FusionParams, Retriever


def test_dense_candidates_match_brute_force(engine):
    """The FAISS pool the retriever reads equals a numpy brute-force ranking."""
    index = engine.index
    query = engine.embedder.embed(["Comment fonctionne le modèle SaaS ?"])[0]
    _, ids = index.dense.search(query[None, :], len(index.passages))
    oracle = np.argsort(-(index.vectors @ query), kind="stable")
    assert list(ids[0]) == list(oracle)


def test_small_candidate_pool_gives_the_same_ranking(engine):
    """Candidates outside the dense pool still get exact scores, so a small pool changes
    nothing at this corpus size."""
    full = Retriever(engine.index, engine.embedder, FusionParams(candidate_pool=1000))
    small = Retriever(engine.index, engine.embedder, FusionParams(candidate_pool=5))
    question = "Why do customers dislike vendor lock-in?"
    assert full.search(question).hits[0].number == small.search(question).hits[0].number


def test_cross_lingual_question_reaches_french_passage(engine):
    result = engine.retriever.search("Why do customers dislike vendor lock-in?")
    top = engine.index.passages[result.hits[0].number]
    assert result.language == "en"
    assert top.citation.section == "Le modèle SaaS"
    assert not result.abstain

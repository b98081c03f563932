import numpy as np
import pytest

from bot.core.retrieval.search import FusionParams, Retriever


def test_dense_candidates_match_brute_force(engine):
    """The nearest passages the retriever reads equal a numpy brute-force ranking."""
    index = engine.index
    query = engine.embedder.embed(["Comment fonctionne le modèle SaaS ?"])[0]
    ids, scores = index.dense.search(query, len(index.passages))
    oracle = np.argsort(-(index.vectors @ query), kind="stable")
    assert list(ids) == list(oracle)
    assert scores[0] == pytest.approx(float(index.vectors[oracle[0]] @ query))


def test_small_candidate_pool_gives_the_same_first_answer(engine):
    """A pool that scores a third of the passages or fewer still finds the passage the
    whole index ranks first."""
    full = Retriever(engine.index, engine.embedder, FusionParams(candidate_pool=1000))
    small_pool = FusionParams(candidate_pool=2, example_weight=0)
    small = Retriever(engine.index, engine.embedder, small_pool)
    question = "Why do customers dislike vendor lock-in?"
    assert len(small.pool(question, "en").cand) <= len(engine.index.passages) / 3
    assert len(full.pool(question, "en").cand) == len(engine.index.passages)
    assert full.search(question).hits[0].number == small.search(question).hits[0].number


def test_the_pool_is_bounded_whatever_the_question_matches(engine):
    """Each first-stage list (nearest passages, BM25, word expansion) gives at most
    ``candidate_pool`` candidates, so what is scored after it does not grow with the index."""
    params = FusionParams(candidate_pool=4, example_weight=0)
    retriever = Retriever(engine.index, engine.embedder, params)
    question = "Le modèle open source, le support, le SaaS et l'open core : quel modèle choisir ?"
    pool = retriever.pool(question, "fr")
    assert 4 <= len(pool.cand) <= 12
    assert len(pool.sentence_offsets) == len(pool.cand) + 1
    assert pool.sentence_sims.size == pool.sentence_offsets[-1]
    wide = Retriever(engine.index, engine.embedder, FusionParams(example_weight=0))
    assert len(wide.pool(question, "fr").cand) > len(pool.cand)


def test_cross_lingual_question_reaches_french_passage(engine):
    result = engine.retriever.search("Why do customers dislike vendor lock-in?")
    top = engine.index.passages[result.hits[0].number]
    assert result.language == "en"
    assert top.citation.section == "Le modèle SaaS"
    assert not result.abstain


def test_an_english_question_over_the_french_page_cites_the_section_that_answers(engine):
    """With the default embedder and the team's examples, an English question over the French
    page cites the section that answers first."""
    question = "How can an open source company make money?"
    wanted = {"Le cercle vertueux de l'open source", "Les modèles de commercialisation"}
    assert engine.ask(question).cited_sections[0] in wanted


class CountingRanker:
    """The real e5 embedder, counting the questions it embeds."""

    def __init__(self, ranker):
        self.ranker = ranker
        self.id, self.dim = ranker.id, ranker.dim
        self.questions = 0

    def embed_queries(self, texts):
        self.questions += len(texts)
        return self.ranker.embed_queries(texts)


def test_e5_is_only_asked_when_use_hesitates(dual_engine):
    """A question whose best section USE ranks clearly, in French or in English, never runs
    e5; one it hesitates on (``ranker_gate``) runs it once, in either language."""
    from bot.core.knowledge.embedders import DualEmbedder

    engine = dual_engine
    counting = CountingRanker(engine.embedder.ranker)
    retriever = Retriever(
        engine.index,
        DualEmbedder(engine.embedder.primary, counting),
        FusionParams(example_weight=0),
    )

    def top_section(question):
        return engine.index.passages[retriever.search(question).hits[0].number].citation.section

    assert top_section("Qu'est-ce que le modèle open core ?") == "Le modèle Open core"
    assert top_section("What is the open core model?") == "Le modèle Open core"
    assert counting.questions == 0  # USE leads clearly: e5 is not needed
    retriever.search("How can an open source company make money?")
    assert counting.questions == 1
    retriever.search("Les utilisateurs peuvent-ils devenir des prospects ?")
    assert counting.questions == 2
    always = Retriever(
        engine.index,
        DualEmbedder(engine.embedder.primary, counting),
        FusionParams(ranker_gate=float("inf"), example_weight=0),
    )
    always.search("What is the open core model?")
    assert counting.questions == 3


def test_the_teams_example_questions_settle_what_use_hesitates_on(dual_engine):
    """When one of the team's example questions is close to the question, its sections are
    what the team said answers it: e5 does not run to overrule them."""
    from bot.core.knowledge.embedders import DualEmbedder

    counting = CountingRanker(dual_engine.embedder.ranker)
    dual = DualEmbedder(dual_engine.embedder.primary, counting)
    question = "How can an open source company make money?"
    Retriever(dual_engine.index, dual, FusionParams(example_weight=0)).search(question)
    assert counting.questions == 1
    with_examples = Retriever(dual_engine.index, dual, FusionParams())
    assert with_examples.example_bonus(with_examples.query_vector(question))
    with_examples.search(question)
    assert counting.questions == 1


def test_evidence_does_not_depend_on_which_encoder_ranks(dual_engine):
    """Abstention reads the same USE score, word expansion included, whether e5 re-ranks or
    not: "Which signals show that our community is healthy?" used to abstain only when e5
    re-ranked it, because the expansion's bonus was then left out of the evidence."""
    index, embedder = dual_engine.index, dual_engine.embedder
    with_e5 = Retriever(index, embedder, FusionParams(ranker_gate=float("inf")))
    use_only = Retriever(index, embedder, FusionParams(ranker_gate=0.0))
    for question in (
        "Which signals show that our community is healthy?",
        "How can an open source company make money?",
        "What is the best CRM for a sales team?",
    ):
        ranked_by_e5, ranked_by_use = with_e5.search(question), use_only.search(question)
        assert ranked_by_e5.evidence == pytest.approx(ranked_by_use.evidence), question
        assert ranked_by_e5.abstain == ranked_by_use.abstain, question
    assert not with_e5.search("Which signals show that our community is healthy?").abstain


class ShortestFirst:
    """A fake re-ranker that prefers the shortest passage: an order unlike the fused one."""

    id = "shortest-first"

    def __init__(self, top):
        self.top = top
        self.calls = 0

    def score(self, question, texts):
        self.calls += 1
        return -np.array([len(t) for t in texts], np.float32)


def test_the_cross_encoder_stage_is_off_by_default(engine):
    """Without a re-ranker the engine has no cross-encoder stage: the pool leaves as it came."""
    assert engine.reranker is None and engine.retriever.reranker is None
    pool = engine.retriever.pool("Red Hat, quel modèle ?", "fr")
    assert engine.retriever.cross_rerank("Red Hat, quel modèle ?", pool) is pool


def test_the_re_ranker_orders_the_head_and_leaves_the_rest(engine):
    """The ``top`` best passages come in the re-ranker's order, carrying the fused scores of
    the head in their order; the hits after them are those without it."""
    question = "Comment gagner de l'argent avec un logiciel libre ?"
    plain = Retriever(engine.index, engine.embedder).search(question).hits
    fake = ShortestFirst(top=6)
    ranked = Retriever(engine.index, engine.embedder, reranker=fake).search(question).hits
    passages = engine.index.passages
    head = [h.number for h in plain[:6]]
    wanted = sorted(head, key=lambda n: len(passages[n].embedding_text))
    assert wanted != head  # the fake disagrees with the fused order
    assert [h.number for h in ranked[:6]] == wanted
    assert [h.score for h in ranked[:6]] == [h.score for h in plain[:6]]
    assert [h.number for h in ranked[6:]] == [h.number for h in plain[6:]]
    assert fake.calls == 1


def test_a_re_ranker_cannot_make_the_bot_answer_what_it_declines(engine):
    """Abstention reads the same evidence and the same best passage with a re-ranker as
    without: an out-of-scope question still abstains, an in-scope one still answers, each
    hedged as before."""
    plain = Retriever(engine.index, engine.embedder)
    reranked = Retriever(engine.index, engine.embedder, reranker=ShortestFirst(top=20))
    # Read at the fake's first passage, the coverage would let the vacation policy through
    # and make the tax question abstain: the abstention must read the passage it reads today.
    for question in (
        "What is our company's vacation policy for developers?",
        "Comment payer mes impôts en ligne ?",
        "What is the best CRM for a sales team?",
        "Red Hat, quel modèle ?",
    ):
        before, after = plain.search(question), reranked.search(question)
        assert (after.abstain, after.hedged, after.unknown) == (
            before.abstain,
            before.hedged,
            before.unknown,
        ), question
        assert after.evidence == before.evidence, question
    vacation = plain.search("What is our company's vacation policy for developers?")
    assert vacation.abstain or vacation.hedged  # declined: nothing, or the "not sure" lead
    red_hat = plain.search("Red Hat, quel modèle ?")
    assert not red_hat.abstain and not red_hat.hedged


@pytest.fixture(scope="module")
def tiny_cross_encoder(tiny_cross_encoder_dir):
    """A tiny random cross-encoder made on the spot, loaded as the bot loads one."""
    from bot.core.retrieval.rerank import make_reranker

    return make_reranker(str(tiny_cross_encoder_dir), top=8)


def test_a_real_cross_encoder_orders_the_head_by_its_scores(engine, tiny_cross_encoder):
    """With a sentence-transformers CrossEncoder, the first ``top`` hits come in the order of
    the model's scores of (question, breadcrumb + passage), which is not the fused order."""
    question = "Que faire si un grand fournisseur cloud héberge notre logiciel ?"
    plain = Retriever(engine.index, engine.embedder).search(question).hits
    ranked = Retriever(engine.index, engine.embedder, reranker=tiny_cross_encoder)
    hits = ranked.search(question).hits
    head = [h.number for h in plain[:8]]
    texts = [engine.index.passages[n].embedding_text for n in head]
    scores = tiny_cross_encoder.score(question, texts)
    wanted = [head[i] for i in np.argsort(-scores, kind="stable")]
    assert wanted != head
    assert [h.number for h in hits[:8]] == wanted

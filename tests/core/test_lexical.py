import numpy as np
import pytest

from bot.core.knowledge.lexical import LexicalIndex, Postings, analyse

DOCS = [
    "Le modèle open core vend des fonctionnalités propriétaires autour d'un cœur libre.",
    "Le support payant : Red Hat vend du support et de la maintenance.",
    "Le SaaS héberge le logiciel libre pour ses clients.",
    "",
    "Open source, open core, open everything: le modèle compte.",
]


@pytest.fixture(scope="module")
def docs():
    return [analyse(d, "fr") for d in DOCS]


def test_bm25_scores_are_lucenes_as_bm25s_gives_them(docs):
    import bm25s

    reference = bm25s.BM25()
    reference.index([d or ["\u2205"] for d in docs], show_progress=False)
    index = LexicalIndex.build(docs)
    for query in (["modele", "open"], ["support"], ["open", "open", "cor"], ["absent"]):
        known = [t for t in query if t in reference.vocab_dict]
        expected = (
            np.asarray(reference.get_scores(known)) if known else np.zeros(len(docs), np.float32)
        )
        assert np.allclose(index.postings(query).dense(index.size), expected, atol=1e-5), query


def test_postings_list_only_passages_that_hold_a_term(docs):
    index = LexicalIndex.build(docs)
    found = index.postings(analyse("support", "fr"))
    assert found.ids.tolist() == [1] and found.values[0] > 0
    assert index.postings(["absent"]).ids.size == 0
    both = found.plus(index.postings(analyse("SaaS", "fr")))
    assert both.ids.tolist() == [1, 2]
    assert both.at(np.array([0, 1, 2, 4])).tolist()[0] == 0.0
    assert both.unit().values.max() == pytest.approx(1.0)
    assert set(index.postings(analyse("open modèle", "fr")).top(2).tolist()) <= {0, 4, 1}


def test_the_index_round_trips_memory_mapped_and_checks_its_size(docs, tmp_path):
    index = LexicalIndex.build(docs)
    index.save(tmp_path / "bm25")
    loaded = LexicalIndex.load(tmp_path / "bm25", len(docs))
    assert np.array_equal(
        loaded.postings(["open"]).dense(loaded.size), index.postings(["open"]).dense(index.size)
    )
    assert all(loaded.knows(t) for t in analyse("SaaS", "fr")) and not loaded.knows("absent")
    assert loaded.idf("absent") == loaded.rarest_idf > loaded.idf("open")
    with pytest.raises(ValueError):
        LexicalIndex.load(tmp_path / "bm25", len(docs) + 1)


def test_rows_rebuild_the_same_index(docs):
    """An incremental build copies passages' rows; the same rows give the same scores."""
    index = LexicalIndex.build(docs)
    ids = [index.row(n)[0] for n in range(len(docs))]
    counts = [index.row(n)[1] for n in range(len(docs))]
    indptr = np.zeros(len(docs) + 1, np.int64)
    np.cumsum([len(i) for i in ids], out=indptr[1:])
    again = LexicalIndex.from_arrays(
        index.terms, indptr, np.concatenate(ids), np.concatenate(counts)
    )
    assert np.allclose(
        again.postings(["modele", "open"]).dense(again.size),
        index.postings(["modele", "open"]).dense(index.size),
    )
    assert isinstance(again.postings(["open"]), Postings)

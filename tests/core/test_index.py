import json

import numpy as np
import pytest

from bot.config import Settings
from bot.core.knowledge.build import build_index
from bot.core.knowledge.index import (
    CURRENT,
    FORMAT_VERSION,
    IndexCorrupt,
    IndexMissing,
    load_index,
    stale_reason,
)
from bot.core.knowledge.lexical import analyse
from bot.core.retrieval.engine import open_index
from tests.conftest import FakeEmbedder


def test_build_writes_a_manifest_and_loads_back(kb, tmp_path, fake_embedder):
    report = build_index(kb, tmp_path / "idx", fake_embedder)
    index = load_index(tmp_path / "idx")
    m = index.manifest
    assert m["format"] == FORMAT_VERSION
    assert m["embedder"] == {"id": "fake@1", "dim": 64}
    assert set(m["sources"]) == {"commercialisation.md", "glossary.yaml", "examples.yaml"}
    assert m["passages"] == report.passages == len(index.passages) > 20
    assert index.vectors.shape == (report.passages, 64)
    assert np.allclose(np.linalg.norm(index.vectors, axis=1), 1.0, atol=1e-5)
    assert (tmp_path / "idx" / CURRENT).read_text() == report.path.name


def test_reindexing_embeds_only_changed_text(kb, tmp_path):
    first = FakeEmbedder()
    build_index(kb, tmp_path / "idx", first)
    page = kb / "commercialisation.md"
    page.write_text(
        page.read_text().replace("Redhat est le plus ancien", "Red Hat est le plus ancien")
    )
    second = FakeEmbedder()
    report = build_index(kb, tmp_path / "idx", second)
    # one passage and one sentence changed (plus possibly a new vocabulary word)
    assert 2 <= report.embedded <= 4
    assert report.reused > 500
    index = load_index(tmp_path / "idx")
    assert any("Red Hat est le plus ancien" in p.text for p in index.passages)


def test_stale_index_is_detected(kb, tmp_path, fake_embedder):
    build_index(kb, tmp_path / "idx", fake_embedder)
    index = load_index(tmp_path / "idx")
    assert stale_reason(index, kb, "fake@1") is None
    assert "embedder" in stale_reason(index, kb, "use-multilingual@9")
    (kb / "new.md").write_text("## Pricing\n\nA new page about pricing tiers and discounts.\n")
    assert "changed" in stale_reason(index, kb, "fake@1")


@pytest.mark.parametrize("damage", ["truncate_vectors", "garbage_manifest", "bad_pointer"])
def test_corrupt_index_is_detected_and_rebuilt(kb, tmp_path, damage):
    idx = tmp_path / "idx"
    report = build_index(kb, idx, FakeEmbedder())
    if damage == "truncate_vectors":
        path = report.path / "vectors.npy"
        path.write_bytes(path.read_bytes()[:100])
    elif damage == "garbage_manifest":
        (report.path / "manifest.json").write_text("{not json")
    else:
        (idx / CURRENT).write_text("v-missing")
    with pytest.raises(IndexCorrupt):
        load_index(idx)
    messages = []
    settings = Settings(knowledge_dir=kb, index_dir=idx)
    index = open_index(settings, FakeEmbedder(), notify=messages.append)
    assert len(index.passages) == report.passages
    assert messages and "corrupt" in messages[0]


def test_missing_index_is_built_with_a_message(kb, tmp_path):
    with pytest.raises(IndexMissing):
        load_index(tmp_path / "idx")
    messages = []
    settings = Settings(knowledge_dir=kb, index_dir=tmp_path / "idx")
    index = open_index(settings, FakeEmbedder(), notify=messages.append)
    assert index.passages
    assert messages == [f"Building the index in {tmp_path / 'idx'}: there is none yet."]


def test_other_embedder_or_format_triggers_a_rebuild(kb, tmp_path):
    idx = tmp_path / "idx"
    build_index(kb, idx, FakeEmbedder(id="fake@1"))
    messages = []
    settings = Settings(knowledge_dir=kb, index_dir=idx)
    index = open_index(settings, FakeEmbedder(id="fake@2"), notify=messages.append)
    assert index.embedder_id == "fake@2"
    assert "built with the embedder fake@1" in messages[0]
    manifest_path = index.path / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["format"] = 0
    manifest_path.write_text(json.dumps(manifest))
    messages.clear()
    open_index(settings, FakeEmbedder(id="fake@2"), notify=messages.append)
    assert "format 0" in messages[0]


def test_builds_are_atomic_and_old_ones_pruned(kb, tmp_path, fake_embedder):
    idx = tmp_path / "idx"
    paths = [build_index(kb, idx, fake_embedder).path for _ in range(4)]
    remaining = sorted(p.name for p in idx.glob("v-*"))
    assert remaining == sorted(p.name for p in paths[-2:])
    assert not list(idx.glob(".tmp-*"))
    assert load_index(idx).path == paths[-1]


def test_a_bad_page_is_skipped_and_reported(kb, tmp_path, fake_embedder):
    (kb / "broken.md").write_text("---\ntitle: [oops\n---\nText\n")
    report = build_index(kb, tmp_path / "idx", fake_embedder)
    assert [e.path for e in report.errors] == ["broken.md"]
    assert report.pages == 1


def test_faiss_search_matches_a_numpy_oracle():
    import faiss

    rng = np.random.default_rng(7)
    data = rng.normal(size=(500, 32)).astype(np.float32)
    data /= np.linalg.norm(data, axis=1, keepdims=True)
    queries = rng.normal(size=(20, 32)).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    index = faiss.IndexFlatIP(32)
    index.add(data)
    scores, ids = index.search(queries, 10)
    oracle = queries @ data.T
    expected = np.argsort(-oracle, axis=1)[:, :10]
    assert np.array_equal(ids, expected)
    assert np.allclose(scores, np.take_along_axis(oracle, expected, axis=1), atol=1e-5)


def test_an_unchanged_page_keeps_its_rows_and_a_removed_one_leaves_nothing(kb, tmp_path):
    idx = tmp_path / "idx"
    (kb / "team.md").write_text(
        "---\ntitle: Équipe\n---\n## Astreinte\n\nLa rotation zymurgique change chaque lundi.\n"
    )
    build_index(kb, idx, FakeEmbedder())
    first = load_index(idx)
    team = [n for n, p in enumerate(first.passages) if p.source == "team.md"]
    (kb / "team.md").write_text(
        "---\ntitle: Équipe\n---\n## Astreinte\n\nLa rotation change chaque mardi.\n"
    )
    embedder = FakeEmbedder()
    report = build_index(kb, idx, embedder)
    second = load_index(idx)
    kept = [n for n, p in enumerate(first.passages) if p.source != "team.md"]
    # the bundled page was neither parsed again nor embedded: its rows are the same bytes
    assert np.array_equal(second.vectors[: len(kept)], first.vectors[kept])
    assert report.embedded <= 3 and embedder.texts <= 4
    assert any("mardi" in p.text for p in second.passages)
    assert "zymurgique" in first.vocabulary.words and "zymurgique" not in second.vocabulary.words
    (kb / "team.md").unlink()
    build_index(kb, idx, FakeEmbedder())
    third = load_index(idx)
    assert len(third.passages) == len(first.passages) - len(team)
    assert not any(p.source == "team.md" for p in third.passages)
    assert third.lexical.size == len(third.passages)
    assert not any(third.lexical.knows(t) for t in analyse("mardi", "fr"))


@pytest.mark.parametrize("damage", ["manifest_is_a_list", "pointer_not_utf8"])
def test_an_unreadable_manifest_or_pointer_means_rebuild(kb, tmp_path, damage):
    idx = tmp_path / "idx"
    report = build_index(kb, idx, FakeEmbedder())
    if damage == "manifest_is_a_list":
        (report.path / "manifest.json").write_text("[1, 2]")
    else:
        (idx / CURRENT).write_bytes(b"\xff\xfe\x00v-")
    with pytest.raises(IndexCorrupt):
        load_index(idx)
    messages = []
    index = open_index(Settings(knowledge_dir=kb, index_dir=idx), FakeEmbedder(), messages.append)
    assert len(index.passages) == report.passages
    assert "corrupt" in messages[-1]


def test_a_build_that_died_leaves_nothing_behind_at_the_next_start(kb, tmp_path):
    """A folder left by a killed build (its lock held by no one) is removed, and said; one
    whose build is running is kept."""
    import fcntl
    import os

    idx = tmp_path / "idx"
    build_index(kb, idx, FakeEmbedder())
    dead = idx / ".tmp-v-1"
    dead.mkdir()
    (dead / "vectors.npy").write_bytes(b"half written")
    (dead / ".building").touch()
    running = idx / ".tmp-v-2"
    running.mkdir()
    handle = os.open(running / ".building", os.O_CREAT | os.O_RDWR)
    fcntl.flock(handle, fcntl.LOCK_EX)
    try:
        messages = []
        open_index(Settings(knowledge_dir=kb, index_dir=idx), FakeEmbedder(), messages.append)
        assert not dead.exists() and running.exists()
        assert messages[0] == "Removed .tmp-v-1, left by a build that did not finish."
    finally:
        os.close(handle)


def test_a_build_asked_to_stop_leaves_the_current_index_and_no_folder(kb, tmp_path):
    """A shutdown during a re-index: the build stops at its next step, removes its temporary
    folder, and the current build stays the one served."""
    import threading

    from bot.core.knowledge.index import BuildAbandoned

    idx = tmp_path / "idx"
    first = build_index(kb, idx, FakeEmbedder())
    paragraphs = "\n\n".join(
        f"Le paragraphe numéro {n} parle de la vente de support." for n in range(200)
    )
    (kb / "more.md").write_text(f"## Plus\n\n{paragraphs}\n")
    cancel = threading.Event()

    def stop_after_the_first_batch(done: int, _total: int) -> None:
        if done:
            cancel.set()

    with pytest.raises(BuildAbandoned):
        build_index(kb, idx, FakeEmbedder(), cancel=cancel, progress=stop_after_the_first_batch)
    assert load_index(idx).path == first.path
    assert not list(idx.glob(".tmp-*"))


def test_a_new_base_url_relinks_without_embedding_again(kb, tmp_path):
    build_index(kb, tmp_path / "idx", FakeEmbedder(), base_url="https://old.example/kb/")
    report = build_index(kb, tmp_path / "idx", FakeEmbedder(), base_url="https://new.example/")
    assert report.embedded == 0
    assert report.reused > 500
    index = load_index(tmp_path / "idx")
    assert all(p.citation.link.startswith("https://new.example/") for p in index.passages)
    assert all(c.link.startswith("https://new.example/") for c in index.sections)


def test_a_renamed_page_keeps_its_vectors(kb, tmp_path):
    build_index(kb, tmp_path / "idx", FakeEmbedder())
    (kb / "commercialisation.md").rename(kb / "vendre.md")
    report = build_index(kb, tmp_path / "idx", FakeEmbedder())
    assert report.embedded == 0
    index = load_index(tmp_path / "idx")
    assert {p.source for p in index.passages} == {"vendre.md"}


def test_retitling_a_section_page_updates_the_breadcrumbs_of_the_pages_under_it(kb, tmp_path):
    """A page's citations carry the titles of its parent folders' ``_index.md``: when one
    is retitled, the pages under it are read again though their own bytes did not change."""
    idx = tmp_path / "idx"
    (kb / "vente").mkdir()
    (kb / "vente" / "_index.md").write_text("---\ntitle: Vente\n---\n")
    (kb / "vente" / "acheteur").mkdir()
    (kb / "vente" / "acheteur" / "index.md").write_text(
        "---\ntitle: L'acheteur\n---\n## Ses questions\n\nIl veut savoir ce qu'il gagne.\n"
    )
    build_index(kb, idx, FakeEmbedder())
    labels = {c.label for c in load_index(idx).sections}
    assert "Vente › L'acheteur › Ses questions" in labels
    (kb / "vente" / "_index.md").write_text("---\ntitle: Compétence - Vente\n---\n")
    build_index(kb, idx, FakeEmbedder())
    index = load_index(idx)
    labels = {c.label for c in index.sections}
    assert "Compétence - Vente › L'acheteur › Ses questions" in labels
    assert "Vente › L'acheteur › Ses questions" not in labels
    quoted = next(p for p in index.passages if "gagne" in p.text)
    assert quoted.citation.label == "Compétence - Vente › L'acheteur › Ses questions"


def test_the_source_hashes_read_only_regular_files_inside_the_folder(kb, tmp_path):
    """What tells a change is read like the files themselves: a glossary linked to a file
    outside the folder, a named pipe of examples and a page linked to a device are never
    opened (a pipe would block the reload watcher for ever)."""
    import os

    from bot.core.knowledge.index import source_hashes

    outside = tmp_path / "outside.yaml"
    outside.write_text("- fr: [secret]\n  en: [secret]\n")
    (kb / "glossary.yaml").unlink()
    (kb / "glossary.yaml").symlink_to(outside)
    (kb / "examples.yaml").unlink()
    os.mkfifo(kb / "examples.yaml")
    (kb / "zero.md").symlink_to("/dev/zero")
    hashes = source_hashes(kb)
    assert sorted(hashes) == ["commercialisation.md"]


def test_a_megabyte_line_without_punctuation_indexes_in_bounded_time_and_memory(tmp_path):
    """A pasted log line (1 MB of words, no sentence end) is cut into bounded passages, and a
    pasted base64 blob (1 MB, one line) is left out: the build takes seconds and little
    memory, not minutes and gigabytes."""
    import base64
    import random
    import subprocess
    import sys

    kb = tmp_path / "kb"
    kb.mkdir()
    blob = base64.b64encode(random.Random(3).randbytes(750_000)).decode()
    words = " ".join(random.Random(3).choice(["GET", "200", "api", "user"]) for _ in range(250_000))
    (kb / "log.md").write_text(f"# Log\n\n{words}\n", encoding="utf-8")
    (kb / "blob.md").write_text(f"# Blob\n\nUne image encodée.\n\n{blob}\n", encoding="utf-8")
    (kb / "ok.md").write_text("# Ok\n\nUne page ordinaire sur les tarifs.\n", encoding="utf-8")
    script = f"""
import json
from pathlib import Path
from bot.core.knowledge.build import build_index
from bot.core.knowledge.index import load_index
from bot.core.knowledge.passages import split_sentences
from tests.conftest import FakeEmbedder
report = build_index(Path({str(kb)!r}), Path({str(tmp_path / "idx")!r}), FakeEmbedder())
index = load_index(Path({str(tmp_path / "idx")!r}))
print(json.dumps({{
    "passages": [len(p.text) for p in index.passages],
    "blob": [p.text for p in index.passages if p.source == "blob.md"],
    "sentences": max(len(s) for p in index.passages for s in split_sentences(p.text)),
    "errors": [str(e) for e in report.errors],
    # VmHWM: this program's own peak (ru_maxrss would carry the forking test runner's).
    "peak_mb": int(next(
        line.split()[1] for line in open("/proc/self/status") if line.startswith("VmHWM:")
    )) / 1024,
}}))
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    result = json.loads(done.stdout)
    assert result["errors"] == []
    assert len(result["passages"]) > 500  # the megabyte of words is indexed, in pieces
    assert result["blob"] == ["Une image encodée."]
    assert max(result["passages"]) <= 1800
    assert result["sentences"] <= 900
    assert result["peak_mb"] < 600


def test_identical_passages_and_titles_are_embedded_once_per_build(tmp_path):
    """A page of thousands of copies of one paragraph, or of one heading and its text, costs
    one embedding per distinct text, and every copy still has its vectors and is found."""
    kb = tmp_path / "kb"
    kb.mkdir()
    paragraph = "Le même paragraphe revient, mot pour mot, et il est assez long pour rester seul."
    (kb / "same.md").write_text("# Copies\n\n" + "\n\n".join([paragraph] * 3000) + "\n")
    (kb / "notes.md").write_text(
        "# Journal\n\n"
        + "".join("## Notes\n\nUn texte court sur la paie.\n\n" for _ in range(2000))
    )
    embedder = FakeEmbedder()
    report = build_index(kb, tmp_path / "idx", embedder)
    index = load_index(tmp_path / "idx")
    assert report.passages == len(index.passages) >= 3000 + 2000
    # Two distinct passages (each: itself, its label, its sentences), two titles, the words.
    assert embedder.texts < 100
    copies = [n for n, p in enumerate(index.passages) if p.text.startswith("Le même")]
    vectors = np.asarray(index.vectors.range(0, len(index.passages)))
    assert np.allclose(vectors[copies], vectors[copies[0]])
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    owners = index.sentence_owner
    sentences = np.asarray(index.sentence_vectors.range(0, len(owners)), np.float32)
    last = int(np.flatnonzero(owners == copies[-1])[0])
    first = int(np.flatnonzero(owners == copies[0])[0])
    assert np.allclose(sentences[last], sentences[first], atol=1e-3)
    assert np.allclose(np.linalg.norm(sentences, axis=1), 1.0, atol=1e-2)
    titles = [n for n, c in enumerate(index.sections) if c.section == "Notes"]
    assert len(titles) == 2000
    assert np.allclose(index.title_vectors[titles], index.title_vectors[titles[0]])

"""Shared fixtures: the real bundled embedder (loaded once), a deterministic fake, and an engine
over the bundled knowledge base."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

import numpy as np
import pytest

from bot.config import Settings
from bot.core.knowledge.embedders import Embedder, UseMultilingualEmbedder, make_embedder, normalise
from bot.core.retrieval.engine import KnowledgeEngine
from bot.core.retrieval.search import FusionParams
from tests.helpers import KNOWLEDGE, copy_knowledge

ROOT = KNOWLEDGE.parent


class FakeEmbedder:
    """Deterministic bag-of-words hashing embedder; counts the texts it embeds."""

    def __init__(self, dim: int = 64, id: str = "fake@1") -> None:
        self.dim = dim
        self.id = id
        self.calls = 0
        self.texts = 0

    def embed(self, texts):
        self.calls += 1
        self.texts += len(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                h = int(hashlib.md5(word.encode()).hexdigest(), 16)
                out[row, h % self.dim] += 1.0
            out[row, 0] += 1e-3  # never a zero vector
        return normalise(out)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    """A working directory with a copy of the bundled knowledge base, one per test module."""
    return copy_knowledge(tmp_path_factory.mktemp("work"))


@pytest.fixture
def kb(tmp_path) -> Path:
    """A copy of the bundled knowledge base that a test may edit: ``tmp_path / "knowledge"``."""
    return copy_knowledge(tmp_path) / "knowledge"


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture(scope="session")
def use_embedder() -> UseMultilingualEmbedder:
    return UseMultilingualEmbedder()


@pytest.fixture(scope="session")
def default_embedder() -> Embedder:
    """The default embedder (USE), as ``playbook`` builds it."""
    return make_embedder()


@pytest.fixture(scope="session")
def engine(tmp_path_factory, default_embedder) -> KnowledgeEngine:
    settings = Settings(
        knowledge_dir=KNOWLEDGE, index_dir=tmp_path_factory.mktemp("index") / "index"
    )
    return KnowledgeEngine.open(settings, embedder=default_embedder)


@pytest.fixture(scope="session")
def dual_embedder() -> Embedder:
    """USE and multilingual-e5-small side by side (``PLAYBOOK_EMBEDDER=use+e5``)."""
    return make_embedder("use+e5")


@pytest.fixture(scope="session")
def dual_engine(tmp_path_factory, dual_embedder) -> KnowledgeEngine:
    """An engine over the bundled knowledge base with ``use+e5``, its example questions left
    out (``example_weight=0``) so that e5's own ranking is what the tests see."""
    settings = Settings(
        knowledge_dir=KNOWLEDGE, index_dir=tmp_path_factory.mktemp("dual") / "index"
    )
    opened = KnowledgeEngine.open(settings, embedder=dual_embedder)
    return KnowledgeEngine(opened.index, dual_embedder, params=FusionParams(example_weight=0))


@pytest.fixture(scope="session")
def tiny_cross_encoder_dir(tmp_path_factory) -> Path:
    """The folder of a tiny random cross-encoder made on the spot (tests/cross_encoder.py)."""
    from tests.cross_encoder import make_tiny_cross_encoder

    return make_tiny_cross_encoder(tmp_path_factory.mktemp("tiny-cross-encoder"))


def pytest_sessionfinish(session, exitstatus):
    """On CI a skipped test fails the run: no suite may be skipped silently."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if os.environ.get("CI") and skipped and exitstatus == 0:
        reporter.write_line(f"CI: {skipped} test(s) skipped; failing the run.", red=True)
        session.exitstatus = 1

"""The close-reading stage: the ``reading_depth`` best candidates are read sentence by sentence
(``reading.PassageReader``): each passage's highlight, and, when their weights ask for them,
the sentences' term overlaps and the passages' coverage of the question's words as bonuses
(``scoring.sentence_scores``, ``overlap_bonus``, ``coverage_bonus``). Signals whose weights
are zero are not computed."""

from __future__ import annotations

import numpy as np

from bot.core.knowledge.index import KnowledgeIndex
from bot.core.retrieval import scoring
from bot.core.retrieval.params import FusionParams
from bot.core.retrieval.pool import Pool
from bot.core.retrieval.reading import Coverage, PassageReader, QuestionWords


def highlight(
    index: KnowledgeIndex,
    span: range,
    local: np.ndarray,
    p: FusionParams,
    best: int | None = None,
) -> tuple[int, int]:
    """The first and last sentence (numbers in ``KnowledgeIndex.sentences``) of the highlight
    of the passage whose sentences are ``span``, given their scores ``local``: the best one
    (or its sentence ``best``), and the next one too when it announces it ("…three types:",
    "Why hire seniors?") or the next scores within ``highlight_window`` of it."""
    best = int(np.argmax(local)) if best is None else best
    first = span.start + best
    if best + 1 < len(span):
        window = p.highlight_window
        leads_on = index.sentences[first].rstrip().endswith((":", "?"))
        if leads_on or (window > 0 and float(local[best + 1]) >= float(local[best]) - window):
            return first, first + 1
    return first, first


def read_head(
    pool: Pool,
    reading: QuestionWords,
    reader: PassageReader,
    index: KnowledgeIndex,
    p: FusionParams,
) -> tuple[np.ndarray, dict[int, tuple[int, int]], dict[int, Coverage]]:
    """Read the ``reading_depth`` best candidates of ``pool`` closely. Returns the
    candidates' scores with the overlap and coverage bonuses added, each passage's highlight
    (first and last sentence, by passage number), and the coverage of the passages it
    computed (only when ``coverage_weight`` asks for it)."""
    fused = pool.fused.copy()
    overlapping = p.sentence_overlap_weight > 0 or p.passage_overlap_weight > 0
    highlights: dict[int, tuple[int, int]] = {}
    coverage: dict[int, Coverage] = {}
    for i in pool.head(p.reading_depth):
        number = int(pool.cand[i])
        span = reader.sentences(number)
        if len(span):
            local = pool.local(int(i))
            if overlapping:
                overlap = reader.overlaps(number, reading)
                local = scoring.sentence_scores(local, overlap, p)
            highlights[number] = highlight(index, span, local, p)
            if overlapping:
                best = float(overlap[highlights[number][0] - span.start])
                fused[i] += scoring.overlap_bonus(best, p)
        if p.coverage_weight > 0:
            coverage[number] = reader.coverage(number, reading)
            fused[i] += scoring.coverage_bonus(coverage[number].mean, p)
    return fused, highlights, coverage

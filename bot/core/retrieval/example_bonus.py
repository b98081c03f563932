"""The bonus of example questions: those of the team's ``examples.yaml`` and those taught in
the chat. A section gains ``example_weight`` × how far its closest example question is above
a floor in similarity to the question (``example_floor`` for the team's, ``learned_floor``
for taught ones, times their strength). They steer the ranking, not the evidence."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from bot.core.retrieval import scoring


class ExampleBonus:
    """``queries``: the example questions' query vectors (unit rows), ``keys`` their
    ``example_key`` and ``sections`` the section numbers each points to."""

    def __init__(
        self, queries: np.ndarray, keys: Sequence[str], sections: Sequence[Sequence[int]]
    ) -> None:
        self._queries = queries
        self._keys = list(keys)
        self._sections = sections
        # Example questions left out (``example_key`` form): an evaluation leaves out the set
        # it scores, so its figures are those of new questions.
        self.ignored: frozenset[str] = frozenset()
        self._taught = np.zeros((0, 1), np.float32)
        self._taught_sections = np.zeros(0, np.int64)
        self._taught_weights = np.zeros(0, np.float32)

    def teach(self, vectors: np.ndarray, sections: Sequence[int], weights: np.ndarray) -> None:
        """Use these taught examples from now on, instead of the earlier ones (``vectors``:
        their query vectors; ``sections``: the section each points to; ``weights``: each
        one's weight, its strength times ``learned_weight``)."""
        self._taught = (
            np.asarray(vectors, np.float32).reshape(len(sections), -1)
            if len(sections)
            else np.zeros((0, 1), np.float32)
        )
        self._taught_sections = np.asarray(sections, np.int64)
        self._taught_weights = np.asarray(weights, np.float32)

    def bonus(
        self, query: np.ndarray, weight: float, floor: float, taught_floor: float
    ) -> dict[int, float]:
        """By section number: the bonus from the example questions closest to ``query``
        (``weight`` × similarity above ``floor``, or above ``taught_floor`` times its own
        weight for a taught one), the best per section."""
        best: dict[int, float] = {}
        if not (len(self._queries) or len(self._taught_sections)) or weight <= 0:
            return best
        if len(self._queries):
            gains = scoring.example_bonus(self._queries @ query, weight, floor)
            for i in np.flatnonzero(gains > 0).tolist():
                if self._keys[i] not in self.ignored:
                    for section in self._sections[i]:
                        best[section] = max(best.get(section, 0.0), float(gains[i]))
        if len(self._taught_sections):
            self._taught_bonus(query, weight, taught_floor, best)
        return best

    def _taught_bonus(
        self, query: np.ndarray, weight: float, floor: float, best: dict[int, float]
    ) -> None:
        """Add to ``best`` the bonus of the taught examples close to the question: the best
        per section (vectorised: there may be thousands)."""
        above = self._taught @ query - floor
        hit = np.flatnonzero(above > 0)
        if not len(hit):
            return
        values = weight * self._taught_weights[hit] * above[hit]
        sections = self._taught_sections[hit]
        order = np.lexsort((values, sections))  # by section, then ascending bonus
        sections, values = sections[order], values[order]
        last = np.append(np.flatnonzero(np.diff(sections)), len(sections) - 1)
        for section, bonus in zip(sections[last].tolist(), values[last].tolist(), strict=True):
            if bonus > best.get(section, 0.0):
                best[section] = bonus

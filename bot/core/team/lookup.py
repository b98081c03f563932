"""Forgiving checklist lookup: ids, titles, aliases, abbreviations, typos, any accents or case."""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz import fuzz

from bot.core.team.checklists import Checklist, fold

MATCH_SCORE = 80.0  # a fuzzy match at least this good is taken
TIE_MARGIN = 3.0  # ... unless another checklist scores within this margin (ambiguous)


@dataclass(frozen=True)
class Lookup:
    """The result of looking a name up: the checklist found, or the closest ones."""

    checklist: Checklist | None
    suggestions: tuple[Checklist, ...]


class ChecklistBook:
    """The checklists of the knowledge base, found by any of their names."""

    def __init__(self, checklists: list[Checklist]) -> None:
        self.checklists = list(checklists)
        # By folded id ("product market fit"): an id names one checklist, whatever titles or
        # aliases other checklists share with it.
        self._ids = {fold(c.id): c for c in self.checklists}
        self._names: list[tuple[str, Checklist]] = []
        for checklist in self.checklists:
            names = {checklist.id.replace("-", " "), checklist.title, *checklist.aliases}
            for name in names:
                folded = fold(name)
                if folded:
                    self._names.append((folded, checklist))

    def get(self, checklist_id: str) -> Checklist | None:
        """The checklist with exactly this id, or ``None``."""
        return next((c for c in self.checklists if c.id == checklist_id), None)

    def _scores(self, query: str) -> list[tuple[float, Checklist]]:
        best: dict[str, tuple[float, Checklist]] = {}
        for name, checklist in self._names:
            score = fuzz.WRatio(query, name)
            if len(query) <= 4 or len(name) <= 4:  # abbreviations: no partial matching
                score = fuzz.ratio(query, name)
            if score > best.get(checklist.id, (-1.0, checklist))[0]:
                best[checklist.id] = (score, checklist)
        return sorted(best.values(), key=lambda pair: -pair[0])

    def find(self, name: str, suggestions: int = 3) -> Lookup:
        """Find the checklist called ``name``: the one whose id it is, else the one a title or
        alias names; when none matches well, the closest ones."""
        query = fold(name)
        if not query:
            return Lookup(None, tuple(self.checklists[:suggestions]))
        if query in self._ids:
            return Lookup(self._ids[query], ())
        exact = {c.id: c for folded, c in self._names if folded == query}
        if len(exact) == 1:
            return Lookup(next(iter(exact.values())), ())
        ranked = self._scores(query)
        if exact:  # several checklists share the name: let the user choose
            return Lookup(None, tuple(exact.values())[:suggestions])
        clear = len(ranked) == 1 or (ranked and ranked[1][0] < ranked[0][0] - TIE_MARGIN)
        if ranked and ranked[0][0] >= MATCH_SCORE and clear:
            return Lookup(ranked[0][1], ())
        return Lookup(None, tuple(c for _, c in ranked[:suggestions]))

    def complete(self, text: str, limit: int = 25) -> list[Checklist]:
        """Checklists for an autocomplete box: all of them for no text, else the closest."""
        query = fold(text)
        if not query:
            return self.checklists[:limit]
        return [c for score, c in self._scores(query) if score > 40][:limit]

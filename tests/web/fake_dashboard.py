"""A fake ``DashboardData``: fixed records for every page, and a record of every change the
pages asked for (so that a test sees what a click did, or that a refused POST did nothing)."""

from __future__ import annotations

import yaml

from bot.core.team.dashboard_types import (
    ChecklistProgress,
    ExampleView,
    FeedbackView,
    GapView,
    Overview,
    Trial,
)

SCRIPT = "<script>alert(1)</script>"


def overview() -> Overview:
    """Three days on two platforms, with every outcome."""
    return {
        "days": 30,
        "first_day": "2024-05-01",
        "last_day": "2024-05-03",
        "questions": 12,
        "answered": 8,
        "unsure": 2,
        "declined": 2,
        "platforms": ["slack", "discord"],
        "per_day": [
            {"day": "2024-05-01", "platform": "slack", "answered": 3, "unsure": 1, "declined": 0},
            {"day": "2024-05-01", "platform": "discord", "answered": 1, "unsure": 0, "declined": 1},
            {"day": "2024-05-03", "platform": "slack", "answered": 4, "unsure": 1, "declined": 1},
        ],
        "latency_ms": {"p50": 412.0, "p95": 1234.4, "max": 2010.0},
        "up": 5,
        "down": 3,
        "index": {
            "pages": 42,
            "passages": 1337,
            "built_at": "2024-05-03T09:15:00+00:00",
            "age_seconds": 7300.0,
            "skipped": ["drafts/notes.md: no text after the front matter"],
        },
    }


class FakeDashboard:
    """Fixed records; ``handled``, ``removed`` and ``taught`` list the changes asked for.
    ``fail`` names a method that raises (to see the error page)."""

    def __init__(self, *, empty: bool = False) -> None:
        self.empty = empty
        self.handled: list[list[str]] = []
        self.removed: list[int] = []
        self.taught: list[tuple[str, str]] = []
        self.tried: list[str] = []
        self.fail: str | None = None
        self._examples: list[ExampleView] = [
            {
                "id": 7,
                "question": "How do I price a support plan?",
                "section": "Pricing › Support plans",
                "link": "https://example.org/pricing#support",
                "votes": 3,
                "weight": 1.5,
                "platforms": ["slack", "discord"],
                "first": "2024-04-02T10:00:00+00:00",
                "last": "2024-05-02T16:30:00+00:00",
                "set_aside": False,
            },
            {
                "id": 9,
                "question": "Which licence for an open core?",
                "section": "Licences › Open core",
                "link": None,
                "votes": 1,
                "weight": 0.5,
                "platforms": ["slack"],
                "first": "2024-03-01T08:00:00+00:00",
                "last": "2024-03-01T08:00:00+00:00",
                "set_aside": True,
            },
        ]

    def _check(self, name: str) -> None:
        if self.fail == name:
            raise RuntimeError("the database went away")

    def overview(self, days: int = 30) -> Overview:
        self._check("overview")
        if self.empty:
            empty = overview()
            empty.update(questions=0, answered=0, unsure=0, declined=0, per_day=[], up=0, down=0)
            empty["latency_ms"] = {"p50": None, "p95": None, "max": None}
            return empty
        return {**overview(), "days": days}

    def gaps(self, days: int = 30, limit: int = 50) -> list[GapView]:
        self._check("gaps")
        if self.empty:
            return []
        return [
            {
                "question": "How do we handle trademark disputes?",
                "count": 5,
                "declined": 3,
                "unsure": 1,
                "not_covered": 1,
                "last_asked": "2024-05-03T11:00:00+00:00",
                "asked_as": ["How do we handle trademark disputes?", "litiges de marque ?"],
                "closest": [{"section": "Brand › Trademarks", "link": "https://example.org/tm"}],
            },
            {
                "question": SCRIPT,
                "count": 1,
                "declined": 1,
                "unsure": 0,
                "not_covered": 0,
                "last_asked": "2024-05-02T11:00:00+00:00",
                "asked_as": [SCRIPT],
                "closest": [],
            },
        ]

    def mark_handled(self, questions: list[str]) -> int:
        self.handled.append(list(questions))
        return len(questions)

    def feedback(self, limit: int = 100) -> list[FeedbackView]:
        self._check("feedback")
        if self.empty:
            return []
        return [
            {
                "given_at": "2024-05-02T09:00:00+00:00",
                "platform": "slack",
                "question": SCRIPT,
                "quotes": [
                    {
                        "section": "Funding › Grants",
                        "link": "https://example.org/grants",
                        "text": "Grants rarely cover maintenance.",
                    },
                    {"section": "Old › Gone", "link": "https://example.org/gone", "text": None},
                ],
                "picked": "Funding › Sponsorship",
                "picked_none": False,
                "comment": None,
            },
            {
                "given_at": "2024-05-01T09:00:00+00:00",
                "platform": "discord",
                "question": "Can we relicense?",
                "quotes": [],
                "picked": None,
                "picked_none": True,
                "comment": "nothing about relicensing",
            },
        ]

    def examples(self) -> list[ExampleView]:
        self._check("examples")
        if self.empty:
            return []
        return [e for e in self._examples if e["id"] not in self.removed]

    def remove_example(self, example_id: int) -> bool:
        self._check("remove_example")
        existed = any(e["id"] == example_id for e in self.examples())
        self.removed.append(example_id)
        return existed

    def export_examples(self) -> str:
        rows = [{"question": e["question"], "section": e["section"]} for e in self.examples()]
        return yaml.safe_dump({"examples": rows}, allow_unicode=True, sort_keys=False)

    def try_question(self, question: str) -> Trial:
        self._check("try_question")
        self.tried.append(question)
        return {
            "question": question,
            "language": "en",
            "outcome": "answered",
            "message": None,
            "quotes": [
                {
                    "section": "Pricing › Support plans",
                    "link": "https://example.org/pricing#support",
                    "text": "Price support per seat. Offer a yearly plan.",
                    "highlight": "per seat",
                }
            ],
            "evidence": 0.61,
            "threshold": 0.35,
            "candidates": [
                {
                    "rank": 1,
                    "section": "Pricing › Support plans",
                    "link": "https://example.org/pricing#support",
                    "text": "Price support per seat.",
                    "dense": 0.7123,
                    "sentence": 0.65,
                    "lexical": 0.1,
                    "fused": 0.68,
                    "final": 0.7,
                    "quoted": True,
                },
                {
                    "rank": 2,
                    "section": "Funding › Grants",
                    "link": "javascript:alert(1)",
                    "text": "Grants rarely cover maintenance.",
                    "dense": 0.4,
                    "sentence": 0.3,
                    "lexical": 0.0,
                    "fused": 0.35,
                    "final": 0.33,
                    "quoted": False,
                },
            ],
            "choices": [
                {"key": "pricing#support", "label": "Pricing › Support plans"},
                {"key": "funding#grants", "label": "Funding › Grants"},
            ],
        }

    def teach(self, question: str, section_key: str, language: str = "en", who: str = "web") -> str:
        self.taught.append((question, section_key))
        return f"Taught: “{question}” → {section_key}"

    def checklists(self) -> list[ChecklistProgress]:
        self._check("checklists")
        if self.empty:
            return []
        return [
            {
                "checklist": "launch",
                "title": "Launch checklist",
                "place": "slack #launch",
                "done": 2,
                "total": 5,
                "ticks": [
                    {"item": "Pick a licence", "by": "Ada", "at": "2024-05-01T10:00:00+00:00"},
                    {"item": "Write a README", "by": None, "at": "2024-05-02T10:00:00+00:00"},
                ],
            },
            {
                "checklist": "launch",
                "title": "Launch checklist",
                "place": "discord #general",
                "done": 5,
                "total": 5,
                "ticks": [],
            },
        ]

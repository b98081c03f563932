"""Usage report: questions per day, most asked sections, knowledge gaps, feedback, latency."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypedDict

import numpy as np

from bot.core.team.checklists import fold
from bot.core.team.learning import Gap
from bot.core.team.store import LoggedQuestion, Store

# Two gap questions whose query vectors are at least this similar are one gap: paraphrases
# and translations of a question ("How do we hire a CTO?" / "Comment recruter un CTO ?" score
# 0.74 in USE's space), not two questions on one topic ("Quel salaire pour un CTO ?", 0.6).
GAP_SIMILARITY = 0.7


class ReportError(Exception):
    """The report cannot be made as asked (e.g. no plotting library for ``--plot``)."""


# The days a report covers: ISO dates, both included ("from" is a keyword, hence this form).
Period = TypedDict("Period", {"from": str, "to": str, "days": int})


class DayCount(TypedDict):
    """One day's questions (ISO date) and how many of them were not answered."""

    day: str
    questions: int
    abstained: int


class SectionCount(TypedDict):
    """A section and how many questions it answered first."""

    section: str
    questions: int


class GapEntry(TypedDict):
    """A question the knowledge base lacks: how often it was asked or marked "none"
    (``not_covered``: of ``count``, how often marked; ``unsure``: how often answered with the
    warning that the knowledge base may not answer it), and when last (ISO 8601)."""

    question: str
    count: int
    not_covered: int
    unsure: int
    last_asked: str


class GapGroup(GapEntry):
    """Gap entries grouped as one (named by the most asked): how each was asked, and the
    sections closest to it."""

    asked_as: list[str]
    closest_sections: list[str]


class Feedback(TypedDict):
    """👍 and 👎 counts and the share of 👍 (``None`` without votes)."""

    up: int
    down: int
    ratio: float | None


class Latency(TypedDict):
    """Answer latency percentiles in milliseconds (``None`` without questions)."""

    p50: float | None
    p95: float | None
    max: float | None


class Report(TypedDict):
    """What ``build_report`` returns (and ``playbook report --json`` prints)."""

    period: Period
    questions: int
    abstained: int
    hedged: int  # answered with the warning that the knowledge base may not answer it
    questions_per_day: list[DayCount]
    top_sections: list[SectionCount]
    gaps: list[GapGroup]
    feedback: Feedback
    latency_ms: Latency


def build_report(
    store: Store,
    *,
    days: int = 30,
    now: datetime | None = None,
    top: int = 10,
    not_covered: Sequence[Gap] = (),
    embed: Callable[[list[str]], np.ndarray] | None = None,
    closest: Callable[[str], list[str]] | None = None,
) -> Report:
    """Figures over the last ``days`` days.

    Returns ``{"period", "questions", "abstained", "hedged", "questions_per_day",
    "top_sections", "gaps", "feedback", "latency_ms"}``. ``gaps`` are what the knowledge base
    lacks, most asked first: the questions the bot could not answer, those it answered unsure
    of itself (hedged), and those a user said no section answers (``not_covered``), grouped
    as one gap when ``embed`` (texts → unit vectors) finds them alike, each with the sections
    ``closest`` finds nearest.
    """
    now = now or datetime.now(UTC)
    start = (now - timedelta(days=days - 1)).date()
    since = datetime.combine(start, datetime.min.time(), tzinfo=UTC)
    rows = store.questions(since)
    per_day = Counter(r["asked_at"].date() for r in rows)
    abstained_per_day = Counter(r["asked_at"].date() for r in rows if r["abstained"])
    dates = [start + timedelta(days=i) for i in range(days)]
    sections = Counter(r["top_section"] for r in rows if not r["abstained"] and r["top_section"])
    gaps = _gap_entries(rows, [g for g in not_covered if g.last >= since])
    feedback = store.feedback_counts(since)
    votes = feedback["up"] + feedback["down"]
    latencies = np.array([r["latency_ms"] for r in rows], dtype=float)
    return {
        "period": {"from": start.isoformat(), "to": now.date().isoformat(), "days": days},
        "questions": len(rows),
        "abstained": sum(1 for r in rows if r["abstained"]),
        "hedged": sum(1 for r in rows if r["hedged"]),
        "questions_per_day": [
            {"day": d.isoformat(), "questions": per_day[d], "abstained": abstained_per_day[d]}
            for d in dates
        ],
        "top_sections": [{"section": s, "questions": n} for s, n in sections.most_common(top)],
        "gaps": group_gaps(gaps, embed, closest)[:top],
        "feedback": {**feedback, "ratio": round(feedback["up"] / votes, 3) if votes else None},
        "latency_ms": {
            "p50": round(float(np.percentile(latencies, 50)), 2) if len(latencies) else None,
            "p95": round(float(np.percentile(latencies, 95)), 2) if len(latencies) else None,
            "max": round(float(latencies.max()), 2) if len(latencies) else None,
        },
    }


def _gap_entries(rows: list[LoggedQuestion], not_covered: Sequence[Gap]) -> list[GapEntry]:
    """One entry per distinct question (case and punctuation ignored): abstained and hedged
    ones from the log, and those marked "none" in the chat."""
    entries: dict[str, GapEntry] = {}

    def entry(question: str) -> GapEntry:
        return entries.setdefault(
            fold(question),
            {"question": question, "count": 0, "not_covered": 0, "unsure": 0, "last_asked": ""},
        )

    for r in rows:
        if r["abstained"] or r["hedged"]:
            found = entry(r["question"])
            found["count"] += 1
            found["unsure"] += int(r["hedged"])
            found["last_asked"] = max(found["last_asked"], _stamp(r["asked_at"]))
    for gap in not_covered:
        found = entry(gap.question)
        found["count"] += gap.votes
        found["not_covered"] += gap.votes
        found["last_asked"] = max(found["last_asked"], _stamp(gap.last))
    return list(entries.values())


def _stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def group_gaps(
    entries: list[GapEntry],
    embed: Callable[[list[str]], np.ndarray] | None = None,
    closest: Callable[[str], list[str]] | None = None,
) -> list[GapGroup]:
    """Gap entries grouped by similarity (``GAP_SIMILARITY``, when ``embed`` is given), most
    asked first; each group is named by its most asked question, lists how it was asked
    (``asked_as``) and, with ``closest``, the sections nearest it."""
    ordered = sorted(entries, key=lambda e: (-e["count"], e["question"]))
    vectors = embed([e["question"] for e in ordered]) if embed and ordered else None
    groups: list[GapGroup] = []
    heads: list[int] = []  # the entry naming each group
    for i, found in enumerate(ordered):
        alike = -1
        if vectors is not None and heads:
            sims = vectors[heads] @ vectors[i]
            if float(sims.max()) >= GAP_SIMILARITY:
                alike = int(np.argmax(sims))
        if alike < 0:
            heads.append(i)
            groups.append({**found, "asked_as": [found["question"]], "closest_sections": []})
            continue
        group = groups[alike]
        group["count"] += found["count"]
        group["not_covered"] += found["not_covered"]
        group["unsure"] += found["unsure"]
        group["last_asked"] = max(group["last_asked"], found["last_asked"])
        group["asked_as"].append(found["question"])
    groups.sort(key=lambda g: (-g["count"], g["question"]))
    for group in groups:
        group["closest_sections"] = closest(group["question"]) if closest else []
    return groups


def gaps_csv(report: Report) -> str:
    """The report's gaps as CSV: one row a gap."""
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        # New columns go last, so that what reads the columns by position keeps working.
        [
            "count",
            "question",
            "not_covered",
            "asked_as",
            "closest_sections",
            "last_asked",
            "unsure",
        ]
    )
    for g in report["gaps"]:
        writer.writerow(
            [
                g["count"],
                g["question"],
                g["not_covered"],
                " | ".join(g["asked_as"]),
                " | ".join(g["closest_sections"]),
                g["last_asked"],
                g["unsure"],
            ]
        )
    return out.getvalue()


def render_report(report: Report) -> str:
    """The report as text for a terminal."""
    p = report["period"]
    fb = report["feedback"]
    lat = report["latency_ms"]
    lines = [
        f"Usage from {p['from']} to {p['to']}: {report['questions']} questions, "
        f"{report['abstained']} not answered, {report['hedged']} answered unsure.",
        "",
        "Questions per day:",
    ]
    active = [d for d in report["questions_per_day"] if d["questions"]]
    lines += [f"  {d['day']}  {d['questions']:>4}  ({d['abstained']} not answered)" for d in active]
    if not active:
        lines.append("  (none)")
    lines += ["", "Most asked sections:"]
    lines += [f"  {s['questions']:>4}  {s['section']}" for s in report["top_sections"]] or [
        "  (none)"
    ]
    lines += [
        "",
        "Gaps — what the knowledge base could not answer, answered unsure of itself, or lacks "
        "by the team's word:",
    ]
    for g in report["gaps"]:
        lines.append(f"  {g['count']:>4}× {g['question']}")
        others = [q for q in g["asked_as"] if q != g["question"]]
        if others:
            lines.append(f"         also asked as: {' | '.join(others[:3])}")
        if g["not_covered"]:
            lines.append(f"         {g['not_covered']} said no section answers it")
        if g["unsure"]:
            lines.append(f"         {g['unsure']} answered unsure")
        if g["closest_sections"]:
            lines.append(f"         closest sections: {' · '.join(g['closest_sections'])}")
    if not report["gaps"]:
        lines.append("  (none)")
    ratio = f"{fb['ratio']:.0%} positive" if fb["ratio"] is not None else "no votes"
    lines += ["", f"Feedback: {fb['up']} 👍, {fb['down']} 👎 ({ratio})."]
    if lat["p50"] is not None:
        lines.append(
            f"Answer latency: p50 {lat['p50']} ms, p95 {lat['p95']} ms, max {lat['max']} ms."
        )
    return "\n".join(lines)


def plot_report(report: Report, path: Path) -> None:
    """Draw the report as a PNG: questions per day, top sections, feedback and latency."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ReportError("--plot needs matplotlib: pip install 'playbook-bot[report]'") from exc
    fig, axes = plt.subplots(2, 2, figsize=(13, 8), gridspec_kw={"width_ratios": [3, 2]})
    days = report["questions_per_day"]
    labels = [d["day"][5:] for d in days]
    answered = [d["questions"] - d["abstained"] for d in days]
    missed = [d["abstained"] for d in days]
    ax = axes[0][0]
    ax.bar(labels, answered, color="#4C72B0", label="answered")
    ax.bar(labels, missed, bottom=answered, color="#DD8452", label="not answered")
    ax.set_title("Questions per day")
    ax.legend(frameon=False)
    step = max(1, len(labels) // 10)
    ax.set_xticks(range(0, len(labels), step), labels[::step], rotation=45, ha="right")
    ax = axes[0][1]
    top = report["top_sections"][:8][::-1]
    ax.barh([_short(s["section"]) for s in top], [s["questions"] for s in top], color="#55A868")
    ax.set_title("Most asked sections")
    ax = axes[1][0]
    gaps = report["gaps"][:8][::-1]
    ax.barh([_short(g["question"], 60) for g in gaps], [g["count"] for g in gaps], color="#C44E52")
    ax.set_title("Gaps: what the knowledge base lacks")
    ax = axes[1][1]
    fb = report["feedback"]
    votes = [fb["up"], fb["down"]]
    ax.bar(["helpful (up)", "not helpful (down)"], votes, color=["#55A868", "#C44E52"])
    lat = report["latency_ms"]
    subtitle = ""
    if lat["p50"] is not None:
        subtitle = f"latency p50 {lat['p50']} ms, p95 {lat['p95']} ms"
    ax.set_title(f"Feedback\n{subtitle}")
    from matplotlib.ticker import MaxNLocator

    for axis in axes.flat:
        axis.spines[["top", "right"]].set_visible(False)
    for axis, which in ((axes[0][0], "y"), (axes[0][1], "x"), (axes[1][0], "x"), (axes[1][1], "y")):
        getattr(axis, f"{which}axis").set_major_locator(MaxNLocator(integer=True))
    p = report["period"]
    fig.suptitle(f"playbook-bot usage, {p['from']} to {p['to']}: {report['questions']} questions")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"

"""Usage report: questions per day, most asked sections, knowledge gaps, feedback, latency."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from bot.core.checklists import fold
from bot.core.store import Store


class ReportError(Exception):
    """The report cannot be made as asked (e.g. no plotting library for ``--plot``)."""


def build_report(
    store: Store, *, days: int = 30, now: datetime | None = None, top: int = 10
) -> dict:
    """Figures over the last ``days`` days.

    Returns ``{"period", "questions", "abstained", "questions_per_day", "top_sections", "gaps",
    "feedback", "latency_ms"}``; ``gaps`` are the questions the bot could not answer, most
    asked first.
    """
    now = now or datetime.now(UTC)
    start = (now - timedelta(days=days - 1)).date()
    since = datetime.combine(start, datetime.min.time(), tzinfo=UTC)
    rows = store.questions(since)
    per_day = Counter(r["asked_at"].date() for r in rows)
    abstained_per_day = Counter(r["asked_at"].date() for r in rows if r["abstained"])
    dates = [start + timedelta(days=i) for i in range(days)]
    sections = Counter(r["top_section"] for r in rows if not r["abstained"] and r["top_section"])
    gaps: dict[str, dict] = {}
    for r in rows:
        if r["abstained"]:
            key = fold(r["question"])
            entry = gaps.setdefault(
                key, {"question": r["question"], "count": 0, "last_asked": None}
            )
            entry["count"] += 1
            entry["last_asked"] = r["asked_at"].isoformat(timespec="seconds")
    feedback = store.feedback_counts(since)
    votes = feedback["up"] + feedback["down"]
    latencies = np.array([r["latency_ms"] for r in rows], dtype=float)
    return {
        "period": {"from": start.isoformat(), "to": now.date().isoformat(), "days": days},
        "questions": len(rows),
        "abstained": sum(1 for r in rows if r["abstained"]),
        "questions_per_day": [
            {"day": d.isoformat(), "questions": per_day[d], "abstained": abstained_per_day[d]}
            for d in dates
        ],
        "top_sections": [{"section": s, "questions": n} for s, n in sections.most_common(top)],
        "gaps": sorted(gaps.values(), key=lambda g: (-g["count"], g["question"]))[:top],
        "feedback": {**feedback, "ratio": round(feedback["up"] / votes, 3) if votes else None},
        "latency_ms": {
            "p50": round(float(np.percentile(latencies, 50)), 2) if len(latencies) else None,
            "p95": round(float(np.percentile(latencies, 95)), 2) if len(latencies) else None,
            "max": round(float(latencies.max()), 2) if len(latencies) else None,
        },
    }


def render_report(report: dict) -> str:
    """The report as text for a terminal."""
    p = report["period"]
    fb = report["feedback"]
    lat = report["latency_ms"]
    lines = [
        f"Usage from {p['from']} to {p['to']}: {report['questions']} questions, "
        f"{report['abstained']} not answered.",
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
    lines += ["", "Gaps — questions the knowledge base could not answer:"]
    lines += [f"  {g['count']:>4}× {g['question']}" for g in report["gaps"]] or ["  (none)"]
    ratio = f"{fb['ratio']:.0%} positive" if fb["ratio"] is not None else "no votes"
    lines += ["", f"Feedback: {fb['up']} 👍, {fb['down']} 👎 ({ratio})."]
    if lat["p50"] is not None:
        lines.append(
            f"Answer latency: p50 {lat['p50']} ms, p95 {lat['p95']} ms, max {lat['max']} ms."
        )
    return "\n".join(lines)


def plot_report(report: dict, path: Path) -> None:
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
    ax.set_title("Gaps: questions without an answer")
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

"""The overview's chart, drawn on the server as inline SVG: questions per day as stacked bars
(one segment per outcome), one small panel per platform on a shared scale, with axis labels,
a legend and a ``<title>`` per bar segment for hover. Presentation attributes only (no
``style=``), so that the pages' Content-Security-Policy needs no inline style."""

from __future__ import annotations

from datetime import date, timedelta
from html import escape

from bot.core.team.dashboard_types import OUTCOMES, DayRow, Overview
from bot.web.texts import TEXTS, readable_date

COLOURS = {"answered": "#2e7d32", "unsure": "#e0a100", "declined": "#c62828"}
WIDTH = 720
LEFT, RIGHT = 44, 12
LEGEND = 28
PANEL_TITLE, PLOT, X_LABELS = 20, 110, 18
PANEL = PANEL_TITLE + PLOT + X_LABELS + 8
MAX_DAYS = 400


def _days(overview: Overview) -> list[str]:
    """Every day of the period (ISO), or the days with questions when the period is not a
    readable range."""
    seen = sorted({row["day"] for row in overview["per_day"]})
    try:
        first = date.fromisoformat(overview["first_day"][:10])
        last = date.fromisoformat(overview["last_day"][:10])
    except ValueError:
        return seen
    span = (last - first).days + 1
    if span < 1 or span > MAX_DAYS:
        return seen
    every = [(first + timedelta(days=n)).isoformat() for n in range(span)]
    return every + [day for day in seen if day not in set(every)]


def _count(row: DayRow, outcome: str) -> int:
    counts = {"answered": row["answered"], "unsure": row["unsure"], "declined": row["declined"]}
    return int(counts[outcome])


def _attr(value: object) -> str:
    return escape(str(value), quote=True)


def _legend(lang: str) -> list[str]:
    words = TEXTS[lang]
    parts, x = [], LEFT
    for outcome in OUTCOMES:
        parts.append(
            f'<rect x="{x}" y="6" width="12" height="12" fill="{COLOURS[outcome]}"/>'
            f'<text x="{x + 16}" y="16" font-size="12">{escape(words[outcome])}</text>'
        )
        x += 24 + 8 * len(words[outcome])
    return parts


def _panel(
    platform: str, rows: dict[str, DayRow], days: list[str], top: int, peak: int, lang: str
) -> list[str]:
    """One platform's bars, its title, its y axis (0 and the peak) and its day labels."""
    words = TEXTS[lang]
    plot_top, base = top + PANEL_TITLE, top + PANEL_TITLE + PLOT
    slot = (WIDTH - LEFT - RIGHT) / max(1, len(days))
    bar = max(1.0, slot * 0.75)
    parts = [
        f'<text x="{LEFT}" y="{top + 14}" font-size="13" font-weight="bold">'
        f"{escape(platform)}</text>",
        f'<line x1="{LEFT}" y1="{base}" x2="{WIDTH - RIGHT}" y2="{base}" stroke="#888"/>',
        f'<line x1="{LEFT}" y1="{plot_top}" x2="{LEFT}" y2="{base}" stroke="#888"/>',
        f'<text x="{LEFT - 4}" y="{base}" font-size="11" text-anchor="end">0</text>',
        f'<text x="{LEFT - 4}" y="{plot_top + 10}" font-size="11" text-anchor="end">{peak}</text>',
    ]
    step = max(1, -(-len(days) // 7))  # at most about 7 day labels
    for i, day in enumerate(days):
        x = LEFT + i * slot + (slot - bar) / 2
        if i % step == 0:
            label = readable_date(day, lang).rsplit(" ", 1)[0]  # "12 May"
            parts.append(
                f'<text x="{x + bar / 2:.1f}" y="{base + 14}" font-size="11" '
                f'text-anchor="middle">{escape(label)}</text>'
            )
        row = rows.get(day)
        if row is None:
            continue
        y = float(base)
        for outcome in OUTCOMES:
            count = _count(row, outcome)
            if count <= 0:
                continue
            height = PLOT * count / peak
            y -= height
            title = f"{readable_date(day, lang)} · {platform} · {words[outcome]}: {count}"
            parts.append(
                f'<rect class="bar" data-day="{_attr(day)}" data-platform="{_attr(platform)}" '
                f'data-outcome="{outcome}" data-count="{count}" x="{x:.1f}" y="{y:.1f}" '
                f'width="{bar:.1f}" height="{height:.1f}" fill="{COLOURS[outcome]}">'
                f"<title>{escape(title)}</title></rect>"
            )
    return parts


def day_chart(overview: Overview, lang: str = "en") -> str:
    """The overview's questions per day as one SVG document (a string): a legend, then one
    panel per platform with a stacked bar per day (a ``rect`` per day and outcome with
    questions, its count in its ``<title>``), on a shared y scale; every text escaped."""
    words = TEXTS[lang]
    platforms = list(overview["platforms"]) or sorted({r["platform"] for r in overview["per_day"]})
    days = _days(overview)
    by_platform: dict[str, dict[str, DayRow]] = {p: {} for p in platforms}
    for row in overview["per_day"]:
        by_platform.setdefault(row["platform"], {})[row["day"]] = row
    totals = [sum(_count(r, o) for o in OUTCOMES) for r in overview["per_day"]]
    peak = max([1, *totals])
    height = LEGEND + PANEL * max(1, len(by_platform)) + 20
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {WIDTH} {height}" '
        f'width="100%" role="img" aria-label="{_attr(words["per_day"])}" '
        f'font-family="system-ui, sans-serif" fill="#222">',
        *_legend(lang),
    ]
    for n, platform in enumerate(by_platform):
        parts += _panel(platform, by_platform[platform], days, LEGEND + n * PANEL, peak, lang)
    middle = LEGEND + PANEL * max(1, len(by_platform)) // 2
    parts += [
        f'<text x="{LEFT + (WIDTH - LEFT - RIGHT) / 2:.0f}" y="{height - 4}" font-size="12" '
        f'text-anchor="middle">{escape(words["chart_day"])}</text>',
        f'<text x="12" y="{middle}" font-size="12" text-anchor="middle" '
        f'transform="rotate(-90 12 {middle})">{escape(words["chart_questions"])}</text>',
        "</svg>",
    ]
    return "".join(parts)

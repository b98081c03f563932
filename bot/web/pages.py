"""The pages' handlers: each reads its records from ``DashboardData`` (in a worker thread, so
that a slow query never blocks the bot's event loop) and renders its template; each change is
a POST (its CSRF token already checked) answered with a redirect to the page that shows it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from aiohttp import web
from markupsafe import Markup

from bot.core.team.dashboard_types import ChecklistProgress, DashboardData
from bot.web.charts import day_chart
from bot.web.render import SESSION, href_for, language, read_form, render
from bot.web.texts import TEXTS

MAX_QUESTION = 2000
T = TypeVar("T")
log = logging.getLogger("playbook.web")


class NotSaved(Exception):
    """A change the data side could not make (the page says so; nothing changed)."""


def grouped(progress: list[ChecklistProgress]) -> list[tuple[str, list[ChecklistProgress]]]:
    """The checklists' progress grouped by checklist, in the order they first appear:
    ``[(title, [progress in each place, ...]), ...]``."""
    groups: dict[str, tuple[str, list[ChecklistProgress]]] = {}
    for row in progress:
        groups.setdefault(row["checklist"], (row["title"] or row["checklist"], []))[1].append(row)
    return list(groups.values())


def _redirect(request: web.Request, path: str, **params: object) -> web.Response:
    return web.Response(status=303, headers={"Location": href_for(request)(path, **params)})


PERIODS = (7, 30, 90, 365)  # the periods the overview offers (each one's figures are kept)


def _number(raw: str) -> int | None:
    """``raw`` as a whole number when it is ASCII digits (``"²".isdigit()`` is true)."""
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 12 else None


def _days(request: web.Request) -> int:
    days = _number(request.query.get("days", ""))
    return days if days in PERIODS else 30


class Pages:
    """The handlers of the pages over one ``DashboardData``."""

    def __init__(self, data: DashboardData) -> None:
        self.data = data

    async def _read(self, call: Callable[..., T], *args: Any) -> T:
        return await asyncio.to_thread(call, *args)

    async def _write(self, call: Callable[..., T], *args: Any) -> T:
        """``call(*args)`` in a worker thread; ``NotSaved`` (the 503 page: nothing changed,
        try again) when it fails, e.g. on a database locked by another process."""
        try:
            return await asyncio.to_thread(call, *args)
        except Exception as exc:
            log.exception("Web: a change could not be saved")
            raise NotSaved from exc

    async def overview(self, request: web.Request) -> web.Response:
        """The overview page: the chart, outcome shares, latency, votes and the index."""
        overview = await self._read(self.data.overview, _days(request))
        chart = Markup(day_chart(overview, language(request))) if overview["per_day"] else None
        return render(request, "overview.html", o=overview, chart=chart, periods=PERIODS)

    async def gaps(self, request: web.Request) -> web.Response:
        """The gaps page (with how many questions were just marked handled, if any)."""
        gaps = await self._read(self.data.gaps)
        handled = _number(request.query.get("handled", ""))
        return render(request, "gaps.html", gaps=gaps, handled=handled)

    async def mark_handled(self, request: web.Request) -> web.Response:
        """POST: mark a gap's questions handled, then back to the gaps page."""
        form = await read_form(request)
        questions = [str(q) for q in form.getall("q", []) if str(q).strip()]
        count = await self._write(self.data.mark_handled, questions) if questions else 0
        return _redirect(request, "/gaps", handled=count)

    async def feedback(self, request: web.Request) -> web.Response:
        """The feedback page: the latest 👎 with what the answers quoted."""
        return render(request, "feedback.html", feedback=await self._read(self.data.feedback))

    async def examples(self, request: web.Request) -> web.Response:
        """The taught examples page (with the example just removed, if any)."""
        examples = await self._read(self.data.examples)
        removed, gone = request.query.get("removed", ""), request.query.get("gone", "")
        return render(
            request,
            "examples.html",
            examples=examples,
            removed=removed if _number(removed) is not None else None,
            gone=gone if _number(gone) is not None else None,
        )

    async def remove_example(self, request: web.Request) -> web.Response:
        """POST: forget a taught example, then back to the examples page."""
        form = await read_form(request)
        raw = str(form.get("id", ""))
        number = _number(raw)
        if number is None:
            return message(request, "bad_request", status=400)
        existed = await self._write(self.data.remove_example, number)
        return _redirect(request, "/examples", **{"removed" if existed else "gone": raw})

    async def export(self, request: web.Request) -> web.Response:
        """The taught examples as an ``examples.yaml`` download."""
        text = await self._read(self.data.export_examples)
        return web.Response(
            text=text,
            content_type="text/yaml",
            charset="utf-8",
            headers={"Content-Disposition": 'attachment; filename="examples.yaml"'},
        )

    async def try_page(self, request: web.Request) -> web.Response:
        """Try a question: the form, and for ``?q=`` the answer, its candidates and scores."""
        if "q" not in request.query:
            return render(request, "try.html", question="", trial=None, problem=None)
        question = request.query["q"].strip()
        problem = _question_problem(question, language(request))
        if problem:
            return render(request, "try.html", question=question, trial=None, problem=problem)
        trial = await self._read(self.data.try_question, question)
        return render(request, "try.html", question=question, trial=trial, problem=None)

    async def teach(self, request: web.Request) -> web.Response:
        """POST: teach a section for a question; the try page says what was done."""
        form = await read_form(request)
        question, section = str(form.get("question", "")).strip(), str(form.get("section", ""))
        problem = _question_problem(question, language(request))
        if problem or not section:
            return message(request, "bad_request", status=400)
        who = str(request[SESSION] or "").split(".")[1:2]  # the session's nonce: one teacher
        done = await self._write(
            self.data.teach, question, section, language(request), "".join(who) or "web"
        )
        return render(request, "try.html", question=question, trial=None, problem=None, done=done)

    async def checklists(self, request: web.Request) -> web.Response:
        """The checklists page: each checklist's progress per conversation, and its ticks."""
        progress = await self._read(self.data.checklists)
        return render(request, "checklists.html", groups=grouped(progress))


def _question_problem(question: str, lang: str) -> str | None:
    words = TEXTS[lang]
    if not question:
        return words["try_empty"]
    if len(question) > MAX_QUESTION:
        return words["try_long"].format(length=len(question), limit=MAX_QUESTION)
    return None


def message(request: web.Request, key: str, *, status: int) -> web.Response:
    """A page that only says the text ``key`` (and links home), with ``status``."""
    headings = {
        "forbidden": "forbidden_heading",
        "not_found": "not_found_heading",
        "error": "error_heading",
    }
    return render(
        request, "message.html", status=status, heading=headings.get(key, "error_heading"), key=key
    )

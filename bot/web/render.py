"""Rendering a page: the Jinja2 templates shipped in the package (autoescape on for every
template), the page's language and the links and form fields every page needs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import jinja2
from aiohttp import web

from bot.web.session import Sessions
from bot.web.texts import TEXTS, choose_language, percent, readable_age, readable_date

SESSIONS: web.AppKey[Sessions] = web.AppKey("sessions", Sessions)
TEMPLATES: web.AppKey[jinja2.Environment] = web.AppKey("templates", jinja2.Environment)
# The request's session cookie value (None: not signed in); a typed key where aiohttp has them.
SESSION: Any = web.RequestKey("session", str) if hasattr(web, "RequestKey") else "session"

NAV = (
    ("/", "nav_overview"),
    ("/gaps", "nav_gaps"),
    ("/feedback", "nav_feedback"),
    ("/examples", "nav_examples"),
    ("/try", "nav_try"),
    ("/checklists", "nav_checklists"),
)


def local_path(text: str) -> bool:
    """Whether ``text`` is a path on this site: it starts with one ``/``, and holds no
    backslash, space or control character (browsers read ``/\\host`` or ``/<TAB>/host`` as
    another site)."""
    return (
        text.startswith("/")
        and not text.startswith("//")
        and "\\" not in text
        and all(c.isprintable() and not c.isspace() for c in text)
    )


def safe_link(url: object) -> str:
    """``url`` when it is a web link (http, https) or a path on the site; else an empty string
    (a link from the knowledge base never becomes a ``javascript:`` link or another site)."""
    text = str(url or "")
    if text.startswith(("https://", "http://")) and all(
        c.isprintable() and not c.isspace() for c in text
    ):
        return text
    return text if local_path(text) else ""


class BadForm(Exception):
    """A form body that cannot be read (an unknown charset, bytes that are not text)."""


async def read_form(request: web.Request) -> Any:
    """The request's form fields; ``BadForm`` when its body cannot be read (the 400 page)."""
    try:
        return await request.post()
    except (LookupError, UnicodeError, ValueError) as exc:
        raise BadForm from exc


def marked(text: str, highlight: str) -> tuple[str, str, str]:
    """``text`` cut around the first occurrence of ``highlight``: ``(before, highlight,
    after)``; ``(text, "", "")`` when it does not occur."""
    at = text.find(highlight) if highlight else -1
    if at < 0:
        return text, "", ""
    return text[:at], highlight, text[at + len(highlight) :]


def templates() -> jinja2.Environment:
    """The template environment: templates from ``bot/web/templates``, every one escaped."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("bot.web", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["link"] = safe_link
    env.globals["marked"] = marked
    return env


def language(request: web.Request) -> str:
    """The request's language (``en`` or ``fr``): ``?lang=`` or else ``Accept-Language``."""
    return choose_language(request.headers.get("Accept-Language"), request.query.get("lang"))


def href_for(request: web.Request) -> Callable[..., str]:
    """A function making links that keep a language chosen with ``?lang=``."""
    chosen = request.query.get("lang")
    keep = {"lang": chosen} if chosen in TEXTS else {}

    def href(path: str, **params: object) -> str:
        query = {**{k: str(v) for k, v in params.items()}, **keep}
        return path + ("?" + urlencode(query) if query else "")

    return href


def render(
    request: web.Request, template: str, *, status: int = 200, **values: Any
) -> web.Response:
    """The page ``template`` rendered in the request's language with ``values``, as an HTML
    response with ``status``."""
    lang = language(request)
    words = TEXTS[lang]
    sessions = request.app[SESSIONS]
    cookie = request.get(SESSION)
    chosen = request.query.get("lang")
    html = (
        request.app[TEMPLATES]
        .get_template(template)
        .render(
            t=words,
            lang=lang,
            nav=NAV,
            path=request.path,
            href=href_for(request),
            lang_field=chosen if chosen in TEXTS else None,
            csrf=sessions.csrf(cookie) if cookie else "",
            signed_in=bool(sessions.token and cookie),
            date=lambda iso: readable_date(iso, lang),
            age=lambda seconds: readable_age(seconds, lang),
            percent=percent,
            **values,
        )
    )
    return web.Response(text=html, status=status, content_type="text/html", charset="utf-8")

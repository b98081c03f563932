"""``playbook web``: the maintainers' pages as an aiohttp application, the guards every page
goes through (sign-in, CSRF, security headers, error pages) and starting it on a port."""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Awaitable, Callable
from importlib import resources

from aiohttp import web

from bot.core.team.dashboard_types import DashboardData
from bot.health import bound_port, http_runner
from bot.web.pages import NotSaved, Pages, message
from bot.web.render import (
    SESSION,
    SESSIONS,
    TEMPLATES,
    BadForm,
    href_for,
    local_path,
    read_form,
    render,
    templates,
)
from bot.web.session import COOKIE, LIFETIME, Sessions

log = logging.getLogger("playbook.web")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
SECURE_COOKIE: web.AppKey[bool] = web.AppKey("secure_cookie", bool)
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
PUBLIC = ("/static/",)
MIN_TOKEN = 16  # characters of PLAYBOOK_WEB_TOKEN, the one secret between the pages and a guess


class WebConfigError(ValueError):
    """The web pages cannot start with these settings (the message says what to change)."""


def check_web_host(host: str, token: str | None) -> None:
    """Raise ``WebConfigError`` when ``host`` is not a loopback address (``localhost``
    counts as one) and no access token is set; returns nothing otherwise."""
    if token is not None and len(token.strip()) < MIN_TOKEN:
        raise WebConfigError(
            f"PLAYBOOK_WEB_TOKEN is too short: use at least {MIN_TOKEN} characters, e.g. "
            "python3 -c 'import secrets; print(secrets.token_urlsafe())'"
        )
    if token:
        return
    name = host.strip().strip("[]")
    if name.lower() == "localhost":
        return
    try:
        loopback = ipaddress.ip_address(name).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise WebConfigError(
            f"PLAYBOOK_WEB_HOST={host} is not a loopback address: set PLAYBOOK_WEB_TOKEN so "
            "that only people with the token can sign in"
        )


def _set_session(request: web.Request, response: web.StreamResponse, value: str) -> None:
    response.set_cookie(
        COOKIE,
        value,
        max_age=LIFETIME,
        path="/",
        httponly=True,
        samesite="Strict",
        secure=request.app[SECURE_COOKIE],
    )


@web.middleware
async def guard_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every response gets the security headers; an unknown page is the 404 page and a
    handler's error the 500 page (logged, never shown)."""
    try:
        response = await handler(request)
    except web.HTTPNotFound:
        response = message(request, "not_found", status=404)
    except BadForm:
        response = message(request, "bad_request", status=400)
    except NotSaved:
        response = message(request, "not_saved", status=503)
    except web.HTTPException as exc:
        response = exc
    except Exception:
        log.exception("Web page %s failed", request.path)
        response = message(request, "error", status=500)
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    if not request.path.startswith(PUBLIC):
        response.headers["Cache-Control"] = "no-store"
    if isinstance(response, web.HTTPException):
        raise response
    return response


@web.middleware
async def guard_session(request: web.Request, handler: Handler) -> web.StreamResponse:
    """With a token, a page needs a signed-in session (else 401 and the sign-in form);
    without one, a session is made on the first visit. A POST needs the session's CSRF token
    (else 403 and nothing changes)."""
    if request.path.startswith(PUBLIC):
        return await handler(request)
    sessions = request.app[SESSIONS]
    cookie = request.cookies.get(COOKIE)
    fresh = None
    if not sessions.valid(cookie):
        cookie = None
    if request.path == "/signin":
        request[SESSION] = cookie
        return await handler(request)
    if cookie is None:
        if sessions.token:
            nxt = request.path_qs if request.method == "GET" else "/"
            return render(request, "signin.html", status=401, wrong=False, next=nxt)
        cookie = fresh = sessions.new_cookie()
    request[SESSION] = cookie
    if request.method == "POST":
        form = await read_form(request)
        if not sessions.csrf_valid(cookie, str(form.get("csrf", ""))):
            log.warning("Web: a POST to %s without a valid CSRF token was refused", request.path)
            response: web.StreamResponse = message(request, "forbidden", status=403)
        else:
            response = await handler(request)
    else:
        response = await handler(request)
    if fresh:
        _set_session(request, response, fresh)
    return response


def _local(path: str) -> str:
    return path if local_path(path) else "/"


async def signin(request: web.Request) -> web.StreamResponse:
    """GET: the sign-in form. POST: the right token signs in (a session cookie, then the
    page asked for); a wrong one is 401 with the form and a message."""
    sessions = request.app[SESSIONS]
    if not sessions.token:
        return web.Response(status=303, headers={"Location": "/"})
    if request.method == "GET":
        nxt = _local(request.query.get("next", "/"))
        return render(request, "signin.html", wrong=False, next=nxt)
    form = await read_form(request)
    nxt = _local(str(form.get("next", "/")))
    client = request.remote or ""
    if sessions.locked_out(client):
        log.warning("Web: sign-in refused for a minute after repeated wrong tokens")
        return render(request, "signin.html", status=429, wrong=False, locked=True, next=nxt)
    if not sessions.token_matches(str(form.get("token", ""))):
        sessions.note_wrong(client)
        log.warning("Web: a sign-in with a wrong token was refused")
        return render(request, "signin.html", status=401, wrong=True, next=nxt)
    response = web.Response(status=303, headers={"Location": nxt})
    _set_session(request, response, sessions.new_cookie())
    return response


async def signout(request: web.Request) -> web.StreamResponse:
    """POST: end this session (it is refused from now on) and forget its cookie, then the
    sign-in page."""
    request.app[SESSIONS].revoke(request[SESSION])
    response = web.Response(status=303, headers={"Location": href_for(request)("/signin")})
    response.del_cookie(COOKIE, path="/")
    return response


def _stylesheet() -> Handler:
    css = resources.files("bot.web").joinpath("static/style.css").read_text("utf-8")

    async def stylesheet(_request: web.Request) -> web.Response:
        return web.Response(
            text=css, content_type="text/css", headers={"Cache-Control": "max-age=3600"}
        )

    return stylesheet


def web_app(
    data: DashboardData, *, token: str | None, secure_cookie: bool = False
) -> web.Application:
    """The maintainers' pages over ``data`` (sign-in with ``token`` when set; the session
    cookie is ``Secure`` when ``secure_cookie``). Returns the aiohttp application."""
    app = web.Application(middlewares=[guard_errors, guard_session])
    app[SESSIONS] = Sessions(token)
    app[TEMPLATES] = templates()
    app[SECURE_COOKIE] = secure_cookie
    pages = Pages(data)
    app.router.add_get("/", pages.overview)
    app.router.add_get("/gaps", pages.gaps)
    app.router.add_post("/gaps/handled", pages.mark_handled)
    app.router.add_get("/feedback", pages.feedback)
    app.router.add_get("/examples", pages.examples)
    app.router.add_post("/examples/remove", pages.remove_example)
    app.router.add_get("/examples.yaml", pages.export)
    app.router.add_get("/try", pages.try_page)
    app.router.add_post("/try/teach", pages.teach)
    app.router.add_get("/checklists", pages.checklists)
    app.router.add_get("/signin", signin)
    app.router.add_post("/signin", signin)
    app.router.add_post("/signout", signout)
    app.router.add_get("/static/style.css", _stylesheet())
    return app


async def start_web(
    host: str,
    port: int,
    data: DashboardData,
    *,
    token: str | None,
    header_timeout: float = 10.0,
    secure_cookie: bool = False,
) -> web.AppRunner:
    """Serve the pages on ``host:port`` (0: a free port the system picks) and log where; a
    connection that sends no request headers within ``header_timeout`` seconds is closed.
    Raises ``WebConfigError`` for a non-loopback host without a token. Returns the runner
    (``await runner.cleanup()`` stops it)."""
    check_web_host(host, token)
    runner = http_runner(web_app(data, token=token, secure_cookie=secure_cookie), header_timeout)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    log.info("Web pages: http://%s:%s/", host, bound_port(runner))
    return runner

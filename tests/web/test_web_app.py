"""The maintainers' web pages over real HTTP: the app started with ``start_web`` on
127.0.0.1 (a free port) over a fake ``DashboardData``, read with ``aiohttp.ClientSession``."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import aiohttp
import pytest
import yaml
from yarl import URL

from bot.health import bound_port
from bot.web.app import WebConfigError, check_web_host, start_web
from tests.web.fake_dashboard import FakeDashboard

TOKEN = "s3cret-token-0123456789"
CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')
PAGES = ["/", "/gaps", "/feedback", "/examples", "/try", "/checklists"]


@asynccontextmanager
async def served(data: FakeDashboard, token: str | None = None) -> AsyncIterator[tuple]:
    """The pages served on 127.0.0.1 at a free port, and a client session that keeps
    cookies: ``(base URL, session)``; both stop on leaving."""
    runner = await start_web("127.0.0.1", 0, data, token=token, header_timeout=5)
    timeout = aiohttp.ClientTimeout(total=10)
    jar = aiohttp.CookieJar(unsafe=True)  # keep cookies of 127.0.0.1
    try:
        async with aiohttp.ClientSession(timeout=timeout, cookie_jar=jar) as client:
            yield f"http://127.0.0.1:{bound_port(runner)}", client
    finally:
        await runner.cleanup()


def run(scenario: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(asyncio.wait_for(scenario(), 30))


async def get(client: aiohttp.ClientSession, url: str, **kw) -> tuple[int, str]:
    async with client.get(url, **kw) as resp:
        return resp.status, await resp.text()


async def signed_in(client: aiohttp.ClientSession, base: str) -> str:
    """Sign ``client`` in with the token; returns the CSRF token its forms carry."""
    await client.post(base + "/signin", data={"token": TOKEN})
    _, html = await get(client, base + "/gaps")
    found = CSRF.search(html)
    assert found, "no form with a CSRF token after signing in"
    return found.group(1)


def test_every_page_shows_its_records_in_english() -> None:
    data = FakeDashboard()

    async def scenario() -> None:
        async with served(data) as (base, client):
            expected = {
                "/": [
                    "Overview",
                    "12",
                    "67%",
                    "answered",
                    "412 ms",
                    "1234 ms",
                    "👍",
                    "42",
                    "1337",
                    "2 hours ago",
                    "drafts/notes.md: no text after the front matter",
                    "<svg",
                ],
                "/gaps": [
                    "How do we handle trademark disputes?",
                    "Asked 5×",
                    "3 declined · 1 unsure · 1 not covered",
                    "litiges de marque ?",
                    'href="https://example.org/tm"',
                    "Brand › Trademarks",
                    "Mark handled",
                    "No section comes close.",
                ],
                "/feedback": [
                    "Grants rarely cover maintenance.",
                    'href="https://example.org/grants"',
                    "Funding › Sponsorship",
                    "none — no section answers it",
                    "this passage is no longer in the index",
                    "nothing about relicensing",
                    "on discord",
                ],
                "/examples": [
                    "How do I price a support plan?",
                    "Pricing › Support plans",
                    'href="https://example.org/pricing#support"',
                    "slack, discord",
                    "set aside",
                    "Remove",
                    "Export (examples.yaml)",
                    "2 May 2024",
                ],
                "/try": ["Try a question", "<textarea"],
                "/checklists": [
                    "Launch checklist",
                    "slack #launch",
                    "2 of 5 done",
                    '<progress value="2" max="5"',
                    "Pick a licence",
                    "Ada",
                    "5 of 5 done",
                ],
            }
            for page, texts in expected.items():
                status, html = await get(client, base + page)
                assert status == 200, page
                for text in texts:
                    assert text in html, (page, text)
                for label in (
                    "Overview",
                    "Gaps",
                    "Feedback",
                    "Taught examples",
                    "Try a question",
                    "Checklists",
                ):
                    assert label in html
                assert 'name="viewport" content="width=device-width, initial-scale=1"' in html

    run(scenario)


def test_every_page_follows_the_browser_language_to_french() -> None:
    data = FakeDashboard()

    async def scenario() -> None:
        async with served(data) as (base, client):
            french = {"Accept-Language": "en;q=0.5, fr-FR;q=0.9"}
            expected = {
                "/": ["Vue d’ensemble", "répondu", "il y a 2 heures", "1 mai 2024"],
                "/gaps": ["Lacunes", "Marquer traitée", "Comment elle a été posée"],
                "/feedback": ["Retours", "aucune — aucune section n’y répond"],
                "/examples": ["Exemples appris", "mis de côté", "Supprimer"],
                "/try": ["Essayer une question"],
                "/checklists": ["Checklists", "2 sur 5 faits", "Élément"],
            }
            for page, texts in expected.items():
                status, html = await get(client, base + page, headers=french)
                assert status == 200
                assert '<html lang="fr">' in html
                for text in texts:
                    assert text in html, (page, text)
            # ?lang= overrides the browser, and the links keep it
            status, html = await get(client, base + "/gaps?lang=en", headers=french)
            assert "Mark handled" in html and 'href="/feedback?lang=en"' in html

    run(scenario)


def test_empty_pages_say_what_to_do() -> None:
    async def scenario() -> None:
        async with served(FakeDashboard(empty=True)) as (base, client):
            for page, text in {
                "/": "No question logged yet",
                "/gaps": "No gap",
                "/feedback": "No 👎 yet",
                "/examples": "No taught example yet",
                "/checklists": "No checklist item ticked yet",
            }.items():
                status, html = await get(client, base + page)
                assert status == 200 and text in html, page

    run(scenario)


def test_with_a_token_pages_need_a_sign_in_with_the_right_token() -> None:
    async def scenario() -> None:
        async with served(FakeDashboard(), token=TOKEN) as (base, client):
            status, html = await get(client, base + "/gaps")
            assert status == 401
            assert 'name="token"' in html and "Sign in" in html
            assert "trademark" not in html
            async with client.post(base + "/signin", data={"token": "wrong"}) as resp:
                assert resp.status == 401
                assert "This token is not the right one." in await resp.text()
                assert "Set-Cookie" not in resp.headers
            form = {"token": TOKEN, "next": "/gaps"}
            async with client.post(base + "/signin", data=form, allow_redirects=False) as resp:
                assert resp.status == 303 and resp.headers["Location"] == "/gaps"
                cookie = resp.headers["Set-Cookie"]
            assert cookie.startswith("playbook_session=")
            assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
            assert "Max-Age=43200" in cookie and "Secure" not in cookie
            for page in PAGES:
                status, html = await get(client, base + page)
                assert status == 200, page
            assert "Sign out" in html
            csrf = CSRF.search(html).group(1)
            async with client.post(base + "/signout", data={"csrf": csrf}) as resp:
                assert resp.status == 401 or "Sign in" in await resp.text()
            status, _ = await get(client, base + "/gaps")
            assert status == 401

    run(scenario)


def test_repeated_wrong_tokens_lock_sign_in_for_a_minute() -> None:
    async def scenario() -> None:
        async with served(FakeDashboard(), token=TOKEN) as (base, client):
            for _ in range(10):
                async with client.post(base + "/signin", data={"token": "guess"}) as resp:
                    assert resp.status == 401
            form = {"token": TOKEN}  # even the right one, for that minute
            async with client.post(base + "/signin", data=form, allow_redirects=False) as resp:
                assert resp.status == 429
                assert "wait a minute" in await resp.text()
                assert "Set-Cookie" not in resp.headers

    run(scenario)


def test_the_overview_offers_its_periods() -> None:
    async def scenario() -> None:
        async with served(FakeDashboard()) as (base, client):
            status, html = await get(client, base + "/?days=90")
            assert status == 200
            assert 'href="/?days=7"' in html and 'href="/?days=30"' in html
            assert "<strong>90 days</strong>" in html

    run(scenario)


def test_sign_in_never_sends_the_browser_to_another_site() -> None:
    async def scenario() -> None:
        async with served(FakeDashboard(), token=TOKEN) as (base, client):
            for target in ("/\\evil.com", "/\t/evil.com", "//evil.com", "https://evil.com"):
                form = {"token": TOKEN, "next": target}
                async with client.post(base + "/signin", data=form, allow_redirects=False) as resp:
                    assert resp.status == 303 and resp.headers["Location"] == "/", target

    run(scenario)


def test_after_sign_out_the_session_and_its_csrf_token_are_refused() -> None:
    data = FakeDashboard()

    async def scenario() -> None:
        async with served(data, token=TOKEN) as (base, client):
            csrf = await signed_in(client, base)
            cookie = {
                "playbook_session": client.cookie_jar.filter_cookies(URL(base))[
                    "playbook_session"
                ].value
            }
            await client.post(base + "/signout", data={"csrf": csrf})
            async with aiohttp.ClientSession(cookies=cookie) as stolen:
                status, _ = await get(stolen, base + "/gaps")
                assert status == 401
                form = {"q": "litiges de marque ?", "csrf": csrf}
                async with stolen.post(base + "/gaps/handled", data=form) as resp:
                    assert resp.status == 401
            assert data.handled == []

    run(scenario)


def test_odd_numbers_and_unreadable_forms_are_clear_refusals_not_errors() -> None:
    async def scenario() -> None:
        async with served(FakeDashboard()) as (base, client):
            _, html = await get(client, base + "/examples")
            csrf = CSRF.search(html).group(1)
            for page in ("/?days=²", "/gaps?handled=²", "/examples?removed=²"):
                status, _ = await get(client, base + page)
                assert status == 200, page
            async with client.post(
                base + "/examples/remove", data={"id": "²", "csrf": csrf}
            ) as resp:
                assert resp.status == 400
            body = f"csrf={csrf}&id=7".encode()
            headers = {"Content-Type": "application/x-www-form-urlencoded; charset=latin-9999"}
            async with client.post(base + "/examples/remove", data=body, headers=headers) as resp:
                assert resp.status == 400
                assert "Traceback" not in await resp.text()

    run(scenario)


def test_a_change_the_data_cannot_save_says_nothing_changed(caplog) -> None:
    data = FakeDashboard()
    data.fail = "remove_example"

    async def scenario() -> None:
        async with served(data) as (base, client):
            _, html = await get(client, base + "/examples")
            csrf = CSRF.search(html).group(1)
            form = {"id": "7", "csrf": csrf}
            async with client.post(base + "/examples/remove", data=form) as resp:
                assert resp.status == 503
                text = await resp.text()
                assert "could not be saved" in text and "nothing was changed" in text

    with caplog.at_level(logging.ERROR, logger="playbook.web"):
        run(scenario)


def test_a_forged_or_expired_session_is_not_signed_in() -> None:
    async def scenario() -> None:
        async with served(FakeDashboard(), token=TOKEN) as (base, client):
            forged = {"playbook_session": "9999999999.abcd.00ff"}
            status, _ = await get(client, base + "/", cookies=forged)
            assert status == 401

    run(scenario)


def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing() -> None:
    data = FakeDashboard()

    async def scenario() -> None:
        async with served(data) as (base, client):
            await get(client, base + "/gaps")  # the first visit sets the session
            for path, form in [
                ("/gaps/handled", {"q": "How do we handle trademark disputes?"}),
                ("/examples/remove", {"id": "7"}),
                ("/try/teach", {"question": "price?", "section": "pricing#support"}),
                ("/examples/remove", {"id": "7", "csrf": "0" * 64}),
            ]:
                async with client.post(base + path, data=form) as resp:
                    assert resp.status == 403
                    assert "Nothing was changed" in await resp.text()
            assert data.handled == [] and data.removed == [] and data.taught == []

    run(scenario)


def test_with_the_csrf_token_each_change_is_made_and_the_page_says_so() -> None:
    data = FakeDashboard()

    async def scenario() -> None:
        async with served(data, token=TOKEN) as (base, client):
            csrf = await signed_in(client, base)
            form = aiohttp.FormData([("csrf", csrf)])
            form.add_field("q", "How do we handle trademark disputes?")
            form.add_field("q", "litiges de marque ?")
            async with client.post(base + "/gaps/handled", data=form) as resp:
                assert resp.status == 200
                assert "2 questions marked handled." in await resp.text()
            assert data.handled == [["How do we handle trademark disputes?", "litiges de marque ?"]]

            async with client.post(
                base + "/examples/remove", data={"id": "7", "csrf": csrf}
            ) as resp:
                html = await resp.text()
            assert "Example 7 removed." in html and "How do I price a support plan?" not in html
            assert data.removed == [7]

            form = {"question": "price?", "section": "pricing#support", "csrf": csrf}
            async with client.post(base + "/try/teach", data=form) as resp:
                assert resp.status == 200
                assert "Taught: “price?” → pricing#support" in await resp.text()
            assert data.taught == [("price?", "pricing#support")]

    run(scenario)


def test_a_question_with_markup_is_shown_as_text() -> None:
    data = FakeDashboard()

    async def scenario() -> None:
        async with served(data) as (base, client):
            pages = ["/gaps", "/feedback", "/try?q=%3Cscript%3Ealert(1)%3C/script%3E"]
            for page in pages:
                status, html = await get(client, base + page)
                assert status == 200
                assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, page
                assert "<script" not in html.lower(), page
            assert data.tried == ["<script>alert(1)</script>"]

    run(scenario)


def test_the_try_page_shows_the_answer_its_candidates_and_a_teach_form() -> None:
    data = FakeDashboard()

    async def scenario() -> None:
        async with served(data) as (base, client):
            status, html = await get(client, base + "/try", params={"q": "price support?"})
            assert status == 200
            assert "Price support <mark>per seat</mark>. Offer a yearly plan." in html
            assert "Evidence 0.61 (the bot declines below 0.35)" in html
            assert "0.712" in html and "Dense" in html and "Fused" in html
            assert 'value="pricing#support"' in html and "Teach" in html
            assert "javascript:" not in html  # a link that is not a web link is not a link
            for q, text in [
                ("  ", "Type a question to try."),
                ("x" * 2001, "This question is too long (2001 characters)"),
            ]:
                status, html = await get(client, base + "/try", params={"q": q})
                assert status == 200 and text in html
            assert data.tried == ["price support?"]

    run(scenario)


def test_every_response_carries_the_security_headers() -> None:
    async def scenario() -> None:
        async with served(FakeDashboard()) as (base, client):
            for page in ["/", "/static/style.css", "/nowhere", "/examples.yaml"]:
                async with client.get(base + page) as resp:
                    csp = resp.headers["Content-Security-Policy"]
                    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
                    assert resp.headers["X-Content-Type-Options"] == "nosniff"
                    assert resp.headers["Referrer-Policy"] == "no-referrer"
            async with client.get(base + "/") as resp:
                assert resp.headers["Cache-Control"] == "no-store"
            async with client.get(base + "/static/style.css") as resp:
                assert resp.status == 200 and resp.content_type == "text/css"

    run(scenario)


def test_the_export_is_yaml_that_reads_back() -> None:
    async def scenario() -> None:
        async with served(FakeDashboard()) as (base, client):
            async with client.get(base + "/examples.yaml") as resp:
                assert resp.status == 200 and resp.content_type == "text/yaml"
                assert "attachment" in resp.headers["Content-Disposition"]
                loaded = yaml.safe_load(await resp.text())
            assert loaded["examples"][0]["question"] == "How do I price a support plan?"

    run(scenario)


def test_a_failing_read_is_a_500_page_and_an_unknown_page_a_404(caplog) -> None:
    data = FakeDashboard()
    data.fail = "gaps"

    async def scenario() -> None:
        async with served(data) as (base, client):
            status, html = await get(client, base + "/gaps", headers={"Accept-Language": "fr"})
            assert status == 500 and "Un problème est survenu" in html
            assert "database went away" not in html and "Traceback" not in html
            status, html = await get(client, base + "/nowhere")
            assert status == 404 and "Page not found" in html

    with caplog.at_level(logging.ERROR, logger="playbook.web"):
        run(scenario)
    assert "the database went away" in caplog.text


def test_a_non_loopback_host_needs_a_token() -> None:
    with pytest.raises(WebConfigError, match=r"PLAYBOOK_WEB_HOST=0\.0\.0\.0 is not a loopback"):
        check_web_host("0.0.0.0", None)
    check_web_host("127.0.0.1", None)
    check_web_host("localhost", None)
    check_web_host("::1", None)
    check_web_host("0.0.0.0", TOKEN)
    with pytest.raises(WebConfigError, match="PLAYBOOK_WEB_TOKEN is too short"):
        check_web_host("0.0.0.0", " " * 20 + "tok")
    with pytest.raises(WebConfigError, match="set PLAYBOOK_WEB_TOKEN"):
        asyncio.run(start_web("0.0.0.0", 0, FakeDashboard(), token=None))


def test_behind_https_the_session_cookie_is_secure() -> None:
    async def scenario() -> None:
        runner = await start_web(
            "127.0.0.1", 0, FakeDashboard(), token=TOKEN, header_timeout=5, secure_cookie=True
        )
        base = f"http://127.0.0.1:{bound_port(runner)}"
        try:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as client:
                form = {"token": TOKEN}
                async with client.post(base + "/signin", data=form, allow_redirects=False) as r:
                    assert r.status == 303
                    assert "Secure" in r.headers["Set-Cookie"]
        finally:
            await runner.cleanup()

    run(scenario)


def test_without_a_token_the_first_visit_gets_a_session_and_there_is_no_sign_in() -> None:
    async def scenario() -> None:
        async with served(FakeDashboard()) as (base, client):
            async with client.get(base + "/feedback") as resp:
                cookie = resp.headers["Set-Cookie"]
                html = await resp.text()
            assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
            assert "Sign out" not in html
            async with client.get(base + "/checklists") as resp:
                assert "Set-Cookie" not in resp.headers  # the same session is kept
            async with client.get(base + "/signin", allow_redirects=False) as resp:
                assert resp.status == 303 and resp.headers["Location"] == "/"
            async with client.get(base + "/signout") as resp:
                assert resp.status == 405
                assert "Content-Security-Policy" in resp.headers

    run(scenario)

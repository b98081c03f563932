"""Faults: what the asker and the operator see when the database is locked, read-only or
deleted under the bot or read-only at start, when SIGTERM comes in the middle of a burst, when
``playbook index`` is killed half-way, and when a folder of the pages cannot be read.

Each runs the real ``playbook`` command (``serve`` against the fake Slack on 127.0.0.1); an
unreadable folder is read as an unprivileged user. The other faults of the same family have
their tests beside the code they exercise:

- a database that cannot be written (tables gone), retries answered once:
  ``tests/adapters/test_slack.py::test_a_broken_database_loses_no_question_and_answers_retries_once``
- a database that cannot be opened at start (a file in the way, a refused password):
  ``tests/test_cli_team.py``
- SIGTERM during an answer, during a live re-index: ``tests/test_operate.py``
- a served index corrupt or deleted, an index that cannot be refreshed: ``tests/test_operate.py``
- an unreadable manifest or pointer, a build folder whose lock no one holds:
  ``tests/core/test_index.py``
- links out of the knowledge folder, dangling links, huge and binary pages:
  ``tests/core/test_documents.py``
- unsigned or unparsable requests: ``tests/adapters/test_slack.py``
- one vote per user, mentions never stored, the salt kept apart: ``tests/core/test_store.py``
- secrets in exception text and structured fields: ``tests/test_logs.py``
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import tempfile
import time
import urllib.error
from collections import Counter
from pathlib import Path

import pytest

from tests.adapters.fake_slack import (
    BOT_TOKEN,
    SIGNING_SECRET,
    FakeSlack,
    command_body,
    event_body,
    mention,
    sign,
)
from tests.helpers import (
    Bot,
    ThreadedFake,
    copy_knowledge,
    http_get,
    http_post,
    run,
    start,
    wait_until,
)

DRAIN_SECONDS = 10


class Served:
    """``playbook serve --slack-http`` in ``workdir`` against a fake Slack, with /healthz."""

    def __init__(self, workdir: Path, slack: ThreadedFake, **env: str) -> None:
        self.slack = slack.fake
        settings = {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": self.slack.api_url,
            "PLAYBOOK_HEALTH_PORT": "auto",
            "PLAYBOOK_DRAIN_SECONDS": str(DRAIN_SECONDS),
            "PLAYBOOK_RATE_LIMIT_PER_MINUTE": "0",
            **env,
        }
        self.proc = Bot(workdir, "serve", "--slack-http", "--port", "0", env=settings)
        self.health = self.proc.port("health", 90)
        self.port = self.proc.port("slack", 90)
        wait_until(lambda: self.healthz()[0] == 200, 90, "the bot")

    def healthz(self) -> tuple[int, str]:
        """The status and text of /healthz."""
        try:
            return http_get(f"http://127.0.0.1:{self.health}/healthz")
        except OSError:
            return 0, ""

    def ask(self, text: str, ts: str, event_id: str, user: str = "U0ALICE") -> int | str:
        """Post a signed mention; the HTTP status, or the connection error's name."""
        body = event_body(mention(text, ts=ts, user=user), event_id)
        headers = {"Content-Type": "application/json", **sign(body)}
        try:
            return http_post(f"http://127.0.0.1:{self.port}/slack/events", body, headers)
        except urllib.error.HTTPError as exc:
            return exc.code
        except OSError as exc:
            return type(exc).__name__

    def ask_privately(self, text: str, name: str) -> int | str:
        """Post a signed ``/ask`` whose response URL is ``name``; as ``ask``."""
        body = command_body("/ask", text, self.slack.response_url(name))
        headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(body)}
        try:
            return http_post(f"http://127.0.0.1:{self.port}/slack/events", body, headers)
        except urllib.error.HTTPError as exc:
            return exc.code
        except OSError as exc:
            return type(exc).__name__

    def responses(self, name: str) -> list[dict]:
        """The bot's responses to the ``/ask`` of response URL ``name``."""
        return [c.body for c in self.slack.of("response") if c.name == name]

    def replies(self, ts: str) -> list[dict]:
        """The messages the bot posted in the thread of ``ts``."""
        return [c.body for c in self.slack.of("chat.postMessage") if c.body["thread_ts"] == ts]

    def stop(self) -> tuple[int, str, float]:
        """SIGTERM; ``(exit code, stderr, seconds until it exited)``."""
        began = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            _out, err = self.proc.communicate(timeout=DRAIN_SECONDS + 30)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
        return self.proc.returncode, err, time.monotonic() - began


def _text(reply: dict) -> str:
    return json.dumps(reply, ensure_ascii=False)


def _logged_questions(database: Path) -> list[str]:
    with sqlite3.connect(database) as db:
        return [row[0] for row in db.execute("SELECT question FROM question_log")]


def _has_tables(database: Path) -> bool:
    if not database.exists():
        return False
    with sqlite3.connect(database) as db:
        return bool(
            db.execute("SELECT 1 FROM sqlite_master WHERE name = 'question_log'").fetchall()
        )


@pytest.fixture
def workdir(tmp_path):
    return copy_knowledge(tmp_path)


def test_a_database_locked_by_another_process_delays_no_answer(workdir):
    """Another process holds the SQLite write lock: questions are still answered (the check
    for a retry waits briefly, then memory decides), a retry is answered once, /healthz is 503
    naming the database, then 200 again by itself once the lock is released; the questions
    asked meanwhile reach the log."""
    database = workdir / ".playbook" / "playbook.db"
    with ThreadedFake(FakeSlack) as slack:
        bot = Served(workdir, slack)
        locker = sqlite3.connect(database, isolation_level=None, timeout=0)
        locker.execute("BEGIN EXCLUSIVE")
        try:
            assert bot.ask("Red Hat, quel modèle ?", "10.1", "EvLock1") == 200
            wait_until(lambda: bot.replies("10.1"), 30, "the answer while locked")
            assert "Le modèle de support" in _text(bot.replies("10.1")[0])
            assert bot.ask("Red Hat, quel modèle ?", "10.1", "EvLock1") == 200  # a retry
            assert bot.ask("What is open core?", "10.2", "EvLock2") == 200
            wait_until(lambda: bot.replies("10.2"), 30, "the second answer while locked")
            status, text = bot.healthz()
            assert status == 503 and "the database cannot be written" in text
            assert "locked" in text
        finally:
            locker.execute("ROLLBACK")
            locker.close()
        wait_until(lambda: bot.healthz()[0] == 200, 30, "/healthz to recover")
        code, err, _ = bot.stop()
    assert code == 0, err
    assert len(bot.replies("10.1")) == 1  # the retry was recognised, from memory
    assert err.count("The database failed while") == 1
    assert "database is locked" in err and "The database works again." in err
    assert Counter(_logged_questions(database)) == {
        "Red Hat, quel modèle ?": 1,
        "What is open core?": 1,
    }


def _read_only(files: list[Path], on: bool) -> None:
    """Make ``files`` unwritable (or writable again): by mode for a user, by the immutable
    attribute for root, whom modes do not stop."""
    if os.geteuid() == 0:
        subprocess.run(["chattr", "+i" if on else "-i", *map(str, files)], check=True)
    else:
        for path in files:
            path.chmod(0o444 if on else 0o644)


def test_a_read_only_database_is_reported_and_questions_answered(workdir):
    """The database file turns read-only while serving: every question is answered, /healthz
    is 503 naming the database, and 200 again by itself once it can be written."""
    database = workdir / ".playbook" / "playbook.db"
    with ThreadedFake(FakeSlack) as slack:
        bot = Served(workdir, slack)
        files = [database, database.with_name(database.name + "-wal")]
        _read_only(files, True)
        try:
            for n in range(5):
                assert bot.ask(f"Red Hat, quel modèle ? ({n})", f"11.{n}", f"EvRo{n}") == 200
            wait_until(lambda: all(bot.replies(f"11.{n}") for n in range(5)), 30, "5 answers")
            wait_until(lambda: bot.healthz()[0] == 503, 30, "/healthz to name the database")
            assert "the database cannot be written" in bot.healthz()[1]
        finally:
            _read_only(files, False)
        wait_until(lambda: bot.healthz()[0] == 200, 30, "/healthz to recover")
        code, err, _ = bot.stop()
    assert code == 0, err
    assert all("Le modèle de support" in _text(bot.replies(f"11.{n}")[0]) for n in range(5))
    assert err.count("The database failed while") == 1
    assert "Traceback" not in err


def test_a_database_deleted_while_serving_is_created_again(workdir):
    """The SQLite file is deleted under the bot: questions are answered, one warning says
    the file is created again, and what is asked afterwards is logged in the new file."""
    database = workdir / ".playbook" / "playbook.db"
    with ThreadedFake(FakeSlack) as slack:
        bot = Served(workdir, slack)
        assert bot.ask("Red Hat, quel modèle ?", "12.1", "EvDel1") == 200
        wait_until(lambda: bot.replies("12.1"), 30, "the first answer")
        for path in database.parent.glob("playbook.db*"):
            path.unlink()
        wait_until(lambda: _has_tables(database), 30, "the database to be created again")
        assert bot.ask("What is open core?", "12.2", "EvDel2") == 200
        wait_until(lambda: bot.replies("12.2"), 30, "the answer after the deletion")
        code, err, _ = bot.stop()
    assert code == 0, err
    assert "Le modèle Open core" in _text(bot.replies("12.2")[0])
    assert err.count("The database file was deleted or replaced while serving") == 1
    assert _logged_questions(database) == ["What is open core?"]


def test_sigterm_in_a_burst_loses_no_acknowledged_question(workdir):
    """150 mentions 5 ms apart, SIGTERM after the 100th: every mention Slack saw
    acknowledged (200) gets exactly one reply, an answer or "restarting"; the others were
    refused, so Slack sends them again; the bot exits 0 within the drain."""
    with ThreadedFake(FakeSlack) as slack:
        bot = Served(workdir, slack)
        with concurrent.futures.ThreadPoolExecutor(64) as pool:
            sent = []
            for n in range(150):
                question = f"Red Hat, quel modèle ? ({n})"
                sent.append(pool.submit(bot.ask, question, f"13.{n:04d}", f"EvB{n}", f"U{n:04d}"))
                if n == 99:
                    stopping = pool.submit(bot.stop)
                time.sleep(0.005)
            statuses = [f.result() for f in sent]
            code, err, seconds = stopping.result()
    acknowledged = [n for n, status in enumerate(statuses) if status == 200]
    assert len(acknowledged) >= 90, Counter(statuses)  # the burst was under way
    for n in acknowledged:
        replies = bot.replies(f"13.{n:04d}")
        assert len(replies) == 1, (n, replies)
        text = _text(replies[0])
        assert "Le modèle de support" in text or "Je redémarre : reposez votre question" in text
    assert code == 0, err
    assert seconds < DRAIN_SECONDS + 10
    assert "Traceback" not in err


def test_when_the_drain_time_runs_out_every_acknowledged_question_is_told(workdir):
    """A burst of 100 mentions and 100 ``/ask`` far longer than a 2 s drain, SIGTERM in the
    middle: at the deadline every acknowledged question still queued or being answered is
    told "restarting" (an answer or that notice each, never silence), then the bot exits 0."""
    drain = 2
    with ThreadedFake(FakeSlack) as slack:
        bot = Served(workdir, slack, PLAYBOOK_DRAIN_SECONDS=str(drain))
        with concurrent.futures.ThreadPoolExecutor(64) as pool:
            mentions, asks = {}, {}
            for n in range(200):
                # a long question (under the limit) costs the engine more than a short one
                question = f"Red Hat, quel modèle ? ({n}) " * 70
                if n % 2:
                    asks[n] = pool.submit(bot.ask_privately, question, f"ask{n}")
                else:
                    ts, user = f"14.{n:04d}", f"U{n:04d}"
                    mentions[n] = pool.submit(bot.ask, question, ts, f"EvD{n}", user)
                if n == 150:
                    stopping = pool.submit(bot.stop)
            code, err, seconds = stopping.result()
            statuses = {n: f.result() for n, f in (mentions | asks).items()}
    acknowledged = [n for n, status in statuses.items() if status == 200]
    assert len(acknowledged) >= 100, Counter(statuses.values())  # the burst was under way
    silent = []
    for n in acknowledged:
        got = bot.responses(f"ask{n}") if n in asks else bot.replies(f"14.{n:04d}")
        if len(got) != 1:
            silent.append((n, len(got)))
            continue
        text = _text(got[0])
        assert "Le modèle de support" in text or "Je redémarre : reposez votre question" in text
    assert not silent, f"{len(silent)} of {len(acknowledged)} acknowledged: {silent[:10]}"
    assert code == 0, err
    assert seconds < drain + 10
    assert "Traceback" not in err


def test_a_database_that_can_only_be_read_at_start_is_one_clear_message(workdir):
    """``serve`` with a database it cannot write: exit 1 and one line naming the database
    and what to check, no traceback."""
    database = workdir / ".playbook" / "playbook.db"
    assert run(workdir, "ask", "Red Hat ?").returncode == 0  # the database now exists
    with ThreadedFake(FakeSlack) as slack:
        env = {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": slack.fake.api_url,
            "PLAYBOOK_HEALTH_PORT": "0",
        }
        _read_only([database], True)
        try:
            result = run(workdir, "serve", "--slack-http", "--port", "0", env=env)
        finally:
            _read_only([database], False)
    assert result.returncode == 1
    assert (
        "Cannot open the database sqlite:///.playbook/playbook.db ((sqlite3.OperationalError) "
        "attempt to write a readonly database). Check that it exists and is writable"
    ) in result.stderr
    assert "Traceback" not in result.stderr and "unexpected error" not in result.stderr


def test_a_playbook_index_killed_half_way_leaves_nothing_at_the_next_run(workdir):
    """SIGKILL while ``playbook index`` writes its build: the next run removes the half-built
    folder, says so, and builds."""
    index = workdir / ".playbook" / "index"
    long_page = "\n\n".join(
        f"Le paragraphe {n} explique comment vendre du support à des clients." * 3
        for n in range(3000)
    )
    (workdir / "knowledge" / "long.md").write_text(f"## Long\n\n{long_page}\n")
    proc = start(workdir, "index")
    try:
        wait_until(lambda: list(index.glob(".tmp-v-*")), 120, "the build to start")
        proc.kill()
        proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    (left,) = index.glob(".tmp-v-*")
    (workdir / "knowledge" / "long.md").unlink()
    again = run(workdir, "index")
    assert again.returncode == 0, again.stderr
    assert f"Removed {left.name}, left by a build that did not finish." in again.stdout + (
        again.stderr
    )
    assert not list(index.glob(".tmp-v-*"))


def _without_privileges(action):
    """``action()``'s result, computed as an unprivileged user: in a forked child that drops
    to ``nobody`` when this runs as root (whom file modes do not stop), else here."""
    if os.geteuid() != 0:
        return action()
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child
        try:
            os.close(read)
            os.setgid(65534)
            os.setuid(65534)
            out = json.dumps(action())
        except BaseException as exc:
            out = json.dumps({"child failed": repr(exc)})
        os.write(write, out.encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        data = pipe.read()
    os.waitpid(child, 0)
    return json.loads(data)


def test_an_unreadable_folder_is_named_and_the_rest_indexed():
    """A sub-folder the bot's user cannot read is named, with why, and the other pages load."""
    from bot.core.knowledge.documents import load_pages

    kb = Path(tempfile.mkdtemp(prefix="playbook-kb-"))
    try:
        kb.chmod(0o755)
        (kb / "page.md").write_text("## Vrai\n\nUne vraie page.\n")
        (kb / "private").mkdir()
        (kb / "private" / "secret.md").write_text("## Secret\n\nNe pas lire.\n")

        def load() -> dict:
            pages, errors = load_pages(kb)
            return {"pages": [p.source for p in pages], "errors": [str(e) for e in errors]}

        # Readable, it is a page (and what reading needs is loaded before privileges go).
        assert load()["pages"] == ["page.md", "private/secret.md"]
        (kb / "private").chmod(0o000)
        loaded = _without_privileges(load)
    finally:
        (kb / "private").chmod(0o755)
        shutil.rmtree(kb)
    assert loaded == {
        "pages": ["page.md"],
        "errors": ["private: folder cannot be read (Permission denied)"],
    }


def _closed_by_server(port: int, seconds: float) -> bool:
    """Open a connection to 127.0.0.1:``port``, send half a request line and never finish
    the headers: whether the server closes it within ``seconds``."""
    import socket

    with socket.create_connection(("127.0.0.1", port), timeout=seconds) as conn:
        conn.sendall(b"POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow")
        try:
            return conn.recv(1024) == b""
        except TimeoutError:
            return False


def test_connections_that_never_finish_their_headers_are_closed(workdir):
    """Connections to the Slack endpoint and to /healthz that send part of a request and then
    nothing are closed once PLAYBOOK_HEADER_TIMEOUT_SECONDS has passed (1 s here, the default
    is 10 s), and the bot still answers."""
    with ThreadedFake(FakeSlack) as slack:
        bot = Served(workdir, slack, PLAYBOOK_HEADER_TIMEOUT_SECONDS="1")
        with concurrent.futures.ThreadPoolExecutor(20) as pool:
            ports = [bot.port] * 10 + [bot.health] * 10
            closed = list(pool.map(lambda port: _closed_by_server(port, 30), ports))
        assert closed == [True] * 20
        assert bot.ask("Red Hat, quel modèle ?", "14.1", "EvSlow") == 200
        wait_until(lambda: bot.replies("14.1"), 30, "the answer")
        code, err, _ = bot.stop()
    assert code == 0, err
    assert "Le modèle de support" in _text(bot.replies("14.1")[0])
    assert "Traceback" not in err


def test_a_bad_file_added_while_serving_is_named_and_later_edits_still_load(workdir):
    """A named pipe among the checklists while serving: /healthz names it (and stays 200, the
    bot works), and a page edited afterwards is answered from; before, that one bad file held
    every later edit back."""
    import os

    with ThreadedFake(FakeSlack) as slack:
        bot = Served(workdir, slack, PLAYBOOK_WATCH_SECONDS="1")
        try:
            os.mkfifo(workdir / "knowledge" / "checklists" / "x.yaml")
            named = "left out: checklists/x.yaml: not a regular file (a named pipe)"
            wait_until(lambda: named in bot.healthz()[1], 60, "/healthz to name the pipe")
            assert bot.healthz()[0] == 200
            page = workdir / "knowledge" / "commercialisation.md"
            page.write_text(
                page.read_text() + "\n\n## Le cabestan\n\nLe cabestan tourne le dimanche.\n"
            )
            question = "Quand tourne le cabestan ?"

            def answered_from_the_edit() -> bool:
                ts = f"1700000100.{int(time.monotonic() * 1000) % 1000000:06d}"
                assert bot.ask(question, ts, f"Ev{ts}") == 200
                wait_until(lambda: bot.replies(ts), 30, "a reply")
                return "tourne le dimanche" in _text(bot.replies(ts)[0])

            wait_until(answered_from_the_edit, 60, "the edit to be answered from")
        finally:
            code, err, _ = bot.stop()
    assert code == 0, err
    assert "Traceback" not in err

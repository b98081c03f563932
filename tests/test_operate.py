"""Operating the bot: both platforms in one process, health and metrics, live knowledge edits,
SIGTERM during an answer, and the masked configuration."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import pytest

from bot.config import Settings
from bot.core.assistant import Asker, Assistant
from bot.core.checklists import load_checklists
from bot.core.engine import KnowledgeEngine
from bot.core.lookup import ChecklistBook
from bot.core.reload import KnowledgeWatcher
from bot.core.store import Store
from tests.adapters.fake_discord import BOT_ID, BOT_USER, CHANNEL_ID, message_create
from tests.adapters.fake_slack import BOT_TOKEN, SIGNING_SECRET, event_body, sign
from tests.conftest import KNOWLEDGE
from tests.test_cli import run
from tests.test_serve import FakeDiscordThread, FakeSlackThread


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def _wait(predicate, timeout: float = 30.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _post_event(port: int, body: str) -> int:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/slack/events",
        data=body.encode(),
        headers={"Content-Type": "application/json", **sign(body)},
    )
    with urllib.request.urlopen(request, timeout=5) as resp:
        return resp.status


@pytest.fixture
def workdir(tmp_path):
    shutil.copytree(KNOWLEDGE, tmp_path / "knowledge")
    return tmp_path


def _serve(workdir, env: dict, *args: str) -> subprocess.Popen:
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith(("PLAYBOOK_", "SLACK_", "DISCORD_"))
    }
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "serve", *args],
        cwd=workdir,
        env={**clean, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_slack_and_discord_in_one_process_with_health_and_metrics(workdir):
    port, health = _free_port(), _free_port()
    with FakeSlackThread() as slack, FakeDiscordThread() as discord_fake:
        env = {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": slack.api_url,
            "DISCORD_TOKEN": "MTAwMDAwMDAwMDAwMDAwMDAy.fake.token-for-tests",
            "DISCORD_API_URL": discord_fake.api_url,
            "DISCORD_GATEWAY_URL": discord_fake.gateway_url,
            "PLAYBOOK_LOG_FORMAT": "json",
        }
        proc = _serve(
            workdir, env, "--slack-http", "--port", str(port), "--health-port", str(health)
        )
        try:
            _wait(
                lambda: (
                    _get(f"http://127.0.0.1:{health}/healthz")[0] == 200
                    if _port_open(health)
                    else False
                ),
                60,
                "healthz 200",
            )
            body = event_body(
                {
                    "type": "app_mention",
                    "user": "U0ALICE",
                    "text": "<@U0BOT> Red Hat, quel modèle ?",
                    "ts": "2.1",
                    "channel": "C0CHAN",
                    "event_ts": "2.1",
                },
                "EvBoth",
            )
            assert _post_event(port, body) == 200
            _wait(lambda: slack.of("chat.postMessage"), 20, "the Slack answer")
            assert "Le modèle de support" in json.dumps(
                slack.of("chat.postMessage")[0].body, ensure_ascii=False
            )
            import asyncio

            asyncio.run_coroutine_threadsafe(
                discord_fake.push(
                    "MESSAGE_CREATE",
                    message_create(
                        f"<@{BOT_ID}> What is the open core model?", mentions=[BOT_USER]
                    ),
                ),
                discord_fake_loop(discord_fake),
            ).result(5)
            _wait(
                lambda: discord_fake.of(f"/channels/{CHANNEL_ID}/messages"),
                20,
                "the Discord answer",
            )
            reply = discord_fake.of(f"/channels/{CHANNEL_ID}/messages")[0].body
            assert "Le modèle Open core" in reply["embeds"][0]["description"]
            status, metrics = _get(f"http://127.0.0.1:{health}/metrics")
            assert status == 200
            assert 'playbook_questions_total{outcome="answered",platform="slack"} 1.0' in metrics
            assert 'playbook_questions_total{outcome="answered",platform="discord"} 1.0' in metrics
            assert 'playbook_platform_connected{platform="discord"} 1.0' in metrics
            assert "playbook_index_passages 28.0" in metrics
            assert "playbook_answer_latency_seconds_bucket" in metrics
        finally:
            proc.send_signal(signal.SIGTERM)
            _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    questions = [line for line in lines if line["logger"] == "playbook.questions"]
    assert {q["platform"] for q in questions} == {"slack", "discord"}
    assert all(q["outcome"] == "answered" and q["latency_ms"] > 0 for q in questions)
    assert BOT_TOKEN not in err and "fake.token-for-tests" not in err


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def discord_fake_loop(fake):
    return FakeDiscordThread.loops[id(fake)]


def test_healthz_is_503_with_the_reason_when_a_platform_is_down(workdir):
    health = _free_port()
    with FakeDiscordThread() as discord_fake:
        discord_fake.hold_ready = True  # the gateway never says READY
        env = {
            "DISCORD_TOKEN": "MTAwMDAwMDAwMDAwMDAwMDAy.fake.token-for-tests",
            "DISCORD_API_URL": discord_fake.api_url,
            "DISCORD_GATEWAY_URL": discord_fake.gateway_url,
        }
        proc = _serve(workdir, env, "--health-port", str(health))
        try:
            _wait(lambda: _port_open(health), 60, "the health port")
            status, text = _get(f"http://127.0.0.1:{health}/healthz")
            assert status == 503
            assert text == "unhealthy: discord is not connected\n"
            _wait(lambda: discord_fake.identify is not None, 20, "IDENTIFY")
            assert _get(f"http://127.0.0.1:{health}/healthz")[0] == 503
            metrics = _get(f"http://127.0.0.1:{health}/metrics")[1]
            assert 'playbook_platform_connected{platform="discord"} 0.0' in metrics
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.communicate(timeout=30)
        assert proc.returncode == 0


def test_sigterm_during_an_answer_delivers_it_and_exits_0(workdir):
    port = _free_port()
    with FakeSlackThread() as slack:
        slack.delays["chat.postMessage"] = 2.0  # the answer is still being delivered
        env = {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": slack.api_url,
            "PLAYBOOK_HEALTH_PORT": "0",
        }
        proc = _serve(workdir, env, "--slack-http", "--port", str(port))
        try:
            _wait(lambda: _port_open(port), 60, "the Slack port")
            body = event_body(
                {
                    "type": "app_mention",
                    "user": "U0ALICE",
                    "text": "<@U0BOT> Red Hat ?",
                    "ts": "3.1",
                    "channel": "C0CHAN",
                    "event_ts": "3.1",
                },
                "EvTerm",
            )
            assert _post_event(port, body) == 200
            _wait(lambda: slack.of("chat.postMessage"), 20, "the answer to start")
            proc.send_signal(signal.SIGTERM)
            _out, err = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
        assert proc.returncode == 0, err
        assert "chat.postMessage" in slack.answered  # the answer was delivered, not cut off
    assert "Le modèle de support" in json.dumps(
        slack.of("chat.postMessage")[0].body, ensure_ascii=False
    )


def test_config_masks_every_secret(workdir):
    secrets = {
        "SLACK_BOT_TOKEN": "xoxb-known-secret-value-1",
        "SLACK_APP_TOKEN": "xapp-known-secret-value-2",
        "SLACK_SIGNING_SECRET": "known-signing-secret-3",
        "DISCORD_TOKEN": "known.discord.token.value.4",
        "PLAYBOOK_USER_SALT": "known-salt-value-5",
        "PLAYBOOK_DATABASE_URL": "postgresql+psycopg://bot:known-db-password-6@db:5432/playbook",
    }
    result = run(workdir, "config", env={**secrets, "PLAYBOOK_TOP_K": "4"})
    assert result.returncode == 0
    for name, value in secrets.items():
        secret = "known-db-password-6" if name.endswith("URL") else value
        assert secret not in result.stdout, name
        assert name in result.stdout
    assert "postgresql+psycopg://bot:****@db:5432/playbook" in result.stdout
    assert "PLAYBOOK_TOP_K" in result.stdout and " 4\n" in result.stdout
    (workdir / ".env").write_text("DISCORD_TOKEN=from-dotenv-secret-7\n")
    from_file = run(workdir, "config")
    assert "from-dotenv-secret-7" not in from_file.stdout
    assert "DISCORD_TOKEN" in from_file.stdout and "**** (set)" in from_file.stdout


def test_editing_a_page_while_200_questions_are_asked(engine, tmp_path):
    kb = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, kb)
    settings = Settings(
        knowledge_dir=kb,
        index_dir=tmp_path / "index",
        database_url=f"sqlite:///{tmp_path / 'db.sqlite'}",
    )
    live = KnowledgeEngine.open(settings, embedder=engine.embedder)
    checklists, _ = load_checklists(kb)
    assistant = Assistant(
        engine=live,
        store=Store(settings.database_url),
        checklists=ChecklistBook(checklists),
        log_questions=False,
    )
    watcher = KnowledgeWatcher(settings, assistant)
    asker = Asker("test", "c", "u")
    questions = [
        "Red Hat, quel modèle ?",
        "What is the open core model?",
        "Quels sont les trois piliers du succès ?",
        "Why do customers dislike vendor lock-in?",
    ]
    failures, answers = [], []

    def worker(n: int) -> None:
        for i in range(50):
            try:
                answers.append(assistant.ask(questions[(n + i) % 4], asker))
            except Exception as exc:  # pragma: no cover - reported below
                failures.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    page = kb / "commercialisation.md"
    page.write_text(
        page.read_text().replace(
            "Redhat est le plus ancien et le spécialiste de ce modèle.",
            "Red Hat, pionnier du support, vend des souscriptions depuis 1993.",
        )
    )
    assert watcher.changed() == "pages changed"
    result = watcher.reload(watcher.changed())
    for t in threads:
        t.join(60)
    assert failures == [] and len(answers) == 200
    assert result.swapped, result.describe()
    after = assistant.ask("Red Hat, quel modèle ?", asker)
    assert "pionnier du support" in after.quotes[0].text
    assert watcher.changed() is None
    # A page that fails to parse keeps the old index serving, and says why.
    (kb / "broken.md").write_text("---\ntitle: [oops\n---\nText\n")
    failed = watcher.reload(watcher.changed())
    assert not failed.swapped
    assert "broken.md: front matter does not parse" in failed.describe()
    assert "pionnier du support" in assistant.ask("Red Hat, quel modèle ?", asker).quotes[0].text
    assert watcher.changed() is None  # reported once, until the next edit


def test_a_build_by_another_process_is_picked_up_and_admins_only(engine, tmp_path):
    from bot.core.engine import build

    kb = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, kb)
    settings = Settings(knowledge_dir=kb, index_dir=tmp_path / "index", admins="slack:U1, 42")
    live = KnowledgeEngine.open(settings, embedder=engine.embedder)
    assistant = Assistant(
        engine=live,
        store=Store(f"sqlite:///{tmp_path / 'db.sqlite'}"),
        checklists=ChecklistBook([]),
        log_questions=False,
    )
    watcher = KnowledgeWatcher(settings, assistant)
    assert watcher.changed() is None
    build(settings, engine.embedder)  # as `playbook index` in another process would
    assert watcher.changed() == "a new index was built by another process"
    result = watcher.reload("a new index was built by another process")
    assert result.swapped and live.index.path.name == (tmp_path / "index" / "CURRENT").read_text()
    assert watcher.changed() is None
    assert settings.is_admin("slack", "U1") and settings.is_admin("discord", "42")
    assert not settings.is_admin("discord", "U1") and not settings.is_admin("slack", "U2")

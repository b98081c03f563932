"""``playbook serve`` with Slack credentials: clear start-up errors, and a real run over HTTP."""

import asyncio
import json
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from typing import ClassVar

import pytest

from tests.adapters.fake_slack import BOT_TOKEN, SIGNING_SECRET, FakeSlack, event_body, sign
from tests.conftest import KNOWLEDGE
from tests.test_cli import run


class FakeSlackThread:
    """The fake Slack Web API on its own event loop in a thread (for subprocess tests)."""

    def __enter__(self):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.fake = asyncio.run_coroutine_threadsafe(FakeSlack().start(), self.loop).result(10)
        return self.fake

    def __exit__(self, *exc):
        asyncio.run_coroutine_threadsafe(self.fake.stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("serve")
    shutil.copytree(KNOWLEDGE, folder / "knowledge")
    return folder


def test_missing_signing_secret_is_named(workdir):
    result = run(workdir, "serve", env={"SLACK_BOT_TOKEN": "xoxb-1"})
    assert result.returncode == 2
    assert "SLACK_SIGNING_SECRET is not set" in result.stderr
    assert "Traceback" not in result.stderr


def test_malformed_token_is_named_without_echoing_it(workdir):
    result = run(workdir, "serve", env={"SLACK_BOT_TOKEN": "secret-value-123"})
    assert result.returncode == 2
    assert "SLACK_BOT_TOKEN must be the app's Bot User OAuth Token" in result.stderr
    assert "secret-value-123" not in result.stderr


def test_refused_token_exits_non_zero(workdir):
    with FakeSlackThread() as fake:
        fake.fail("auth.test", 200, {"ok": False, "error": "invalid_auth"})
        env = {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": fake.api_url,
        }
        result = run(workdir, "serve", env=env)
    assert result.returncode == 2
    assert "SLACK_BOT_TOKEN was refused by Slack (invalid_auth)" in result.stderr
    assert BOT_TOKEN not in result.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_answers_a_mention_over_http_and_stops_on_sigterm(workdir):
    port = _free_port()
    with FakeSlackThread() as fake:
        env = {
            **{
                k: v
                for k, v in __import__("os").environ.items()
                if not k.startswith(("PLAYBOOK_", "SLACK_", "DISCORD_"))
            },
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": fake.api_url,
        }
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve", "--slack-http", "--port", str(port)],
            cwd=workdir,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            deadline = time.monotonic() + 60
            body = event_body(
                {
                    "type": "app_mention",
                    "user": "U0ALICE",
                    "text": "<@U0BOT> Red Hat ?",
                    "ts": "1.5",
                    "channel": "C0CHAN",
                    "event_ts": "1.5",
                },
                "EvServe",
            )
            while True:
                request = urllib.request.Request(
                    f"http://127.0.0.1:{port}/slack/events",
                    data=body.encode(),
                    headers={"Content-Type": "application/json", **sign(body)},
                )
                try:
                    with urllib.request.urlopen(request, timeout=5) as resp:
                        assert resp.status == 200
                    break
                except OSError:
                    if time.monotonic() > deadline or proc.poll() is not None:
                        raise
                    time.sleep(0.2)
            deadline = time.monotonic() + 20
            while not fake.of("chat.postMessage") and time.monotonic() < deadline:
                time.sleep(0.05)
            (post,) = fake.of("chat.postMessage")
            assert post.body["thread_ts"] == "1.5"
            assert "Le modèle de support" in json.dumps(post.body["blocks"], ensure_ascii=False)
        finally:
            proc.terminate()
            _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "Slack: listening on http://127.0.0.1" in err
    assert BOT_TOKEN not in err and SIGNING_SECRET not in err


class FakeDiscordThread(FakeSlackThread):
    """The fake Discord on its own event loop in a thread."""

    loops: ClassVar[dict] = {}  # id(fake) → its loop, to push gateway events from a test

    def __enter__(self):
        from tests.adapters.fake_discord import FakeDiscord

        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.fake = asyncio.run_coroutine_threadsafe(FakeDiscord().start(), self.loop).result(10)
        FakeDiscordThread.loops[id(self.fake)] = self.loop
        return self.fake


def test_discord_invite_and_sync_need_credentials(workdir):
    invite = run(workdir, "discord", "invite", env={"DISCORD_APPLICATION_ID": "123456"})
    assert invite.returncode == 0
    assert invite.stdout.strip() == (
        "https://discord.com/oauth2/authorize?client_id=123456"
        "&scope=bot+applications.commands&permissions=274877991936"
    )
    sync = run(workdir, "discord", "sync")
    assert sync.returncode == 2
    assert "DISCORD_TOKEN is not set" in sync.stderr


def test_discord_sync_and_refused_token(workdir):
    from tests.adapters.fake_discord import APP_ID, GUILD_ID, TOKEN

    with FakeDiscordThread() as fake:
        env = {
            "DISCORD_TOKEN": TOKEN,
            "DISCORD_API_URL": fake.api_url,
            "DISCORD_GATEWAY_URL": fake.gateway_url,
        }
        synced = run(workdir, "discord", "sync", "--guild", GUILD_ID, env=env)
        assert synced.returncode == 0, synced.stderr
        assert f"Registered /ask, /checklist, /playbook in guild {GUILD_ID}." in synced.stdout
        assert fake.of(f"/applications/{APP_ID}/guilds/{GUILD_ID}/commands", "PUT")
        fake.refuse_token = True
        served = run(workdir, "serve", env=env)
    assert served.returncode == 2
    assert "DISCORD_TOKEN was refused by Discord." in served.stderr
    assert TOKEN not in served.stderr

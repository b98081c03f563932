"""Operating the bot: both platforms in one process, health and metrics, live knowledge edits,
SIGTERM during an answer, and the masked configuration."""

from __future__ import annotations

import json
import logging
import shutil
import signal
import threading
import time

import pytest

from bot.config import Settings
from bot.core.assistant import Asker, Assistant
from bot.core.knowledge.documents import KnowledgeDirError
from bot.core.reload import KnowledgeWatcher
from bot.core.retrieval.engine import KnowledgeEngine
from bot.core.team.checklists import load_checklists
from bot.core.team.lookup import ChecklistBook
from bot.core.team.store import Store
from tests.adapters.fake_discord import (
    BOT_ID,
    BOT_USER,
    CHANNEL_ID,
    TOKEN,
    FakeDiscord,
    message_create,
)
from tests.adapters.fake_slack import (
    BOT_TOKEN,
    SIGNING_SECRET,
    FakeSlack,
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
    wait_until,
)


@pytest.fixture
def workdir(tmp_path):
    """A fresh copy for every test here: these tests write the index and the database."""
    return copy_knowledge(tmp_path)


def _post_mention(port: int, text: str, ts: str, event_id: str) -> int:
    body = event_body(mention(text, ts=ts), event_id)
    headers = {"Content-Type": "application/json", **sign(body)}
    return http_post(f"http://127.0.0.1:{port}/slack/events", body, headers)


def _slack_env(fake, **extra) -> dict:
    return {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": fake.api_url,
        **extra,
    }


def _discord_env(fake) -> dict:
    return {
        "DISCORD_TOKEN": TOKEN,
        "DISCORD_API_URL": fake.api_url,
        "DISCORD_GATEWAY_URL": fake.gateway_url,
    }


def test_slack_and_discord_in_one_process_with_health_and_metrics(workdir):
    with ThreadedFake(FakeSlack) as slack, ThreadedFake(FakeDiscord) as discord:
        env = {
            **_slack_env(slack.fake),
            **_discord_env(discord.fake),
            "PLAYBOOK_LOG_FORMAT": "json",
            "PLAYBOOK_WEB_PORT": "auto",
        }
        proc = Bot(
            workdir, "serve", "--slack-http", "--port", "0", "--health-port", "auto", env=env
        )
        try:
            health, port = proc.port("health"), proc.port("slack")
            healthz = f"http://127.0.0.1:{health}/healthz"
            wait_until(lambda: http_get(healthz)[0] == 200, 60, "healthz")
            assert _post_mention(port, "Red Hat, quel modèle ?", "2.1", "EvBoth") == 200
            wait_until(lambda: slack.fake.of("chat.postMessage"), 20, "the Slack answer")
            (post,) = slack.fake.of("chat.postMessage")
            assert post.body["thread_ts"] == "2.1"
            assert "Le modèle de support" in json.dumps(post.body, ensure_ascii=False)
            question = message_create(
                f"<@{BOT_ID}> What is the open core model?", mentions=[BOT_USER]
            )
            discord.call(discord.fake.push("MESSAGE_CREATE", question))
            replies = f"/channels/{CHANNEL_ID}/messages"
            wait_until(lambda: discord.fake.of(replies), 20, "the Discord answer")
            reply = discord.fake.of(replies)[0].body
            assert "Le modèle Open core" in reply["embeds"][0]["description"]
            status, metrics = http_get(f"http://127.0.0.1:{health}/metrics")
            assert status == 200
            assert 'playbook_questions_total{outcome="answered",platform="slack"} 1.0' in metrics
            assert 'playbook_questions_total{outcome="answered",platform="discord"} 1.0' in metrics
            assert 'playbook_platform_connected{platform="discord"} 1.0' in metrics
            assert "playbook_index_passages 28.0" in metrics
            assert "playbook_answer_latency_seconds_bucket" in metrics
            # the maintainers' pages, served by the same process over the same database
            overview = f"http://127.0.0.1:{proc.port('web')}/"
            wait_until(lambda: '<p class="big">2</p>' in http_get(overview)[1], 30, "2 questions")
            assert ">discord<" in http_get(overview)[1] and ">slack<" in http_get(overview)[1]
        finally:
            proc.send_signal(signal.SIGTERM)
            _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    questions = [line for line in lines if line["logger"] == "playbook.questions"]
    assert {q["platform"] for q in questions} == {"slack", "discord"}
    assert all(q["outcome"] == "answered" and q["latency_ms"] > 0 for q in questions)
    assert BOT_TOKEN not in err and TOKEN not in err and SIGNING_SECRET not in err


def test_the_web_pages_refuse_an_outside_address_without_a_token(workdir):
    done = run(workdir, "web", env={"PLAYBOOK_WEB_HOST": "0.0.0.0"})
    assert done.returncode == 2
    assert "PLAYBOOK_WEB_HOST=0.0.0.0 is not a loopback address" in done.stderr
    assert "PLAYBOOK_WEB_TOKEN" in done.stderr and "Traceback" not in done.stderr


def test_healthz_is_503_with_the_reason_when_a_platform_is_down(workdir):
    with ThreadedFake(FakeDiscord) as discord:
        discord.fake.hold_ready = True  # the gateway never says READY
        proc = Bot(workdir, "serve", "--health-port", "auto", env=_discord_env(discord.fake))
        try:
            health = proc.port("health")
            status, text = http_get(f"http://127.0.0.1:{health}/healthz")
            assert status == 503
            assert text == "unhealthy: discord is not connected\n"
            wait_until(lambda: discord.fake.identify is not None, 20, "IDENTIFY")
            assert http_get(f"http://127.0.0.1:{health}/healthz")[0] == 503
            metrics = http_get(f"http://127.0.0.1:{health}/metrics")[1]
            assert 'playbook_platform_connected{platform="discord"} 0.0' in metrics
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.communicate(timeout=30)
        assert proc.returncode == 0


def test_sigterm_during_an_answer_delivers_it_and_exits_0(workdir):
    with ThreadedFake(FakeSlack) as slack:
        slack.fake.delays["chat.postMessage"] = 2.0  # the answer is still being delivered
        env = _slack_env(slack.fake, PLAYBOOK_HEALTH_PORT="0")
        proc = Bot(workdir, "serve", "--slack-http", "--port", "0", env=env)
        try:
            port = proc.port("slack")
            assert _post_mention(port, "Red Hat ?", "3.1", "EvTerm") == 200
            wait_until(lambda: slack.fake.of("chat.postMessage"), 20, "the answer to start")
            proc.send_signal(signal.SIGTERM)
            _out, err = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
        assert proc.returncode == 0, err
        assert "chat.postMessage" in slack.fake.answered  # delivered, not cut off
        (post,) = slack.fake.of("chat.postMessage")
    assert post.body["thread_ts"] == "3.1"
    assert "Le modèle de support" in json.dumps(post.body, ensure_ascii=False)
    assert f"Slack: listening on http://127.0.0.1:{port}/slack/events" in err
    assert BOT_TOKEN not in err and SIGNING_SECRET not in err


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
    kb = copy_knowledge(tmp_path) / "knowledge"
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
    # A page that fails to parse is left out and named; the rest loads.
    (kb / "broken.md").write_text("---\ntitle: [oops\n---\nText\n")
    skipped = watcher.reload(watcher.changed())
    assert skipped.swapped
    assert "broken.md: front matter does not parse" in skipped.describe()
    assert "pionnier du support" in assistant.ask("Red Hat, quel modèle ?", asker).quotes[0].text
    assert watcher.changed() is None  # reported once, until the next edit
    # An edit that breaks a page keeps the page's last good version, named.
    page.write_text("---\ntitle: [oops\n---\n" + page.read_text())
    kept = watcher.reload(watcher.changed())
    assert kept.swapped
    assert "commercialisation.md: front matter does not parse" in kept.describe()
    assert "its last good version is kept" in kept.describe()
    assert "pionnier du support" in assistant.ask("Red Hat, quel modèle ?", asker).quotes[0].text


def test_a_build_by_another_process_is_picked_up_and_admins_only(engine, tmp_path):
    from bot.core.retrieval.engine import build

    kb = copy_knowledge(tmp_path) / "knowledge"
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


def _watched_copy(engine, tmp_path):
    """A copy of the knowledge base, an engine over it, and a watcher of its changes."""
    kb = copy_knowledge(tmp_path) / "knowledge"
    settings = Settings(knowledge_dir=kb, index_dir=tmp_path / "index")
    live = KnowledgeEngine.open(settings, embedder=engine.embedder)
    assistant = Assistant(
        engine=live,
        store=Store(f"sqlite:///{tmp_path / 'db.sqlite'}"),
        checklists=ChecklistBook(load_checklists(kb)[0]),
        log_questions=False,
    )
    return kb, live, KnowledgeWatcher(settings, assistant)


def test_a_glossary_edit_is_picked_up_and_a_broken_one_keeps_its_last_good_version(
    engine, tmp_path
):
    kb, live, watcher = _watched_copy(engine, tmp_path)
    glossary = kb / "glossary.yaml"
    glossary.write_text(glossary.read_text() + "- fr: [Redhat]\n  en: [Shadowman]\n")
    assert watcher.changed() == "glossary changed"
    assert watcher.reload(watcher.changed()).swapped
    assert "Redhat" in {t.text for t in live.index.glossary.expand("Shadowman").terms}
    glossary.write_text("- fr: [entonnoir]\n")
    page = kb / "commercialisation.md"
    page.write_text(page.read_text() + "\n\nLe cabestan tourne le dimanche.\n")
    kept = watcher.reload(watcher.changed())
    assert kept.swapped  # the page's edit loads all the same
    assert "glossary.yaml: entry 1: an entry needs at least two terms" in kept.describe()
    assert "Redhat" in {t.text for t in live.index.glossary.expand("Shadowman").terms}
    assert any("cabestan" in p.text for p in live.index.passages)


def test_an_examples_edit_is_picked_up_and_a_broken_one_keeps_its_last_good_version(
    engine, tmp_path
):
    kb, live, watcher = _watched_copy(engine, tmp_path)
    examples = kb / "examples.yaml"
    question = "Who wears the red fedora at the conference?"
    examples.write_text(
        examples.read_text(encoding="utf-8")
        + f"- question: {question}\n  sections: [Le modèle de support]\n",
        encoding="utf-8",
    )
    assert watcher.changed() == "examples changed"
    assert watcher.reload(watcher.changed()).swapped
    assert question in live.index.examples
    examples.write_text("- question: Who is Red Hat?\n", encoding="utf-8")
    kept = watcher.reload(watcher.changed())
    assert kept.swapped
    assert "examples.yaml: entry 1: 'Who is Red Hat?' needs a non-empty list" in kept.describe()
    assert question in live.index.examples


@pytest.mark.parametrize("damage", ["corrupt", "deleted"])
def test_a_served_index_damaged_on_disk_is_rebuilt_from_the_pages(engine, tmp_path, damage, caplog):
    kb, live, watcher = _watched_copy(engine, tmp_path)
    served = live.index.path
    if damage == "corrupt":
        vectors = served / "vectors.npy"
        data = bytearray(vectors.read_bytes())
        data[-4096:] = bytes(4096)  # same size, other bytes
        vectors.write_bytes(bytes(data))
    else:
        shutil.rmtree(tmp_path / "index")
    page = kb / "commercialisation.md"
    page.write_text(page.read_text() + "\n\nLe cabestan tourne le dimanche.\n")
    assert watcher.changed() == "pages changed"
    with caplog.at_level(logging.WARNING):
        result = watcher.reload("pages changed")
    assert result.swapped
    assert any("cabestan" in p.text for p in live.index.passages)
    assert live.index.path != served
    assert live.ask("Quand tourne le cabestan ?").quotes[0].text.count("cabestan") == 1
    if damage == "corrupt":
        assert "vectors.npy does not match its checksum" in caplog.text


def test_sigterm_during_a_live_reindex_abandons_it_and_exits_in_time(workdir):
    """A page edit starts a re-index that takes a while; SIGTERM then stops it at its next
    step, removes its temporary folder and exits 0 within the drain time and a small bound."""
    index = workdir / ".playbook" / "index"
    with ThreadedFake(FakeSlack) as slack:
        env = _slack_env(
            slack.fake,
            PLAYBOOK_HEALTH_PORT="0",
            PLAYBOOK_WATCH_SECONDS="1",
            PLAYBOOK_DRAIN_SECONDS="2",
        )
        proc = Bot(workdir, "serve", "--slack-http", "--port", "0", env=env)
        try:
            proc.port("slack")  # serving: the watcher is running
            long_page = "\n\n".join(
                f"Le paragraphe {n} explique comment vendre du support à des clients." * 3
                for n in range(3000)
            )
            (workdir / "knowledge" / "long.md").write_text(f"## Long\n\n{long_page}\n")
            wait_until(lambda: list(index.glob(".tmp-v-*")), 60, "the re-index to start")
            sent = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            _out, err = proc.communicate(timeout=30)
            took = time.monotonic() - sent
        finally:
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode == 0, err
    assert took < 2 + 15, took  # the drain, then one embedding call (slow on a busy machine)
    assert not list(index.glob(".tmp-v-*"))
    assert "Re-indexing abandoned: the bot is stopping." in err


def test_an_index_that_cannot_be_refreshed_is_reported_after_a_bound(engine, tmp_path):
    kb, _live, watcher = _watched_copy(engine, tmp_path)
    page = kb / "commercialisation.md"
    good = page.read_text()
    page.unlink()  # no page left to index: the old index serves
    with pytest.raises(KnowledgeDirError):
        watcher.reload(watcher.changed())
    assert watcher.stale_problem() is None  # within the bound: the old index serves
    stale = watcher.stale_problem(bound=0)
    assert stale and stale.startswith("the index could not be refreshed for")
    assert "Nothing to index" in stale
    page.write_text(good)
    assert watcher.reload(watcher.changed()).swapped
    assert watcher.stale_problem(bound=0) is None


def test_a_checklist_added_while_serving_can_be_found_and_ticked(engine, tmp_path):
    kb, _live, watcher = _watched_copy(engine, tmp_path)
    (kb / "checklists" / "hire-a-devrel.yaml").write_text(
        "id: hire-a-devrel\ntitle: Hire a devrel\nitems:\n"
        "  - text: Write the job description\n  - text: Talk to three candidates\n",
        encoding="utf-8",
    )
    assert watcher.reload(watcher.changed()).swapped
    board = watcher.assistant.board
    checklist = board.find("hire a devrel").checklist
    assert checklist is not None and checklist.title == "Hire a devrel"
    state = board.tick("cli:local:x", checklist, "2", "erin")
    assert [s.done for s in state.items] == [False, True]


def test_a_named_pipe_among_the_checklists_is_named_and_later_edits_still_load(engine, tmp_path):
    """A named pipe at checklists/x.yaml held the reload for ever: no later edit loaded and
    /playbook reindex never replied. It is named, and the next edit loads."""
    import os

    kb, live, watcher = _watched_copy(engine, tmp_path)
    assert watcher.changed() is None
    os.mkfifo(kb / "checklists" / "x.yaml")
    reason = watcher.changed()
    assert reason is not None
    results = []
    reloading = threading.Thread(target=lambda: results.append(watcher.reload(reason)), daemon=True)
    reloading.start()
    reloading.join(60)
    assert results, "the reload is still blocked on the named pipe"
    assert results[0].swapped
    assert "checklists/x.yaml: not a regular file (a named pipe)" in results[0].describe()
    assert [str(e) for e in watcher.skipped] == [
        "checklists/x.yaml: not a regular file (a named pipe): not loaded"
    ]
    page = kb / "commercialisation.md"  # the pipe stays: later edits load all the same
    page.write_text(page.read_text().replace("Redhat est le plus ancien", "Red Hat, pionnier,"))
    assert watcher.reload(watcher.changed()).swapped
    assert "Red Hat, pionnier," in " ".join(p.text for p in live.index.passages)

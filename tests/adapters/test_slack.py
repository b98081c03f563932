"""The real bolt app over HTTP on 127.0.0.1, talking to a fake Slack Web API on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from urllib.parse import parse_qs, parse_qsl, urlencode

import pytest
from aiohttp import ClientSession

from bot.adapters.slack_app import SlackBot, SlackConfig, SlackConfigError
from bot.config import Settings
from bot.core.assistant import Asker, Assistant
from bot.core.messages import message
from bot.core.team.checklists import load_checklists
from bot.core.team.learning import gather
from bot.core.team.lookup import ChecklistBook
from bot.core.team.report import build_report
from bot.core.team.store import Store, conversation_key
from bot.serve import admin_commands
from tests.adapters.fake_slack import (
    APP_TOKEN,
    BOT_TOKEN,
    SIGNING_SECRET,
    TEAM,
    FakeSlack,
    action_body,
    command_body,
    direct_message,
    event_body,
    mention,
    sign,
)
from tests.conftest import KNOWLEDGE
from tests.helpers import serve_app, wait_for_calls

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"


class Harness:
    """Fake Slack + the bot's HTTP endpoint, both on 127.0.0.1, stopped on exit."""

    def __init__(self, engine, tmp_path, *, followups=True, rate=0, app_token=""):
        self.engine = engine
        self.tmp_path = tmp_path
        self.followups = followups
        self.rate = rate
        self.app_token = app_token

    async def __aenter__(self) -> Harness:
        self.fake = await FakeSlack().start()
        checklists, _ = load_checklists(KNOWLEDGE)
        self.store = Store(f"sqlite:///{self.tmp_path / 'slack.db'}")
        self.assistant = Assistant(
            engine=self.engine,
            store=self.store,
            checklists=ChecklistBook(checklists),
            rate_limit_per_minute=self.rate,
        )
        config = SlackConfig(
            bot_token=BOT_TOKEN,
            signing_secret=SIGNING_SECRET,
            app_token=self.app_token,
            api_url=self.fake.api_url,
        )
        self.bot = SlackBot(self.assistant, config, thread_followups=self.followups)
        await self.bot.verify()
        self.runner, port = await serve_app(self.bot.web_app("/slack/events"))
        self.url = f"http://127.0.0.1:{port}/slack/events"
        self.http = ClientSession()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.http.close()
        await self.runner.cleanup()
        await self.fake.stop()
        self.store.close()
        self.engine.learn([])  # the engine is shared: what a test taught stays in it

    async def settled(self) -> None:
        """Wait until every request the bot acknowledged has been handled to the end (its
        replies sent), so "nothing else was sent" is a fact, not a guess."""
        assert await self.bot.inflight.idle(60), "the bot was still busy after 60 s"

    async def post(self, body: str, content_type: str, headers=None, timestamp=None):
        sent = {"Content-Type": content_type, **sign(body, timestamp), **(headers or {})}
        async with self.http.post(self.url, data=body.encode(), headers=sent) as resp:
            return resp.status, await resp.text()

    async def event(self, event: dict, event_id: str, headers=None):
        return await self.post(event_body(event, event_id), JSON, headers)

    async def command(self, command: str, text: str):
        body = command_body(command, text, self.fake.response_url())
        return await self.post(body, FORM)

    async def action(self, action: dict, message_ts: str = "", user: str = "U0BOB"):
        body = action_body(action, self.fake.response_url("a"), message_ts, user=user)
        return await self.post(body, FORM)


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 240))


def blocks_text(body: dict) -> str:
    blocks = body.get("blocks")
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    return json.dumps(blocks, ensure_ascii=False)


def test_mention_is_answered_in_a_thread_citing_the_section(engine, tmp_path):
    async def scenario():
        async with Harness(engine, tmp_path) as h:
            status, _ = await h.event(mention("Red Hat, quel modèle ?"), "Ev1")
            assert status == 200
            (call,) = await h.fake.wait_for("chat.postMessage")
            assert call.headers["Authorization"] == f"Bearer {BOT_TOKEN}"
            assert call.body["channel"] == "C0CHAN"
            assert call.body["thread_ts"] == "1700000001.000100"
            text = blocks_text(call.body)
            assert "Voici ce que dit la base de connaissances" in text
            assert "Le modèle de support" in text
            assert "#le-mod%C3%A8le-de-support|Commercialisation › Les modèles" in text
            assert "feedback_up" in text and "feedback_down" in text
            assert call.body["text"].startswith("Voici ce que dit la base de connaissances")

    run(scenario())


def test_an_unsure_answer_says_so_before_its_quotes(engine, tmp_path):
    """A question the page does not answer but scores just above the abstention threshold:
    the reply says the knowledge base may not answer it, then quotes what comes closest."""

    async def scenario():
        async with Harness(engine, tmp_path) as h:
            await h.event(mention("How do I fork a repository on GitHub?"), "EvHedge")
            (call,) = await h.fake.wait_for("chat.postMessage")
            lead = "I am not sure the knowledge base answers this question"
            assert call.body["text"].startswith(lead)
            text = blocks_text(call.body)
            assert lead in text and "knowledge/commercialisation.md#" in text
            assert "feedback_up" in text and "feedback_down" in text

    run(scenario())


def test_a_burst_right_after_start_asks_slack_who_the_bot_is_once(engine, tmp_path):
    """30 mentions arriving together on a bot just started are all answered, and Slack is
    asked ``auth.test`` once (at start), not once per waiting request: each extra call waits
    on Slack and counts against its rate limit."""

    async def scenario():
        async with Harness(engine, tmp_path) as h:
            asked = [
                h.event(mention("Red Hat, quel modèle ?", ts=f"1700000100.{n:06d}"), f"EvB{n}")
                for n in range(30)
            ]
            assert [status for status, _ in await asyncio.gather(*asked)] == [200] * 30
            await h.fake.wait_for("chat.postMessage", 30, timeout=60)
            await h.settled()
            assert len(h.fake.of("auth.test")) == 1

    run(scenario())


def test_thread_follow_up_without_mention_and_setting_off(engine, tmp_path):
    follow = {
        "type": "message",
        "user": "U0ALICE",
        "text": "Et qu'est-ce que le modèle open core ?",
        "ts": "1700000001.000200",
        "thread_ts": "1700000001.000100",
        "channel": "C0CHAN",
        "channel_type": "channel",
    }

    async def scenario(followups: bool, expected: int):
        async with Harness(engine, tmp_path / str(followups), followups=followups) as h:
            await h.event(mention("Red Hat, quel modèle ?"), "Ev1")
            await h.fake.wait_for("chat.postMessage")
            await h.event(follow, "Ev2")
            stranger = {**follow, "thread_ts": "1600000000.000001", "ts": "1700000001.000300"}
            await h.event(stranger, "Ev3")  # a thread the bot never answered in
            await h.settled()
            calls = h.fake.of("chat.postMessage")
            assert len(calls) == expected
            if expected == 2:
                assert calls[1].body["thread_ts"] == "1700000001.000100"
                assert "Le modèle Open core" in blocks_text(calls[1].body)

    run(scenario(True, 2))
    run(scenario(False, 1))


def test_a_thread_follow_up_sent_the_moment_the_answer_arrives_is_answered(engine, tmp_path):
    """The user replies in the thread as soon as the answer shows in Slack, before the bot
    has even heard back from ``chat.postMessage``: the thread was noted before the answer was
    delivered, so the follow-up (no mention) is answered."""
    follow = {
        "type": "message",
        "user": "U0ALICE",
        "text": "Et qu'est-ce que le modèle open core ?",
        "ts": "1700000001.000200",
        "thread_ts": "1700000001.000100",
        "channel": "C0CHAN",
        "channel_type": "channel",
    }

    async def scenario():
        async with Harness(engine, tmp_path) as h:
            delivered = asyncio.Event()
            h.fake.hold("chat.postMessage", delivered)  # the answer is in Slack, not yet acked
            await h.event(mention("Red Hat, quel modèle ?"), "Ev1")
            await h.fake.wait_for("chat.postMessage")
            await h.event(follow, "Ev2")
            try:
                calls = await h.fake.wait_for("chat.postMessage", 2, timeout=60)
            finally:
                delivered.set()
            await h.settled()
            assert calls[1].body["thread_ts"] == "1700000001.000100"
            assert "Le modèle Open core" in blocks_text(calls[1].body)

    run(scenario())


def test_small_talk_gets_the_invitation_when_addressed_and_no_reply_in_a_thread(engine, tmp_path):
    """A mention "merci !" gets the French invitation as plain text (no quote, no buttons);
    "thanks 👍" in that thread without a mention gets nothing, while a question there is still
    answered; ``/ask thanks!`` gets the English invitation privately."""
    follow = {
        "type": "message",
        "user": "U0ALICE",
        "thread_ts": "1700000001.000100",
        "channel": "C0CHAN",
        "channel_type": "channel",
    }

    async def scenario():
        async with Harness(engine, tmp_path) as h:
            await h.event(mention("merci !"), "Ev1")
            (invitation,) = await h.fake.wait_for("chat.postMessage")
            assert invitation.body["text"] == message("fr", "smalltalk_thanks")
            assert invitation.body["text"].startswith("Avec plaisir !")
            assert invitation.body["thread_ts"] == "1700000001.000100"
            assert not invitation.body.get("blocks")  # no quote, no vote buttons
            thanks = {**follow, "text": "thanks 👍", "ts": "1700000001.000200"}
            await h.event(thanks, "Ev2")
            await h.settled()
            assert len(h.fake.of("chat.postMessage")) == 1
            question = {**follow, "text": "Red Hat, quel modèle ?", "ts": "1700000001.000300"}
            await h.event(question, "Ev3")
            posts = await h.fake.wait_for("chat.postMessage", 2)
            assert "Le modèle de support" in blocks_text(posts[1].body)
            await h.command("/ask", "thanks!")
            (response,) = await h.fake.wait_for("response")
            assert response.body["response_type"] == "ephemeral"
            assert response.body["text"] == message("en", "smalltalk_thanks")
            assert not response.body.get("blocks")
            await h.settled()
            assert len(h.fake.of("chat.postMessage")) == 2

    run(scenario())


def test_direct_message_is_answered_and_noise_ignored(engine, tmp_path):
    dm = direct_message("Why do customers dislike vendor lock-in?", ts="1700000002.000100")

    async def scenario():
        async with Harness(engine, tmp_path) as h:
            await h.event({**dm, "bot_id": "B0OTHER"}, "Ev0a")
            await h.event({**dm, "subtype": "message_changed"}, "Ev0b")
            await h.event({**dm, "subtype": "channel_join", "text": "joined"}, "Ev0c")
            await h.event({**dm, "user": "U0BOT"}, "Ev0d")
            await h.event(dm, "Ev1")
            (call,) = await h.fake.wait_for("chat.postMessage")
            await h.settled()
            assert len(h.fake.of("chat.postMessage")) == 1
            assert call.body["channel"] == "D0DM"
            assert not call.body.get("thread_ts")
            text = blocks_text(call.body)
            assert "Here is what the knowledge base says:" in text
            assert "vendor lock-in" in text and "Le modèle SaaS" in text

    run(scenario())


def test_a_retried_event_is_answered_once(engine, tmp_path):
    async def scenario():
        async with Harness(engine, tmp_path) as h:
            event = mention("Qu'est-ce que le value-market fit ?")
            await h.event(event, "EvSame")
            retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
            status, _ = await h.event(event, "EvSame", headers=retry)
            assert status == 200
            await h.fake.wait_for("chat.postMessage")
            await h.settled()
            assert len(h.fake.of("chat.postMessage")) == 1

    run(scenario())


def test_ask_is_private_then_shared_publicly(engine, tmp_path):
    async def scenario():
        async with Harness(engine, tmp_path) as h:
            started = time.monotonic()
            status, _ = await h.command("/ask", "Quels sont les trois piliers du succès ?")
            assert status == 200 and time.monotonic() - started < 3.0
            (response,) = await h.fake.wait_for("response")
            assert response.body["response_type"] == "ephemeral"
            text = blocks_text(response.body)
            assert "Les trois piliers du succès" in text and "share_answer" in text
            blocks = response.body["blocks"]
            share = next(
                e
                for b in blocks
                if b["type"] == "actions"
                for e in b["elements"]
                if e["action_id"] == "share_answer"
            )
            await h.action(share)
            (post,) = await h.fake.wait_for("chat.postMessage")
            assert post.body["channel"] == "C0CHAN"
            shared = blocks_text(post.body)
            assert "Les trois piliers du succès" in shared
            assert "<@U0BOB>" in shared and "share_answer" not in shared
            responses = await h.fake.wait_for("response", 2)
            assert responses[1].body.get("delete_original") is True

    run(scenario())


def test_an_answer_is_shared_once_and_only_where_it_was_given(engine, tmp_path):
    """ "Share in channel" clicked five times at once, the first click naming another channel:
    the answer is posted once, in the channel where it was asked; the other clicks are told
    it was already shared."""

    async def scenario():
        async with Harness(engine, tmp_path) as h:
            await h.command("/ask", "Quels sont les trois piliers du succès ?")
            (response,) = await h.fake.wait_for("response")
            share = next(
                e
                for b in response.body["blocks"]
                if b["type"] == "actions"
                for e in b["elements"]
                if e["action_id"] == "share_answer"
            )
            url = h.fake.response_url("a")
            channels = ["C0OTHER", "C0CHAN", "C0CHAN", "C0CHAN", "C0CHAN"]
            clicks = [h.post(action_body(share, url, channel=c), FORM) for c in channels]
            assert [status for status, _ in await asyncio.gather(*clicks)] == [200] * 5
            await h.settled()
            (post,) = h.fake.of("chat.postMessage")
            assert post.body["channel"] == "C0CHAN"
            assert "Les trois piliers du succès" in blocks_text(post.body)
            told = [r.body.get("text") for r in h.fake.of("response")[1:]]
            assert told.count(message("fr", "already_shared")) == 4
            assert message("fr", "already_shared") == (
                "Cette réponse a déjà été partagée dans le canal."
            )

    run(scenario())


def test_ask_without_text_answers_with_usage(engine, tmp_path):
    async def scenario():
        async with Harness(engine, tmp_path) as h:
            status, body = await h.command("/ask", "  ")
            assert status == 200
            assert "Usage: `/ask <question>`" in body
            await h.settled()
            assert h.fake.of("response") == []

    run(scenario())


async def _vote_buttons(h: Harness, question: str) -> tuple[dict, dict]:
    """Ask ``question`` by a mention; the 👍 and 👎 buttons of the answer."""
    await h.event(mention(question), "Ev1")
    (post,) = await h.fake.wait_for("chat.postMessage")
    buttons = next(b for b in post.body["blocks"] if b["type"] == "actions")["elements"]
    by_id = {e["action_id"]: e for e in buttons}
    return by_id["feedback_up"], by_id["feedback_down"]


def test_feedback_click_is_stored_and_acknowledged_privately(engine, tmp_path):
    async def scenario():
        async with Harness(engine, tmp_path) as h:
            _, down = await _vote_buttons(h, "Que doit gérer le product manager ?")
            status, _ = await h.action(down, message_ts="1700000000.000001")
            assert status == 200
            (thanks,) = await h.fake.wait_for("response")
            assert thanks.body["response_type"] == "ephemeral"
            assert thanks.body["replace_original"] is False
            assert thanks.body["text"] == "Merci ! Quelle section y répond ?"  # and a menu
            assert h.store.feedback_counts() == {"up": 0, "down": 1}

    run(scenario())


def _menu(response: dict) -> dict[str, str]:
    """The options of the menu sent after 👎: text → value."""
    blocks = response["blocks"]
    blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
    menu = blocks[0]["accessory"]
    assert menu["type"] == "static_select"
    return {o["text"]["text"]: o["value"] for o in menu["options"]}


def _chosen(value: str) -> dict:
    """The interaction's action when an option of the menu is picked."""
    option = {"text": {"type": "plain_text", "text": "x"}, "value": value}
    return {"type": "static_select", "action_id": "teach_section", "selected_option": option}


def test_a_section_picked_after_thumbs_down_is_cited_first_for_the_next_asker(engine, tmp_path):
    """👎 → "Which section answers it?" with the closest sections → a pick → the same question
    asked by someone else cites the picked section first; "None" lands in the gaps."""
    # A question the default engine answers with another section (Value-market fit).
    question = "pmf ça se mesure comment ?"
    right = "Les trois piliers du succès"

    async def scenario():
        async with Harness(engine, tmp_path) as h:
            before = h.assistant.ask(question, Asker("slack", "C0CHAN", "U0ZED"))
            assert before.quotes[0].citation.section != right  # the answer to correct
            _, down = await _vote_buttons(h, question)
            await h.action(down, message_ts="1700000000.000001")
            (menu,) = await h.fake.wait_for("response")
            assert menu.body["response_type"] == "ephemeral"
            options = _menu(menu.body)
            assert right in options and "Aucune : la base ne traite pas ce sujet" in options
            await h.action(_chosen(options[right]), message_ts="1700000000.000001")
            (_, noted) = await h.fake.wait_for("response", count=2)
            assert noted.body["replace_original"] is True
            assert (
                noted.body["text"]
                == f"Noté : « {right} » sera citée en premier pour cette question."
            )
            await h.event(mention(question, ts="1700000009.0001", user="U0CAROL"), "Ev9")
            posts = await h.fake.wait_for("chat.postMessage", count=2)
            again = next(p for p in posts if p.body["thread_ts"] == "1700000009.0001")
            first = next(b for b in again.body["blocks"] if b["type"] == "context")
            assert first["elements"][0]["text"].endswith(f"|Commercialisation › {right}>")

            _, down = await _vote_buttons_for(h, "Comment recruter un CTO ?", "Ev10", "10.1")
            await h.action(down, message_ts="1700000000.000002")
            responses = await h.fake.wait_for("response", count=3)
            none = _menu(responses[-1].body)["Aucune : la base ne traite pas ce sujet"]
            await h.action(_chosen(none), message_ts="1700000000.000002")
            responses = await h.fake.wait_for("response", count=4)
            assert responses[-1].body["text"].startswith("Noté : la base ne traite pas ce sujet")
            rows = h.store.taught(h.assistant.knowledge)
            assert [(r.question, r.section_title) for r in rows] == [
                (question, right),
                ("Comment recruter un CTO ?", ""),
            ]
            report = build_report(h.store, not_covered=gather(rows)[1])
            gap = next(g for g in report["gaps"] if g["question"] == "Comment recruter un CTO ?")
            assert gap["not_covered"] == 1

    run(scenario())


async def _vote_buttons_for(h: Harness, question: str, event_id: str, ts: str):
    """Ask ``question`` by a mention in thread ``ts``; its answer's 👍 and 👎 buttons."""
    await h.event(mention(question, ts=ts), event_id)
    found = await h.fake.wait_for("chat.postMessage", count=3)
    post = next(p for p in found if p.body["thread_ts"] == ts)
    buttons = next(b for b in post.body["blocks"] if b["type"] == "actions")["elements"]
    by_id = {e["action_id"]: e for e in buttons}
    return by_id["feedback_up"], by_id["feedback_down"]


def test_one_user_clicking_five_times_is_one_vote(engine, tmp_path):
    async def scenario():
        async with Harness(engine, tmp_path) as h:
            up, down = await _vote_buttons(h, "Que doit gérer le product manager ?")
            for clicked in (up, up, up, up, down):
                status, _ = await h.action(clicked, message_ts="1700000000.000001")
                assert status == 200
            await h.fake.wait_for("response", count=5)
            assert h.store.feedback_counts() == {"up": 0, "down": 1}

    run(scenario())


def test_checklist_list_post_tick_untick_and_reset(engine, tmp_path):
    async def scenario():
        async with Harness(engine, tmp_path) as h:
            await h.command("/checklist", "")
            (listing,) = await h.fake.wait_for("response")
            assert "walk-the-funnel" in listing.body["text"]
            await h.command("/checklist", "pmf")
            (post,) = await h.fake.wait_for("chat.postMessage")
            assert post.body["blocks"][0]["text"]["text"] == "Product-market fit"
            items = [
                b for b in post.body["blocks"] if b.get("accessory", {}).get("type") == "checkboxes"
            ]
            assert len(items) == 3
            second = items[1]
            option = second["accessory"]["options"][0]
            tick = {
                "type": "checkboxes",
                "action_id": "checklist_item",
                "block_id": second["block_id"],
                "selected_options": [option],
            }
            await h.action(tick, message_ts="1700000000.000001")
            (update,) = await h.fake.wait_for("chat.update")
            assert update.body["ts"] == "1700000000.000001"
            updated = blocks_text(update.body)
            assert "*1/3* done" in updated and ":white_check_mark: bob" in updated
            conversation = conversation_key("slack", TEAM, "C0CHAN")
            stored = h.store.progress(conversation, "product-market-fit")
            assert [t.by for t in stored.values()] == ["U0BOB"]
            await h.action({**tick, "selected_options": []}, message_ts="1700000000.000001")
            updates = await h.fake.wait_for("chat.update", 2)
            assert "*0/3* done" in blocks_text(updates[1].body)
            await h.action(tick, message_ts="1700000000.000001")
            await h.fake.wait_for("chat.update", 3)
            await h.command("/checklist", "pmf reset")
            posts = await h.fake.wait_for("chat.postMessage", 2)
            assert "*0/3* done" in blocks_text(posts[1].body)
            assert h.store.progress(conversation, "product-market-fit") == {}
            await h.command("/checklist", "budget spreadsheet")
            responses = await h.fake.wait_for("response", 2)
            assert responses[1].body["text"].startswith("No checklist by that name. The closest:")

    run(scenario())


def read_only(store: Store) -> None:
    """From now on ``store`` reads its SQLite file but cannot write it, as when the file
    turns read-only under the bot."""
    from sqlalchemy import create_engine

    path = store.engine.url.database
    store.engine.dispose()
    store.engine = create_engine(f"sqlite:///file:{path}?mode=ro&uri=true")


def test_a_tick_or_reset_that_cannot_be_stored_is_apologised_for(engine, tmp_path):
    """With the database read-only, ticking an item and ``/checklist pmf reset`` each tell
    the user privately that it did not work; the message is not shown as ticked."""

    async def scenario():
        async with Harness(engine, tmp_path) as h:
            await h.command("/checklist", "pmf")
            (post,) = await h.fake.wait_for("chat.postMessage")
            second = [
                b for b in post.body["blocks"] if b.get("accessory", {}).get("type") == "checkboxes"
            ][1]
            tick = {
                "type": "checkboxes",
                "action_id": "checklist_item",
                "block_id": second["block_id"],
                "selected_options": [second["accessory"]["options"][0]],
            }
            read_only(h.store)
            status, _ = await h.action(tick, message_ts="1700000000.000001")
            assert status == 200
            (sorry,) = await h.fake.wait_for("response")
            assert sorry.body["response_type"] == "ephemeral"
            assert sorry.body["text"] == message("en", "sorry")
            await h.settled()
            assert all("*1/3* done" not in blocks_text(u.body) for u in h.fake.of("chat.update"))
            await h.command("/checklist", "pmf reset")
            responses = await h.fake.wait_for("response", 2)
            assert responses[1].body["response_type"] == "ephemeral"
            assert responses[1].body["text"] == message("en", "sorry")
            await h.settled()
            assert len(h.fake.of("chat.postMessage")) == 1  # no checklist shown as cleared

    run(scenario())


def test_a_checklist_asked_for_in_french_is_posted_ticked_and_explained_in_french(engine, tmp_path):
    """``/checklist les piliers`` reads French: the checklist's own words are French, and stay
    French when someone ticks it; the replies about it (an item or a checklist gone, a name
    not found, a channel the bot is not in) are French too."""

    async def scenario():
        async with Harness(engine, tmp_path) as h:
            await h.command("/checklist", "les piliers")
            (post,) = await h.fake.wait_for("chat.postMessage")
            assert post.body["blocks"][0]["text"]["text"] == "Les trois piliers du succès"
            assert "*0/3* faits" in blocks_text(post.body)
            assert post.body["text"] == "Les trois piliers du succès : 0/3 faits"
            items = [
                b for b in post.body["blocks"] if b.get("accessory", {}).get("type") == "checkboxes"
            ]
            option = items[0]["accessory"]["options"][0]
            assert option["text"]["text"] == "Fait"
            tick = {
                "type": "checkboxes",
                "action_id": "checklist_item",
                "block_id": items[0]["block_id"],
                "selected_options": [option],
            }
            await h.action(tick, message_ts="1700000000.000001")
            (update,) = await h.fake.wait_for("chat.update")
            assert "*1/3* faits" in blocks_text(update.body)

            checklist_id = items[0]["block_id"].split("|")[0]
            gone_item = {**tick, "block_id": f"{checklist_id}|i-0000000000|fr"}
            await h.action(gone_item, message_ts="1700000000.000001")
            (notice,) = await h.fake.wait_for("response")
            assert notice.body["text"] == (
                "Cet élément n'est plus dans la checklist ; voici la checklist actuelle."
            )
            updates = await h.fake.wait_for("chat.update", 2)
            assert "*1/3* faits" in blocks_text(updates[1].body)
            gone = {**tick, "block_id": "une-checklist-retiree|i-0000000000|fr"}
            await h.action(gone, message_ts="1700000000.000001")
            responses = await h.fake.wait_for("response", 2)
            assert responses[1].body["text"] == (
                "Cette checklist n'est plus dans la base de connaissances."
            )

            await h.command("/checklist", "le tableur du budget")
            responses = await h.fake.wait_for("response", 3)
            assert (
                responses[2]
                .body["text"]
                .startswith("Aucune checklist de ce nom. Les plus proches :")
            )
            h.fake.fail("chat.postMessage", 200, {"ok": False, "error": "not_in_channel"})
            await h.command("/checklist", "les piliers")
            responses = await h.fake.wait_for("response", 4)
            assert responses[3].body["text"] == (
                "Je ne suis pas dans ce canal : invitez-moi d'abord avec `/invite @playbook`."
            )

    run(scenario())


def test_bad_signature_and_stale_timestamp_are_refused(engine, tmp_path):
    async def scenario():
        async with Harness(engine, tmp_path) as h:
            body = event_body(mention("open core"), "Ev1")
            headers = {"Content-Type": JSON, **sign(body, secret="wrong-secret")}
            async with h.http.post(h.url, data=body.encode(), headers=headers) as resp:
                assert resp.status == 401
            status, _ = await h.post(body, JSON, timestamp=int(time.time()) - 360)
            assert status == 401
            await h.settled()
            assert h.fake.of("chat.postMessage") == []

    run(scenario())


def test_channel_ping_in_a_question_is_not_echoed_as_a_ping(engine, tmp_path):
    async def scenario():
        async with Harness(engine, tmp_path) as h:
            question = "<!channel> <!here> <!everyone> what is the open core model? " + "x " * 1200
            await h.event(mention(question), "Ev1")
            (post,) = await h.fake.wait_for("chat.postMessage")
            everything = json.dumps(post.body, ensure_ascii=False)
            for ping in ("<!channel>", "<!here>", "<!everyone>"):
                assert ping not in everything
            assert "Question cut to 2000 characters." in everything

    run(scenario())


def test_rate_limited_calls_are_retried_and_failures_apologised(engine, tmp_path):
    async def scenario():
        async with Harness(engine, tmp_path) as h:
            h.fake.fail(
                "chat.postMessage", 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "1"}
            )
            await h.event(mention("Red Hat, quel modèle ?"), "Ev1")
            calls = await h.fake.wait_for("chat.postMessage", 2)
            assert "Le modèle de support" in blocks_text(calls[1].body)
            h.fake.fail("chat.postMessage", 200, {"ok": False, "error": "invalid_blocks"})
            await h.event(mention("Qu'est-ce que le modèle open core ?", ts="1700000009.1"), "Ev2")
            calls = await h.fake.wait_for("chat.postMessage", 4)
            assert calls[3].body["text"].startswith("Désolé, une erreur m'a empêché de répondre")
            assert calls[3].body["thread_ts"] == "1700000009.1"

    run(scenario())


def test_per_user_rate_limit_says_slow_down(engine, tmp_path):
    dm = direct_message("open core ?")

    async def scenario():
        async with Harness(engine, tmp_path, rate=1) as h:
            await h.event({**dm, "ts": "1.1"}, "Ev1")
            await h.fake.wait_for("chat.postMessage")
            await h.event({**dm, "ts": "1.2"}, "Ev2")
            calls = await h.fake.wait_for("chat.postMessage", 2)
            assert calls[1].body["text"] == message("fr", "slow_down")  # "open core ?" reads French

    run(scenario())


def test_socket_mode_slash_command(engine, tmp_path):
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    async def scenario():
        async with Harness(engine, tmp_path, app_token=APP_TOKEN) as h:
            handler = AsyncSocketModeHandler(h.bot.app, APP_TOKEN)
            await handler.connect_async()
            try:
                payload = dict(
                    pair.split("=", 1)
                    for pair in command_body("/ask", "Red Hat", h.fake.response_url()).split("&")
                )
                from urllib.parse import unquote_plus

                payload = {k: unquote_plus(v) for k, v in payload.items()}
                await h.fake.ws_envelopes.put(
                    {
                        "envelope_id": "env-1",
                        "type": "slash_commands",
                        "payload": payload,
                        "accepts_response_payload": True,
                    }
                )
                (response,) = await h.fake.wait_for("response")
                assert "Le modèle de support" in blocks_text(response.body)
                assert any(a.get("envelope_id") == "env-1" for a in h.fake.ws_acks)
                opened = h.fake.of("apps.connections.open")
                assert opened[0].headers["Authorization"] == f"Bearer {APP_TOKEN}"
            finally:
                await handler.close_async()

    run(scenario())


def test_invalid_or_missing_credentials_are_named():
    with pytest.raises(SlackConfigError, match="SLACK_BOT_TOKEN"):
        SlackConfig(bot_token="nope").check()
    with pytest.raises(SlackConfigError, match="SLACK_SIGNING_SECRET"):
        SlackConfig(bot_token="xoxb-1").check()
    with pytest.raises(SlackConfigError, match="SLACK_APP_TOKEN"):
        SlackConfig(bot_token="xoxb-1", app_token="bad").check()
    SlackConfig(bot_token="xoxb-1", app_token="xapp-1").check()  # socket mode needs no secret

    async def scenario():
        fake = await FakeSlack().start()
        try:
            fake.fail("auth.test", 200, {"ok": False, "error": "invalid_auth"})
            config = SlackConfig(bot_token=BOT_TOKEN, signing_secret="s", api_url=fake.api_url)
            bot = SlackBot(assistant=None, config=config)  # type: ignore[arg-type]
            with pytest.raises(
                SlackConfigError, match=r"SLACK_BOT_TOKEN was refused by Slack \(invalid_auth\)"
            ):
                await bot.verify()
        finally:
            await fake.stop()
        # Nothing listens there any more: that is not a refused token.
        unreachable = SlackConfig(bot_token=BOT_TOKEN, signing_secret="s", api_url=fake.api_url)
        bot = SlackBot(assistant=None, config=unreachable)  # type: ignore[arg-type]
        with pytest.raises(SlackConfigError, match=r"Cannot reach Slack at .*not checked") as err:
            await bot.verify()
        assert "refused by Slack" not in str(err.value)

    run(scenario())


def test_playbook_reindex_and_examples_are_for_admins(engine, tmp_path):
    async def scenario():
        async with Harness(engine, tmp_path) as h:
            calls = []

            async def reindex(platform: str, user: str) -> str:
                calls.append((platform, user))
                return "Knowledge reloaded (requested): 28 passages."

            settings = Settings(admins="slack:U0ALICE")
            h.bot.admin = admin_commands(settings, h.assistant, reindex)
            await h.command("/playbook", "reindex")
            (response,) = await h.fake.wait_for("response")
            assert response.body["text"] == "Knowledge reloaded (requested): 28 passages."
            assert calls == [("slack", "U0ALICE")]
            await h.command("/playbook", "dance")
            responses = await h.fake.wait_for("response", 2)
            assert responses[1].body["text"] == (
                "Usage: `/playbook reindex` or `/playbook examples` (admins)."
            )
            question = "Qu'est-ce que l'entonnoir ?"
            key, citation = h.assistant.closest_sections(question)[3]
            h.assistant.teach(question, key, Asker("slack", "C0CHAN", "U0BOB"))
            await h.command("/playbook", "examples")
            responses = await h.fake.wait_for("response", 3)
            assert responses[2].body["response_type"] == "ephemeral"
            assert responses[2].body["text"].startswith("1 learned example(s):\n#1 ")
            assert f"{question} → {citation.section} (1 vote(s))" in responses[2].body["text"]
            h.bot.admin = admin_commands(Settings(admins="slack:U0SOMEONE"), h.assistant, reindex)
            await h.command("/playbook", "examples")
            responses = await h.fake.wait_for("response", 4)
            assert responses[3].body["text"] == (
                "Only the admins listed in PLAYBOOK_ADMINS can use /playbook examples."
            )

    run(scenario())


def test_playbook_usage_is_french_for_a_french_asker(engine, tmp_path):
    async def scenario():
        async with Harness(engine, tmp_path) as h:
            await h.command("/playbook", "que faire ?")  # the adapter's own usage
            (response,) = await h.fake.wait_for("response")
            french_usage = "Utilisation : `/playbook reindex` ou `/playbook examples` (admins)."
            assert response.body["text"] == french_usage

            async def reindex(platform: str, user: str) -> str:
                raise AssertionError("an unknown action reloads nothing")

            h.bot.admin = admin_commands(Settings(admins="slack:U0ALICE"), h.assistant, reindex)
            await h.command("/playbook", "réindexer")  # the admin commands' usage
            responses = await h.fake.wait_for("response", 2)
            assert responses[1].body["text"] == french_usage

    run(scenario())


@pytest.mark.parametrize(
    ("body", "content_type", "signed", "status"),
    [
        ("{not json", "application/json", False, 401),
        ("{not json", "application/json", True, 400),
        ("[1, 2]", "application/json", True, 400),
        ("payload=%7Bbroken", "application/x-www-form-urlencoded", True, 400),
        ("payload=%5B1%5D", "application/x-www-form-urlencoded", True, 400),
    ],
)
def test_an_unsigned_or_unparsable_request_is_refused_in_one_line(
    engine, tmp_path, caplog, body, content_type, signed, status
):
    async def scenario():
        async with Harness(engine, tmp_path) as h:
            headers = None if signed else {"X-Slack-Signature": "v0=forged"}
            with caplog.at_level(logging.INFO):
                got, text = await h.post(body, content_type, headers)
            assert got == status and len(text) < 40
            assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
            refused = [r for r in caplog.records if "refused" in r.getMessage()]
            assert len(refused) == 1
            assert not h.fake.of("chat.postMessage")

    run(scenario())


def test_a_broken_database_loses_no_question_and_answers_retries_once(engine, tmp_path):
    """With the database's tables gone, questions are still answered, a retry of one is still
    recognised (in memory), the failure is said once and named for /healthz; once the
    database works again, the next write clears it."""
    import sqlite3

    from bot.core.db import metadata

    async def scenario():
        async with Harness(engine, tmp_path) as h:
            broken = sqlite3.connect(tmp_path / "slack.db")
            for table in ("processed_events", "questions", "answers", "answered_threads"):
                broken.execute(f"DROP TABLE IF EXISTS {table}")
            broken.commit()
            broken.close()
            await h.event(mention("Red Hat, quel modèle ?"), "EvA")
            await h.event(mention("Red Hat, quel modèle ?"), "EvA")  # Slack's retry
            await h.event(mention("Qu'est-ce que l'open core ?", ts="1700000002.0001"), "EvB")
            posts = await h.fake.wait_for("chat.postMessage", count=2)
            answered = sorted(p.body["thread_ts"] for p in posts)  # answered in either order
            assert answered == ["1700000001.000100", "1700000002.0001"]
            assert any("Le modèle de support" in blocks_text(p.body) for p in posts)
            assert h.assistant.recorder.flush()
            assert len(h.fake.of("chat.postMessage")) == 2  # the retry was not answered again
            problem = h.assistant.recorder.problem
            assert problem and problem.startswith("the database cannot be written")
            metadata.create_all(h.store.engine)  # the database is back
            h.assistant.recorder.run("checking the database", h.store.probe, None)
            assert h.assistant.recorder.problem is None

    run(scenario())


def _event_with(**changes) -> str:
    """An Events API body with top-level fields replaced."""
    body = json.loads(event_body(mention("Red Hat, quel modèle ?"), "EvMal"))
    body.update(changes)
    return json.dumps(body)


def _actions_with(**changes) -> str:
    """A ``block_actions`` form body with payload fields replaced."""
    share = {"type": "button", "action_id": "share_answer", "value": "0123456789abcdef"}
    form = parse_qs(action_body(share, "http://127.0.0.1:9/response/a"))
    payload = json.loads(form["payload"][0])
    payload.update(changes)
    return urlencode({"payload": json.dumps(payload)})


MALFORMED = [
    (_actions_with(actions=[]), FORM),
    (_actions_with(actions="share_answer"), FORM),
    (_actions_with(actions={"action_id": "share_answer"}), FORM),
    (_actions_with(actions=[None]), FORM),
    (_actions_with(actions=[7]), FORM),
    (_actions_with(user="U0BOB", channel=["C0CHAN"]), FORM),
    (_actions_with(team=5), FORM),
    (_event_with(event=None), JSON),
    (_event_with(event="app_mention"), JSON),
    (_event_with(event=["app_mention"]), JSON),
    (_event_with(event={"text": "<@U0BOT> hi"}), JSON),
    (_event_with(event={**mention("hi"), "channel": None}), JSON),
    (_event_with(event={**mention("hi"), "text": ["hi"]}), JSON),
    (_event_with(event={**mention("hi"), "user": {"id": 5}}), JSON),
    (_event_with(authorizations=[None]), JSON),
    (_event_with(authorizations="T0TEAM"), JSON),
]


@pytest.mark.parametrize(("body", "content_type"), MALFORMED, ids=range(len(MALFORMED)))
def test_a_signed_but_malformed_payload_is_refused_quietly(
    engine, tmp_path, caplog, body, content_type
):
    """A signed body whose actions, event or the like have the wrong shape is refused with a
    4xx in one log line: never a 500, never a traceback, nothing posted."""

    async def scenario():
        async with Harness(engine, tmp_path) as h:
            with caplog.at_level(logging.INFO):
                status, text = await h.post(body, content_type)
                await h.settled()
            assert 400 <= status < 500 and len(text) < 80, (status, text)
            assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
            assert len([r for r in caplog.records if "refused" in r.getMessage()]) == 1
            assert not h.fake.of("chat.postMessage") and not h.fake.of("response")

    run(scenario())


def test_a_malformed_socket_mode_envelope_is_acknowledged_quietly(engine, tmp_path, caplog):
    """In Socket Mode, an envelope whose event is null or whose actions are empty is
    acknowledged and dropped in one log line, without a traceback; the next one is answered."""
    from bot.adapters.slack_server import serve_socket

    def envelope(envelope_id: str, kind: str, payload: dict) -> dict:
        return {"envelope_id": envelope_id, "type": kind, "payload": payload}

    async def scenario():
        async with Harness(engine, tmp_path, app_token=APP_TOKEN) as h:
            stop = asyncio.Event()
            serving = asyncio.create_task(serve_socket(h.bot, APP_TOKEN, stop, 1))
            try:
                await wait_for_calls(lambda: h.fake.of("apps.connections.open"), 1, 15, "socket")
                event = json.loads(_event_with(event=None))
                actions = json.loads(parse_qs(_actions_with(actions=[]))["payload"][0])
                command = dict(parse_qsl(command_body("/ask", "Red Hat", h.fake.response_url())))
                with caplog.at_level(logging.INFO):
                    await h.fake.ws_envelopes.put(envelope("env-1", "events_api", event))
                    await h.fake.ws_envelopes.put(envelope("env-2", "interactive", actions))
                    await h.fake.ws_envelopes.put(envelope("env-3", "slash_commands", command))
                    (response,) = await h.fake.wait_for("response")
                    acked = lambda: [a for a in h.fake.ws_acks if a.get("envelope_id")]  # noqa: E731
                    await wait_for_calls(acked, 3, 15, "the acknowledgements")
                assert "Le modèle de support" in blocks_text(response.body)
                assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
                assert len([r for r in caplog.records if "refused" in r.getMessage()]) == 2
                assert not h.fake.of("chat.postMessage")
            finally:
                stop.set()
                await serving

    run(scenario())


def _strips_within(text_code: str, seconds: float) -> bool:
    """Whether ``question_text`` of the text ``text_code`` builds returns within ``seconds``,
    in a child process killed at the deadline (the regex engine holds the GIL: a thread of
    this process could not even time it out)."""
    import subprocess
    import sys

    code = f"from bot.adapters.slack_questions import question_text; question_text({text_code})"
    try:
        subprocess.run([sys.executable, "-c", code], check=True, timeout=seconds)
    except subprocess.TimeoutExpired:
        return False
    return True


def test_mentions_are_stripped_in_linear_time():
    """A message of ``<@A|`` repeated (no ``>``) made the mention pattern backtrack over the
    rest of the message from every ``<@``: quadratic, 4 s for Slack's 40,000 characters on
    the event loop. Ten times that is stripped well within a generous deadline (quadratic, it
    would take minutes), and mentions are still taken out of a question."""
    from bot.adapters.slack_questions import question_text

    assert _strips_within("'<@A|' * 100_000", 20.0)
    assert _strips_within("'<@UAAAAAAAA' * 40_000 + ' x'", 20.0)
    assert question_text("<@U0BOT> Red Hat, <@U0BOB|bob> quel modèle ?") == "Red Hat, quel modèle ?"
    assert question_text("<@A|" * 3 + "why?") == "<@A|" * 3 + "why?"


def _thread_message(text: str, thread: str, ts: str) -> dict:
    return {
        "type": "message",
        "user": "U0ALICE",
        "text": text,
        "ts": ts,
        "thread_ts": thread,
        "channel": "C0CHAN",
        "channel_type": "channel",
    }


def _first_block(body: dict) -> str:
    blocks = body.get("blocks")
    blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
    return blocks[0]["text"]["text"]


def test_a_thread_is_a_conversation_read_in_context_kept_over_a_restart(engine, tmp_path):
    """A follow-up in a thread is answered in the context of the thread's last answer and
    says what it understood first; the same words in another thread of the channel read that
    thread's context; a complete question on another subject is answered alone; after a
    restart (a new bot on the same database) the thread's context is still there."""
    one, two = "1700000001.000100", "1700000002.000100"

    async def posted(h: Harness, count: int, thread: str) -> dict:
        calls = await h.fake.wait_for("chat.postMessage", count)
        return [c for c in calls if c.body["thread_ts"] == thread][-1].body

    async def scenario():
        async with Harness(engine, tmp_path) as h:
            await h.event(mention("Qu'est-ce que le modèle open core ?", ts=one), "Ev1")
            await h.fake.wait_for("chat.postMessage")
            await h.event(mention("Qu'est-ce que le modèle SaaS ?", ts=two), "Ev2")
            await h.fake.wait_for("chat.postMessage", 2)
            await h.event(_thread_message("pourquoi ?", one, "1700000003.0001"), "Ev3")
            body = await posted(h, 3, one)
            assert _first_block(body) == "*Sur « Le modèle Open core » :*"
            assert body["text"].startswith("Sur « Le modèle Open core » :")
            assert "forker votre projet" in blocks_text(body)
            await h.event(_thread_message("pourquoi ?", two, "1700000004.0001"), "Ev4")
            other = await posted(h, 4, two)
            assert _first_block(other) == "*Sur « Le modèle SaaS » :*"  # its own thread's
            switch = "Qu'est-ce que le value-market fit ?"
            await h.event(_thread_message(switch, one, "1700000005.0001"), "Ev5")
            alone = await posted(h, 5, one)
            assert _first_block(alone) == message("fr", "lead")  # no line of context
            assert "Value-market fit" in blocks_text(alone)
            assert h.assistant.recorder.flush()
        async with Harness(engine, tmp_path) as h:  # a restart: the same database
            await h.event(_thread_message("pourquoi ?", one, "1700000006.0001"), "Ev6")
            body = await posted(h, 1, one)
            assert _first_block(body) == "*Sur « Value-market fit » :*"

    run(scenario())

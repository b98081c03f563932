"""The real discord.py client against a fake Discord REST API and gateway on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import logging

import discord

from bot.adapters.discord_bot import (
    MESSAGE_CONTENT_HELP,
    DiscordConfig,
    PlaybookDiscord,
    run_discord,
)
from bot.adapters.discord_commands import sync_commands
from bot.adapters.discord_render import answer_embed, checklist_embed
from bot.core.assistant import Assistant
from bot.core.messages import message
from bot.core.retrieval.answers import HARD_LIMIT
from bot.core.retrieval.quotes import QuoteShape
from bot.core.team.checklists import Checklist, ChecklistItem, load_checklists
from bot.core.team.lookup import ChecklistBook
from bot.core.team.progress import ChecklistState, ItemState
from bot.core.team.store import Store
from bot.core.types import Answer, Citation, Quote
from tests.adapters.fake_discord import (
    APP_ID,
    BOT_ID,
    BOT_USER,
    CHANNEL_ID,
    DM_CHANNEL_ID,
    GUILD_ID,
    TOKEN,
    FakeDiscord,
    interaction,
    message_create,
    user,
)
from tests.conftest import KNOWLEDGE

MESSAGE_CONTENT_BIT = 1 << 15
ORIGINAL_BASE = discord.http.Route.BASE
ORIGINAL_GATEWAY = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY


class Harness:
    """Fake Discord + the real client connected to it; everything stops on exit."""

    def __init__(self, engine, tmp_path, *, db: str = "discord.db") -> None:
        self.engine = engine
        self.tmp_path = tmp_path
        self.db = db

    async def __aenter__(self) -> Harness:
        self.fake = await FakeDiscord().start()
        self.config = DiscordConfig(
            token=TOKEN, api_url=self.fake.api_url, gateway_url=self.fake.gateway_url
        )
        self.config.apply()
        checklists, _ = load_checklists(KNOWLEDGE)
        self.store = Store(f"sqlite:///{self.tmp_path / self.db}")
        self.assistant = Assistant(
            engine=self.engine, store=self.store, checklists=ChecklistBook(checklists)
        )
        self.client = PlaybookDiscord(self.assistant)
        self.task = asyncio.create_task(self.client.start(TOKEN))
        await asyncio.wait_for(self.client.wait_until_ready(), 20)
        return self

    async def __aexit__(self, *exc) -> None:
        await self.client.close()
        self.task.cancel()
        await self.fake.stop()
        self.store.close()
        self.engine.learn([])  # the engine is shared: what a test taught stays in it
        discord.http.Route.BASE = ORIGINAL_BASE
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = ORIGINAL_GATEWAY

    async def settled(self) -> None:
        """Wait until every gateway event the client has dispatched so far has been handled
        to the end (its replies sent), so "nothing else was sent" is a fact, not a guess."""
        handlers = [
            task
            for task in asyncio.all_tasks()
            if task.get_name().startswith("discord.py: on_") and task is not asyncio.current_task()
        ]
        await asyncio.wait_for(asyncio.gather(*handlers, return_exceptions=True), 60)
        assert await self.client.inflight.idle(60), "the bot was still busy after 60 s"

    async def command(self, name: str, options: list[dict], token: str = "itok") -> dict:
        data = {"id": "1", "name": name, "type": 1, "options": options}
        await self.fake.push("INTERACTION_CREATE", interaction(2, data, token=token))
        (call,) = await self.fake.wait_for(f"/{token}/callback")
        return call.body


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 240))


def test_ready_ask_and_private_ask(engine, tmp_path):
    async def scenario():
        async with Harness(engine, tmp_path) as h:
            assert str(h.client.user.id) == BOT_ID
            assert h.fake.identify["intents"] & MESSAGE_CONTENT_BIT
            body = await h.command(
                "ask", [{"name": "question", "type": 3, "value": "Red Hat, quel modèle ?"}]
            )
            assert body["type"] == 4
            data = body["data"]
            embed = data["embeds"][0]
            assert "Voici ce que dit la base de connaissances" in embed["description"]
            assert "Le modèle de support" in embed["description"]
            fields = " ".join(f["value"] for f in embed["fields"])
            assert "#le-mod%C3%A8le-de-support" in fields
            assert data["allowed_mentions"] == {"parse": []}
            assert not data.get("flags", 0) & 64
            buttons = data["components"][0]["components"]
            assert [b["custom_id"][:6] for b in buttons] == ["fb:up:", "fb:dow"]
            private = await h.command(
                "ask",
                [
                    {"name": "question", "type": 3, "value": "What is the open core model?"},
                    {"name": "private", "type": 5, "value": True},
                ],
                token="itok2",
            )
            assert private["data"]["flags"] & 64
            assert "Le modèle Open core" in private["data"]["embeds"][0]["description"]

    run(scenario())


def test_autocomplete_checklist_show_and_tick(engine, tmp_path):
    async def scenario():
        async with Harness(engine, tmp_path) as h:
            data = {
                "id": "2",
                "name": "checklist",
                "type": 1,
                "options": [{"name": "name", "type": 3, "value": "entonoir", "focused": True}],
            }
            await h.fake.push("INTERACTION_CREATE", interaction(4, data, token="auto"))
            (auto,) = await h.fake.wait_for("/auto/callback")
            assert auto.body["type"] == 8
            choices = auto.body["data"]["choices"]
            assert choices[0] == {
                "name": "Parcourir l'entonnoir de vente",
                "value": "walk-the-funnel",
            }
            assert len(choices) <= 25

            shown = await h.command(
                "checklist", [{"name": "name", "type": 3, "value": "pmf"}], token="show"
            )
            embed = shown["data"]["embeds"][0]
            assert embed["title"] == "Product-market fit"
            assert "**0/3** done" in embed["description"]
            select = shown["data"]["components"][0]["components"][0]
            assert select["custom_id"] == "cl:product-market-fit"
            assert len(select["options"]) == 3
            second = select["options"][1]["value"]
            posted = h.fake.message(CHANNEL_ID, shown["data"])
            click = interaction(
                3,
                {"custom_id": "cl:product-market-fit", "component_type": 3, "values": [second]},
                token="tick",
                message=posted,
            )
            await h.fake.push("INTERACTION_CREATE", click)
            (update,) = await h.fake.wait_for("/tick/callback")
            assert update.body["type"] == 7  # the message is updated for everyone
            described = update.body["data"]["embeds"][0]["description"]
            assert "**1/3** done" in described and "✅ **2.**" in described
            progress = h.store.progress(f"discord:{GUILD_ID}:{CHANNEL_ID}", "product-market-fit")
            assert list(progress) == [second]
            reset = await h.command(
                "checklist",
                [
                    {"name": "name", "type": 3, "value": "pmf"},
                    {"name": "reset", "type": 5, "value": True},
                ],
                token="reset",
            )
            assert "**0/3** done" in reset["data"]["embeds"][0]["description"]
            unknown = await h.command(
                "checklist", [{"name": "name", "type": 3, "value": "budget sheet"}], token="unk"
            )
            assert unknown["data"]["content"].startswith("No checklist called")
            assert unknown["data"]["flags"] & 64

    run(scenario())


def test_a_tick_or_reset_that_cannot_be_stored_is_apologised_for(engine, tmp_path):
    """With the database read-only, ticking an item and ``/checklist pmf reset: True`` each
    tell the user privately that it did not work; the message is not shown as ticked."""
    from tests.adapters.test_slack import read_only

    async def scenario():
        async with Harness(engine, tmp_path) as h:
            shown = await h.command(
                "checklist", [{"name": "name", "type": 3, "value": "pmf"}], token="show"
            )
            select = shown["data"]["components"][0]["components"][0]
            posted = h.fake.message(CHANNEL_ID, shown["data"])
            read_only(h.store)
            values = [select["options"][1]["value"]]
            click = interaction(
                3,
                {"custom_id": "cl:product-market-fit", "component_type": 3, "values": values},
                token="tick",
                message=posted,
            )
            await h.fake.push("INTERACTION_CREATE", click)
            (sorry,) = await h.fake.wait_for("/tick/callback")
            assert sorry.body["type"] == 4  # a new message, not the checklist updated
            assert sorry.body["data"]["content"] == message("en", "sorry")
            assert sorry.body["data"]["flags"] & 64
            reset = await h.command(
                "checklist",
                [
                    {"name": "name", "type": 3, "value": "pmf"},
                    {"name": "reset", "type": 5, "value": True},
                ],
                token="reset",
            )
            assert reset["data"]["content"] == message("en", "sorry")
            assert reset["data"]["flags"] & 64

    run(scenario())


def test_a_checklist_asked_for_in_french_is_shown_and_ticked_in_french(engine, tmp_path):
    """``/checklist name: les piliers`` reads French: the embed's own words and the menu are
    French, and stay French when someone ticks; a name not found and a checklist gone are
    said in French too."""

    async def scenario():
        async with Harness(engine, tmp_path) as h:
            shown = await h.command(
                "checklist", [{"name": "name", "type": 3, "value": "les piliers"}], token="show"
            )
            embed = shown["data"]["embeds"][0]
            assert embed["title"] == "Les trois piliers du succès"
            assert "**0/3** faits" in embed["description"]
            assert embed["fields"][0]["name"] == "Source"
            select = shown["data"]["components"][0]["components"][0]
            assert select["custom_id"] == "cl:les-trois-piliers-du-succes:fr"
            assert select["placeholder"] == "Cochez les éléments faits"
            posted = h.fake.message(CHANNEL_ID, shown["data"])
            first = select["options"][0]["value"]
            click = interaction(
                3,
                {"custom_id": select["custom_id"], "component_type": 3, "values": [first]},
                token="tick",
                message=posted,
            )
            await h.fake.push("INTERACTION_CREATE", click)
            (update,) = await h.fake.wait_for("/tick/callback")
            assert "**1/3** faits" in update.body["data"]["embeds"][0]["description"]
            menu = update.body["data"]["components"][0]["components"][0]
            assert menu["placeholder"] == "Cochez les éléments faits"
            assert menu["custom_id"] == "cl:les-trois-piliers-du-succes:fr"

            unknown = await h.command(
                "checklist",
                [{"name": "name", "type": 3, "value": "le tableur du budget"}],
                token="unk",
            )
            assert unknown["data"]["content"].startswith(
                "Aucune checklist ne s'appelle « le tableur du budget ». Les plus proches : `"
            )
            retired = json.loads(
                json.dumps(shown["data"]).replace(
                    "cl:les-trois-piliers-du-succes:fr", "cl:une-checklist-retiree:fr"
                )
            )
            gone = interaction(
                3,
                {"custom_id": "cl:une-checklist-retiree:fr", "component_type": 3, "values": []},
                token="gone",
                message=h.fake.message(CHANNEL_ID, retired),
            )
            await h.fake.push("INTERACTION_CREATE", gone)
            (said,) = await h.fake.wait_for("/gone/callback")
            assert said.body["data"]["content"] == (
                "Cette checklist n'est plus dans la base de connaissances."
            )
            assert said.body["data"]["flags"] & 64

    run(scenario())


def test_feedback_buttons_work_after_a_restart(engine, tmp_path):
    async def scenario():
        async with Harness(engine, tmp_path, db="shared.db") as h:
            body = await h.command(
                "ask",
                [{"name": "question", "type": 3, "value": "Que doit gérer le product manager ?"}],
            )
            up = body["data"]["components"][0]["components"][0]["custom_id"]
            posted = h.fake.message(CHANNEL_ID, body["data"])
        async with Harness(engine, tmp_path, db="shared.db") as h:  # a new process, same data
            click = interaction(
                3, {"custom_id": up, "component_type": 2}, token="fb", message=posted
            )
            await h.fake.push("INTERACTION_CREATE", click)
            (thanks,) = await h.fake.wait_for("/fb/callback")
            assert thanks.body["type"] == 4
            assert thanks.body["data"]["flags"] & 64
            assert thanks.body["data"]["content"] == "Merci pour votre avis !"
            assert h.store.feedback_counts() == {"up": 1, "down": 0}

    run(scenario())


def test_a_section_picked_after_thumbs_down_is_cited_first_for_the_next_asker(engine, tmp_path):
    """👎 → a private menu of the closest sections → a pick → the same question asked by
    another member (a mention) cites the picked section first."""
    # A question the default engine answers with another section (Value-market fit).
    question = "pmf ça se mesure comment ?"
    right = "Les trois piliers du succès"

    async def scenario():
        async with Harness(engine, tmp_path) as h:
            body = await h.command("ask", [{"name": "question", "type": 3, "value": question}])
            assert body["data"]["embeds"][0]["fields"][0]["name"] != f"1. {right}"
            down = body["data"]["components"][0]["components"][1]["custom_id"]
            posted = h.fake.message(CHANNEL_ID, body["data"])
            click = interaction(3, {"custom_id": down, "component_type": 2}, message=posted)
            await h.fake.push("INTERACTION_CREATE", {**click, "token": "down"})
            (menu,) = await h.fake.wait_for("/down/callback")
            assert menu.body["data"]["flags"] & 64  # only the clicker sees it
            assert menu.body["data"]["content"] == "Merci ! Quelle section y répond ?"
            select = menu.body["data"]["components"][0]["components"][0]
            options = {o["label"]: o["value"] for o in select["options"]}
            assert "Aucune : la base ne traite pas ce sujet" in options
            shown = h.fake.message(CHANNEL_ID, menu.body["data"])
            pick = {
                "custom_id": select["custom_id"],
                "component_type": 3,
                "values": [options[right]],
            }
            await h.fake.push(
                "INTERACTION_CREATE", {**interaction(3, pick, message=shown), "token": "pick"}
            )
            (noted,) = await h.fake.wait_for("/pick/callback")
            assert noted.body["type"] == 7  # the menu is replaced by what was kept
            assert noted.body["data"]["content"] == (
                f"Noté : « {right} » sera citée en premier pour cette question."
            )
            carol = user("333333333333333333", "carol")
            await h.fake.push(
                "MESSAGE_CREATE",
                message_create(f"<@{BOT_ID}> {question}", mentions=[BOT_USER], author=carol),
            )
            (reply,) = await h.fake.wait_for(f"/channels/{CHANNEL_ID}/messages")
            assert reply.body["embeds"][0]["fields"][0]["name"] == f"1. {right}"

    run(scenario())


def test_an_unsure_answer_says_so_before_its_quotes(engine, tmp_path):
    """A question the page does not answer but scores just above the abstention threshold:
    the reply says the knowledge base may not answer it, then quotes what comes closest."""

    async def scenario():
        async with Harness(engine, tmp_path) as h:
            await h.fake.push(
                "MESSAGE_CREATE",
                message_create(
                    f"<@{BOT_ID}> How do I fork a repository on GitHub?", mentions=[BOT_USER]
                ),
            )
            (reply,) = await h.fake.wait_for(f"/channels/{CHANNEL_ID}/messages")
            description = reply.body["embeds"][0]["description"]
            assert description.startswith(
                "I am not sure the knowledge base answers this question; here is what comes "
                "closest:"
            )
            assert "commercialisation.md#" in json.dumps(reply.body)

    run(scenario())


def test_small_talk_gets_the_invitation_when_addressed_and_no_reply_to_a_reply(engine, tmp_path):
    """A mention "merci !" gets the French invitation as plain text (no embed, no buttons); a
    reply to the bot's message saying "thanks 👍" (the bot is mentioned by the reply, not
    named in the text) gets nothing, while a question asked that way is answered."""

    def reply_to_bot(content: str) -> dict:
        data = message_create(content, mentions=[BOT_USER])
        data["message_reference"] = {"message_id": "1", "channel_id": CHANNEL_ID}
        return data

    async def scenario():
        async with Harness(engine, tmp_path) as h:
            route = f"/channels/{CHANNEL_ID}/messages"
            await h.fake.push(
                "MESSAGE_CREATE", message_create(f"<@{BOT_ID}> merci !", mentions=[BOT_USER])
            )
            (invitation,) = await h.fake.wait_for(route)
            assert invitation.body["content"] == message("fr", "smalltalk_thanks")
            assert invitation.body["content"].startswith("Avec plaisir !")
            assert not invitation.body.get("embeds") and not invitation.body.get("components")
            await h.fake.push("MESSAGE_CREATE", reply_to_bot("thanks 👍"))
            await h.settled()
            assert len(h.fake.of(route)) == 1
            await h.fake.push("MESSAGE_CREATE", reply_to_bot("Red Hat, quel modèle ?"))
            posts = await h.fake.wait_for(route, 2)
            assert "Le modèle de support" in posts[1].body["embeds"][0]["description"]

    run(scenario())


def test_mention_reply_dm_and_no_pings(engine, tmp_path):
    async def scenario():
        async with Harness(engine, tmp_path) as h:
            await h.fake.push(
                "MESSAGE_CREATE",
                message_create(
                    f"@everyone <@{BOT_ID}> Why do customers dislike vendor lock-in?",
                    mentions=[BOT_USER],
                ),
            )
            (reply,) = await h.fake.wait_for(f"/channels/{CHANNEL_ID}/messages")
            body = reply.body
            assert str(body["message_reference"]["channel_id"]) == CHANNEL_ID
            assert body["allowed_mentions"] == {"parse": [], "replied_user": False}
            assert "Le modèle SaaS" in body["embeds"][0]["description"]
            assert "@everyone" not in json.dumps(body)
            await h.fake.push("MESSAGE_CREATE", message_create("just chatting, no mention"))
            await h.fake.push(
                "MESSAGE_CREATE",
                message_create(f"<@{BOT_ID}> hello", mentions=[BOT_USER], author=BOT_USER),
            )
            await h.fake.push(
                "MESSAGE_CREATE",
                message_create(
                    "Qu'est-ce que le modèle open core ?", guild_id=None, channel_id=DM_CHANNEL_ID
                ),
            )
            (dm,) = await h.fake.wait_for(f"/channels/{DM_CHANNEL_ID}/messages")
            assert "Le modèle Open core" in dm.body["embeds"][0]["description"]
            assert "message_reference" not in dm.body
            await h.settled()  # the two messages pushed before the DM have been handled
            assert len(h.fake.of(f"/channels/{CHANNEL_ID}/messages")) == 1

    run(scenario())


def test_command_sync_payloads_global_and_guild(tmp_path):
    async def scenario():
        fake = await FakeDiscord().start()
        try:
            config = DiscordConfig(token=TOKEN, api_url=fake.api_url)
            assert await sync_commands(config) == ["ask", "checklist", "playbook"]
            (put,) = fake.of(f"/applications/{APP_ID}/commands", "PUT")
            by_name = {c["name"]: c for c in put.body}
            assert set(by_name) == {"ask", "checklist", "playbook"}
            assert [o["name"] for o in by_name["playbook"]["options"]] == ["reindex", "examples"]
            ask_options = {o["name"]: o for o in by_name["ask"]["options"]}
            assert ask_options["question"]["required"] is True
            assert ask_options["private"]["type"] == 5
            assert {o["name"]: o.get("autocomplete") for o in by_name["checklist"]["options"]}[
                "name"
            ] is True
            names = await sync_commands(config, int(GUILD_ID))
            assert names == ["ask", "checklist", "playbook"]  # global ones copied into the guild
            (guild_put,) = fake.of(f"/applications/{APP_ID}/guilds/{GUILD_ID}/commands", "PUT")
            assert {c["name"] for c in guild_put.body} == {"ask", "checklist", "playbook"}
        finally:
            await fake.stop()
            discord.http.Route.BASE = ORIGINAL_BASE

    run(scenario())


def test_commands_are_published_with_their_descriptions_in_english_and_french(tmp_path):
    async def scenario():
        fake = await FakeDiscord().start()
        try:
            await sync_commands(DiscordConfig(token=TOKEN, api_url=fake.api_url))
            (put,) = fake.of(f"/applications/{APP_ID}/commands", "PUT")
            by_name = {c["name"]: c for c in put.body}
            ask = by_name["ask"]
            assert ask["description"] == "Ask the playbook about commercialising open source"
            assert ask["description_localizations"] == {
                "fr": "Interroger le playbook sur la commercialisation de l'open source"
            }
            question = next(o for o in ask["options"] if o["name"] == "question")
            assert question["description"] == "Your question, in French or English"
            assert question["description_localizations"] == {
                "fr": "Votre question, en français ou en anglais"
            }
            reindex = by_name["playbook"]["options"][0]
            assert reindex["description_localizations"] == {
                "fr": "Recharger la base de connaissances maintenant (admins seulement)"
            }
            assert ask["name_localizations"] == {}  # the names stay the same everywhere
        finally:
            await fake.stop()
            discord.http.Route.BASE = ORIGINAL_BASE

    run(scenario())


def test_without_message_content_intent_it_reconnects_and_says_how(engine, tmp_path, caplog):
    async def scenario():
        fake = await FakeDiscord().start()
        fake.close_code = 4014
        store = Store(f"sqlite:///{tmp_path / 'intent.db'}")
        assistant = Assistant(engine=engine, store=store, checklists=ChecklistBook([]))
        config = DiscordConfig(token=TOKEN, api_url=fake.api_url, gateway_url=fake.gateway_url)
        stop = asyncio.Event()
        task = asyncio.create_task(run_discord(assistant, config, stop, message_content=True))
        try:
            await asyncio.wait_for(fake.identified.wait(), 20)
            assert not fake.identify["intents"] & MESSAGE_CONTENT_BIT
        finally:
            stop.set()
            await asyncio.wait_for(task, 20)
            await fake.stop()
            store.close()
            discord.http.Route.BASE = ORIGINAL_BASE
            discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = ORIGINAL_GATEWAY

    with caplog.at_level(logging.WARNING, logger="playbook.discord"):
        run(scenario())
    assert MESSAGE_CONTENT_HELP in caplog.text


def test_embeds_stay_within_discord_limits_and_never_ping():
    evil = "@everyone @here <@123> <@&456> **bold** " + "mot " * 2000
    citation = Citation(evil[:300], (evil[:300], evil[:300]), "https://x.example/p (1)/#a")
    quote = Quote("p", evil, evil, evil, citation, 0.5)
    answer = Answer(
        "q",
        "fr",
        "Voici :",
        tuple([quote] * 40),
        False,
        suggestions=tuple([citation] * 40),
        notes=(evil,),
    )
    embed = answer_embed(answer)
    data = embed.to_dict()
    assert len(embed) <= 6000
    assert len(data["description"]) <= 4096
    assert len(data.get("fields", [])) <= 25
    assert all(len(f["value"]) <= 1024 and len(f["name"]) <= 256 for f in data["fields"])
    assert len(data["footer"]["text"]) <= 2048
    text = json.dumps(data)
    assert "@everyone" not in text and "<@123>" not in text and "<@&456>" not in text
    assert "https://x.example/p%20%281%29/#a" in text

    items = tuple(ChecklistItem(f"i-{n}", evil, None, None) for n in range(60))
    checklist = Checklist("big", "T" * 400, evil, items, (), "curated", citation)
    state = ChecklistState(
        checklist, tuple(ItemState(n + 1, i, None) for n, i in enumerate(items)), ()
    )
    big = checklist_embed(state, "en")
    assert len(big) <= 6000 and len(big.title) <= 256
    assert "@everyone" not in json.dumps(big.to_dict())


def test_the_longest_quotes_the_engine_can_make_fit_one_embed_whole():
    """Three quotes of the most a quote can hold (a sentence at the hard limit, or a list's
    room) are shown whole, each highlight in bold, within Discord's limits."""
    longest = max(HARD_LIMIT + 1, QuoteShape().list_chars, QuoteShape().chars)
    sentences = ("Phrase importante. " * (longest // 19)).strip()
    citation = Citation("Section", ("Page", "Section"), "https://x.example/p/#a")
    quote = Quote("p", "", sentences, "", citation, 0.5)
    embed = answer_embed(Answer("q", "fr", "Voici :", (quote,) * 3, False))
    assert len(embed) <= 6000 and len(embed.description) <= 4096
    assert embed.description.count(f"> **{sentences}**") == 3


def test_slow_answers_are_deferred_then_followed_up(engine, tmp_path, monkeypatch):
    import bot.adapters.discord_bot as discord_bot

    monkeypatch.setattr(discord_bot, "DEFER_AFTER", 0.0)  # as if the answer took too long

    async def scenario():
        async with Harness(engine, tmp_path) as h:
            question = {"name": "question", "type": 3, "value": "Vente top-down ou libre-service ?"}
            callback = await h.command("ask", [question], token="slow")
            assert callback["type"] == 5  # deferred: "the bot is thinking"
            (followup,) = await h.fake.wait_for(f"/webhooks/{APP_ID}/slow")
            embed = followup.body["embeds"][0]
            assert "Achat et expansion" in embed["description"]
            assert followup.body["allowed_mentions"] == {"parse": []}

    run(scenario())


def test_when_the_drain_time_runs_out_every_question_gets_an_answer_or_restarting(engine, tmp_path):
    """A burst of mentions far longer to answer than a short drain: when the drain time runs
    out (as on SIGTERM), each question the bot received is answered or told "I am restarting",
    once; none goes without a word."""
    count = 30
    question = " ".join(["Quels sont les modèles économiques de l'open source ?"] * 30)

    async def scenario():
        async with Harness(engine, tmp_path) as h:
            route = f"/channels/{CHANNEL_ID}/messages"
            for n in range(count):
                data = message_create(f"<@{BOT_ID}> {question}", mentions=[BOT_USER])
                data["id"] = str(900_000_000_000_000_000 + n)
                await h.fake.push("MESSAGE_CREATE", data)
            await h.fake.wait_for(route)  # the first answer is out: the others are queued
            assert not await h.client.inflight.drain(0.2, notice_seconds=30)
            replies = await h.fake.wait_for(route, count, timeout=60)
            restarting = message("fr", "restarting")
            said = [r.body.get("content") for r in replies]
            answered = [r for r in replies if r.body.get("embeds")]
            assert said.count(restarting) >= 1 and len(answered) >= 1
            assert len(answered) + said.count(restarting) == count
            referenced = [str(r.body["message_reference"]["message_id"]) for r in replies]
            assert sorted(referenced) == [str(900_000_000_000_000_000 + n) for n in range(count)]
            await h.settled()
            assert len(h.fake.of(route)) == count  # once each

    run(scenario())


def test_a_reply_chain_is_a_conversation_read_in_context_kept_over_a_restart(engine, tmp_path):
    """A reply to the bot's answer is read in the context of the question it answered and
    says what it understood first; a reply to another user's message is not the bot's
    conversation; a complete question on another subject in the chain is answered alone;
    after a restart the chain's context is still there."""
    route = f"/channels/{CHANNEL_ID}/messages"

    def reply_to_answer(content: str, answered: str, n: int) -> dict:
        data = message_create(content, mentions=[BOT_USER])
        data["id"] = str(int(answered) + n)
        answer = message_create("", author=BOT_USER)
        answer["id"] = str(int(answered) + 100 + n)
        answer["message_reference"] = {"message_id": answered, "channel_id": CHANNEL_ID}
        data["message_reference"] = {"message_id": answer["id"], "channel_id": CHANNEL_ID}
        data["referenced_message"] = answer
        return data

    def description(call) -> str:
        return call.body["embeds"][0]["description"]

    async def scenario():
        question = message_create(
            f"<@{BOT_ID}> Qu'est-ce que le modèle open core ?", mentions=[BOT_USER]
        )
        first = question["id"]
        async with Harness(engine, tmp_path) as h:
            await h.fake.push("MESSAGE_CREATE", question)
            await h.fake.wait_for(route)
            followup = reply_to_answer("pourquoi ?", first, 1)
            await h.fake.push("MESSAGE_CREATE", followup)
            posts = await h.fake.wait_for(route, 2)
            assert description(posts[1]).startswith("**Sur « Le modèle Open core » :**\n")
            assert posts[1].body["embeds"][0]["fields"][0]["name"] == "1. Le modèle Open core"
            stranger = reply_to_answer("pourquoi ?", first, 2)
            stranger["referenced_message"]["author"] = stranger["author"]  # not the bot's
            await h.fake.push("MESSAGE_CREATE", stranger)
            await h.settled()  # outside the bot's conversation "pourquoi ?" asks nothing
            assert len(h.fake.of(route)) == 2
            switch = reply_to_answer("Qu'est-ce que le value-market fit ?", followup["id"], 3)
            await h.fake.push("MESSAGE_CREATE", switch)
            posts = await h.fake.wait_for(route, 3)
            assert description(posts[2]).startswith(message("fr", "lead"))
            assert posts[2].body["embeds"][0]["fields"][0]["name"] == "1. Value-market fit"
            assert h.assistant.recorder.flush()
        async with Harness(engine, tmp_path) as h:  # a restart: the same database
            await h.fake.push("MESSAGE_CREATE", reply_to_answer("pourquoi ?", switch["id"], 4))
            (post,) = await h.fake.wait_for(route)
            assert description(post).startswith("**Sur « Value-market fit » :**\n")

    run(scenario())

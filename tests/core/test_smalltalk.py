"""Small talk and non-questions: which messages ask nothing, the invitation they get instead of
a quote (in the asker's language, through the engine, the conversation and the CLI), and a
question without a content word that is never answered confidently."""

from __future__ import annotations

import asyncio

import pytest

from bot.core.assistant import Asker, Assistant
from bot.core.chat import ANSWER, SMALLTALK, Conversation, Reply
from bot.core.inflight import InFlight
from bot.core.messages import message
from bot.core.retrieval.engine import EmptyQuestion, SmallTalk
from bot.core.smalltalk import FAREWELL, GREETING, OTHER, THANKS, small_talk, small_talk_language
from bot.core.team.lookup import ChecklistBook
from bot.core.team.store import Store


@pytest.mark.parametrize(
    ("text", "act"),
    [
        ("?", OTHER),
        ("??", OTHER),
        ("🙂🙂🙂", OTHER),
        ("ok 👍", OTHER),
        ("ok :+1:", OTHER),  # an emoji as Slack writes it
        ("d'accord, ça marche", OTHER),
        ("hahaha", OTHER),
        ("mdr", OTHER),
        ("c'est quoi ?", OTHER),  # only function words: nothing to look up
        ("merci !", THANKS),
        ("Merciiii 🙏", THANKS),
        ("thanks!", THANKS),
        ("thank you so much", THANKS),
        ("bonjour", GREETING),
        ("Salut, t'es là ?", GREETING),
        ("Hi there", GREETING),
        ("bonne journée !", FAREWELL),
        ("have a nice day", FAREWELL),
    ],
)
def test_messages_that_ask_nothing_are_small_talk(text, act):
    assert small_talk(text) == act


@pytest.mark.parametrize(
    "text",
    [
        "c'est quoi ça ?",  # a question, with nothing to go on: retrieval abstains or hedges
        "IA ?",  # short, but a word
        "merci, et le SaaS ?",
        "ok, what is open core?",
        "le marché ?",  # "ça marche" is an idiom; "marché" alone is a word
        "Red Hat, quel modèle ?",
        "qwertz",
    ],
)
def test_a_message_with_one_content_word_is_a_question(text):
    assert small_talk(text) is None


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("merci !", "fr"),
        ("thanks 👍", "en"),  # no English function word, but an English thanks
        ("ok ça marche", "fr"),
        ("sounds good", "en"),
        ("?", "fr"),  # nothing to go on: the default
    ],
)
def test_small_talk_is_answered_in_its_language(text, language):
    assert small_talk_language(text) == language


def test_the_engine_invites_a_question_instead_of_quoting(engine):
    with pytest.raises(SmallTalk) as thanks:
        engine.ask("merci !")
    assert str(thanks.value) == message("fr", "smalltalk_thanks")
    assert str(thanks.value).startswith("Avec plaisir !")
    with pytest.raises(SmallTalk) as hello:
        engine.ask("hello 👋")
    assert str(hello.value) == message("en", "smalltalk_greeting")
    assert isinstance(hello.value, EmptyQuestion)  # every caller that shows "empty" shows it


def test_a_question_without_a_content_word_is_never_answered_confidently(engine):
    """Only function words and one short word: no coverage can back a quote."""
    for question in ("c'est quoi ça ?", "and UX?", "et l'IA ?"):
        answer = engine.ask(question)
        assert answer.abstained or answer.hedged, question
        if not answer.abstained:
            assert answer.lead == message(answer.language, "lead_hedged")


def _conversation(engine, tmp_path) -> tuple[Conversation, Store]:
    store = Store(f"sqlite:///{tmp_path / 'talk.db'}")
    assistant = Assistant(engine=engine, store=store, checklists=ChecklistBook([]))
    return Conversation(assistant, InFlight()), store


def test_a_conversation_answers_small_talk_with_the_invitation_only_when_addressed(
    engine, tmp_path
):
    conversation, store = _conversation(engine, tmp_path)
    sent: list[Reply] = []

    async def deliver(reply: Reply) -> None:
        sent.append(reply)

    asker = Asker("test", "C1", "U1")

    async def scenario() -> None:
        said = await conversation.turn("merci !", asker, deliver)
        assert said is not None and said.kind == SMALLTALK
        assert said.text == message("fr", "smalltalk_thanks") and said.answer is None
        assert not said.answer_id  # nothing kept for buttons
        # a "thanks 👍" in a thread the bot answered in, without a mention: no reply at all
        assert await conversation.turn("thanks 👍", asker, deliver, addressed=False) is None
        # ...but a question there is still answered
        asked = await conversation.turn("Red Hat, quel modèle ?", asker, deliver, addressed=False)
        assert asked is not None and asked.kind == ANSWER

    try:
        asyncio.run(scenario())
    finally:
        conversation.assistant.recorder.flush(timeout=5)
        store.close()
    assert [r.kind for r in sent] == [SMALLTALK, ANSWER]

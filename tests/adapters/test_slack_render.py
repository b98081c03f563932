"""Block Kit rendering stays within Slack's limits and never pings, whatever the content."""

import json
from dataclasses import replace

from bot.adapters.slack_render import (
    MAX_BLOCKS,
    MAX_SECTION,
    answer_payload,
    checklist_payload,
    escape,
)
from bot.core.retrieval.answers import HARD_LIMIT
from bot.core.retrieval.quotes import QuoteShape
from bot.core.team.checklists import Checklist, ChecklistItem
from bot.core.team.progress import ChecklistState, ItemState
from bot.core.types import Answer, Citation, Quote

CITATION = Citation("Sec <b>", ("Page", "Sec <b>"), "https://x.example/p/#a|b>c")


def _limits(payload: dict) -> None:
    blocks = payload["blocks"]
    assert len(blocks) <= MAX_BLOCKS
    for block in blocks:
        text = block.get("text", {}).get("text", "")
        assert len(text) <= MAX_SECTION
        for element in block.get("elements", []):
            assert (
                len(element.get("text", "") if isinstance(element.get("text"), str) else "")
                <= MAX_SECTION
            )
    assert len(json.dumps(blocks)) <= 12_000
    assert len(payload["text"]) <= 3000


def test_huge_answer_fits_slack_limits():
    quote = Quote("p", "avant " * 500, "phrase importante " * 300, " après" * 500, CITATION, 0.5)
    answer = Answer("q", "fr", "Voici :", tuple([quote] * 40), False, notes=("n",) * 30)
    payload = answer_payload(answer, answer_id="abc", share=True)
    _limits(payload)
    assert payload["blocks"][-1]["type"] == "actions"  # the buttons always survive
    # The note on what was left out is in the answer's language.
    assert any(
        "le message était trop long" in json.dumps(b, ensure_ascii=False) for b in payload["blocks"]
    )
    english = answer_payload(replace(answer, language="en"), answer_id="abc", share=True)
    assert any("the message was too long" in json.dumps(b) for b in english["blocks"])


def test_document_and_user_text_cannot_ping():
    evil = "<!channel> <!here> <!everyone> <@U123> <#C1> & <https://evil|x>"
    quote = Quote("p", evil, evil, evil, Citation(evil, (evil,), "https://ok/#a"), 0.5)
    answer = Answer(
        evil, "en", "Lead", (quote,), False, suggestions=(quote.citation,), notes=(evil,)
    )
    everything = json.dumps(answer_payload(answer, answer_id="id"), ensure_ascii=False)
    for ping in ("<!channel>", "<!here>", "<!everyone>", "<@U123>", "<#C1>", "<https://evil"):
        assert ping not in everything
    assert "&lt;!channel&gt;" in everything and "&amp;" in everything
    assert escape("a<b>&c") == "a&lt;b&gt;&amp;c"


def test_links_and_highlight():
    quote = Quote("p", "Avant. ", "La phrase.", " Après.", CITATION, 0.5)
    payload = answer_payload(Answer("q", "fr", "Lead", (quote,), False))
    text = json.dumps(payload["blocks"], ensure_ascii=False)
    assert "> Avant. *La phrase.* Après." in text
    assert "<https://x.example/p/#a%7Cb%3Ec|Page › Sec &lt;b&gt;>" in text
    assert "feedback_up" not in text  # no buttons without an answer id


def test_long_checklist_fits_and_keeps_checkboxes():
    items = tuple(
        ChecklistItem(f"i-{n}", f"<!here> item {n} " + "mot " * 400, None, CITATION)
        for n in range(80)
    )
    checklist = Checklist("big", "Big " * 100, "desc", items, (), "curated", None)
    state = ChecklistState(
        checklist, tuple(ItemState(n + 1, i, None) for n, i in enumerate(items)), ()
    )
    payload = checklist_payload(state, "en")
    _limits(payload)
    assert payload["blocks"][0]["type"] == "header"
    assert len(payload["blocks"][0]["text"]["text"]) <= 150
    assert "<!here>" not in json.dumps(payload)
    boxes = [b for b in payload["blocks"] if b.get("accessory", {}).get("type") == "checkboxes"]
    assert 10 <= len(boxes) < 50
    assert boxes[0]["block_id"] == "big|i-0"


def test_the_engines_longest_quotes_render_whole_with_their_highlight(engine):
    """The engine's quotes (here a list with its lead-in) are shown whole within Slack's
    limits, each with its highlighted sentence in bold."""
    answer = engine.ask("Quels sont les trois piliers du succès d'un projet open source ?")
    payload = answer_payload(answer, answer_id="abc")
    _limits(payload)
    sections = [b["text"]["text"] for b in payload["blocks"] if b["type"] == "section"]
    for quote, text in zip(answer.quotes, sections[1:], strict=True):
        assert f"*{escape(quote.highlight.split(chr(10))[0].removeprefix('- '))}*" in text
        last = escape(quote.text.split("\n")[-1].removeprefix("- "))
        assert text.rstrip("*").endswith(last)  # nothing was cut
    first = sections[1]
    assert first.startswith(
        "> *Pour être un succès, votre projet open source doit passer par trois étapes :*\n"
        "> - *Project-community fit"
    )


def test_the_longest_quote_the_engine_can_make_fits(engine):
    """Three quotes of the most a quote can hold (a sentence at the hard limit, or a list's
    room) still fit one section each, the first one's highlight in bold."""
    longest = max(HARD_LIMIT + 1, QuoteShape().list_chars, QuoteShape().chars)
    sentences = ("Phrase importante. " * (longest // 19)).strip()
    quote = Quote("p", "", sentences, "", CITATION, 0.5)
    answer = Answer("q", "fr", "Voici :", (quote,) * 3, False)
    payload = answer_payload(answer, answer_id="abc")
    _limits(payload)
    sections = [b for b in payload["blocks"] if b["type"] == "section"]
    assert len(sections) == 4  # the lead and three whole quotes: nothing was left out
    assert sections[1]["text"]["text"] == f"> *{quote.highlight}*"

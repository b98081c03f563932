import io

import pytest

from bot.adapters.console import chat, render_checklist, render_text
from bot.core.assistant import Asker, Assistant
from bot.core.messages import message
from bot.core.serialize import answer_from_dict, answer_to_dict
from bot.core.team.checklists import load_checklists
from bot.core.team.lookup import ChecklistBook
from bot.core.team.store import Store
from tests.conftest import KNOWLEDGE

ASKER = Asker(platform="cli", channel="terminal", user="dana")


@pytest.fixture
def assistant(engine, tmp_path):
    checklists, _ = load_checklists(KNOWLEDGE)
    yield Assistant(
        engine=engine,
        store=Store(f"sqlite:///{tmp_path / 'db.sqlite'}"),
        checklists=ChecklistBook(checklists),
    )
    engine.learn([])  # the engine is shared: what a test taught stays in it


def test_render_text_shows_quote_highlight_citation_and_link(engine):
    answer = engine.ask("Red Hat, quel modèle ?")
    text = render_text(answer)
    assert text.startswith("Voici ce que dit la base de connaissances :")
    quote = answer.quotes[0]
    assert f"1. « {quote.before}**{quote.highlight}**{quote.after}" in text
    assert "Redhat est le plus ancien et le spécialiste de ce modèle." in text
    assert "— Commercialisation › Les modèles de commercialisation › Le modèle de support" in text
    assert "knowledge/commercialisation.md#le-mod%C3%A8le-de-support" in text
    coloured = render_text(answer, color=True)
    assert f"\x1b[1m{quote.highlight}\x1b[0m" in coloured


def test_answer_to_dict_shape(engine):
    data = answer_to_dict(engine.ask("What is the open core model?"))
    assert data["language"] == "en" and data["abstained"] is False
    assert data["quotes"][0]["section"] == "Le modèle Open core"
    assert {"text", "highlight", "section", "breadcrumb", "link", "score"} <= set(data["quotes"][0])


def test_answer_round_trips_through_plain_data(engine):
    answer = engine.ask("Quels sont les trois piliers du succès ?")
    assert answer_from_dict(answer_to_dict(answer)) == answer


def test_chat_answers_logs_takes_feedback_and_quits(assistant):
    lines = iter(
        [
            "",
            "/good",
            "/help",
            "/oops",
            "Qu'est-ce que le modèle open core ?",
            "/bad too short",
            "",  # no section picked
            "/quit",
        ]
    )
    out = io.StringIO()
    code = chat(assistant, ASKER, read=lambda _prompt: next(lines), out=out, color=False)
    text = out.getvalue()
    assert code == 0
    assert "Ask a question first" in text
    assert "Unknown command '/oops'" in text
    assert "Le modèle open core consiste à proposer une version open source" in text
    assert "#le-mod%C3%A8le-open-core" in text
    assert "Thanks, your feedback is saved." in text
    assert assistant.recorder.flush()  # the question log is written after the answer
    (logged,) = assistant.store.questions()
    assert logged["question"] == "Qu'est-ce que le modèle open core ?"
    assert logged["top_section"] == "Le modèle Open core"
    assert logged["platform"] == "cli" and logged["user_hash"] != "dana"
    assert assistant.store.feedback_counts() == {"up": 0, "down": 1}


def test_bad_then_a_number_teaches_the_section_the_next_question_cites(assistant):
    # A question the default engine answers with another section (Value-market fit).
    question = "pmf ça se mesure comment ?"
    right = "Les trois piliers du succès"
    choices = [c.section for _k, c in assistant.closest_sections(question)]
    assert choices[0] != right and right in choices
    lines = iter([question, "/bad", str(choices.index(right) + 1), question, "/quit"])
    out = io.StringIO()
    chat(assistant, ASKER, read=lambda _prompt: next(lines), out=out, color=False)
    text = out.getvalue()
    assert "Merci ! Quelle section y répond ?" in text
    assert f"  {choices.index(right) + 1}. {right}" in text
    assert "  0. Aucune : la base ne traite pas ce sujet" in text
    assert f"Noté : « {right} » sera citée en premier pour cette question." in text
    again = text.split("Noté :", 1)[1]
    first_citation = next(line for line in again.splitlines() if line.startswith("   — "))
    assert first_citation == f"   — Commercialisation › {right}"


def test_chat_ends_on_end_of_input(assistant):
    def read(_prompt):
        raise EOFError

    assert chat(assistant, ASKER, read=read, out=io.StringIO()) == 0


def test_render_checklist_with_progress_and_retired(assistant):
    checklist = assistant.board.find("pmf").checklist
    assistant.board.tick("cli:local:x", checklist, "2", "erin")
    assistant.store.tick("cli:local:x", checklist.id, "i-gone", "An old item", "frank")
    text = render_checklist(assistant.board.state("cli:local:x", checklist))
    assert text.startswith("Product-market fit — 1/3 done  (id: product-market-fit)")
    assert "  1. [ ] Quel est le problème que le logiciel open source aide à résoudre ?" in text
    assert "  2. [x] Pour qui résout-il ce problème ?  (erin, " in text
    assert "Retired — ticked on items that are no longer in the knowledge base:" in text
    assert "[x] An old item  (frank, " in text


def test_an_answer_survives_a_database_that_cannot_log(assistant, caplog):
    assistant.store.engine.dispose()
    assistant.store.log_question = _fail  # e.g. a read-only disk
    answer = assistant.ask("Red Hat, quel modèle ?", ASKER)
    assert answer.quotes[0].citation.section == "Le modèle de support"
    assert assistant.recorder.flush()
    assert "The database failed while recording a question (OSError: read-only file system)" in (
        caplog.text
    )
    assert assistant.recorder.problem == (
        "the database cannot be written (OSError: read-only file system)"
    )
    assistant.ask("Red Hat, quel modèle ?", ASKER)
    assert assistant.recorder.flush()
    assert caplog.text.count("The database failed") == 1  # said once, not per question


def _fail(**_kwargs):
    raise OSError("read-only file system")


def test_chat_answers_small_talk_with_the_invitation(assistant):
    lines = iter(["bonjour", "thanks 👍", "/good", "/quit"])
    out = io.StringIO()
    chat(assistant, ASKER, read=lambda _prompt: next(lines), out=out, color=False)
    text = out.getvalue()
    assert message("fr", "smalltalk_greeting") in text
    assert message("en", "smalltalk_thanks") in text
    assert "Here is what the knowledge base says" not in text
    assert "Ask a question first" in text  # nothing was answered to rate

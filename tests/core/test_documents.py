from pathlib import Path

import pytest

from bot.core.knowledge.documents import KnowledgeDirError, hugo_anchor, load_pages, parse_page
from tests.conftest import KNOWLEDGE


@pytest.mark.parametrize(
    ("title", "anchor"),
    [
        ("Le cercle vertueux de l'open source", "le-cercle-vertueux-de-lopen-source"),
        ("L'open source comme en tête de l'entonnoir.", "lopen-source-comme-en-tête-de-lentonnoir"),
        (
            "Évaluation et intention - Génération de prospects",
            "évaluation-et-intention---génération-de-prospects",
        ),
        ("Value-market fit", "value-market-fit"),
        ("snake_case & C++ 2.0", "snake_case--c-20"),
    ],
)
def test_hugo_anchor(title, anchor):
    assert hugo_anchor(title) == anchor


def test_bundled_page_sections_breadcrumbs_and_links():
    pages, errors = load_pages(KNOWLEDGE, link_root="knowledge")
    assert errors == []
    (page,) = pages
    assert page.title == "Commercialisation"
    titles = [s.title for s in page.sections]
    assert titles[0] == "Commercialisation"  # the text before the first heading
    assert "Les trois piliers du succès" in titles
    assert "Achat et expansion - Ventes internes et sur le terrain" in titles
    saas = next(s for s in page.sections if s.title == "Le modèle SaaS")
    assert saas.breadcrumb == (
        "Commercialisation",
        "Les modèles de commercialisation",
        "Le modèle SaaS",
    )
    assert saas.anchor == "le-modèle-saas"
    assert saas.link == "knowledge/commercialisation.md#le-mod%C3%A8le-saas"
    intro = page.sections[0]
    assert intro.link == "knowledge/commercialisation.md"
    assert intro.text.startswith("Ce résumé est en grande partie tiré")


def test_links_use_the_base_url_and_hugo_paths(tmp_path):
    (tmp_path / "guides").mkdir()
    (tmp_path / "guides" / "Pricing.md").write_text("---\ntitle: Pricing\n---\n## Tiers\nText.\n")
    (tmp_path / "guides" / "_index.md").write_text("---\ntitle: Guides\n---\n## Start\nText.\n")
    pages, _ = load_pages(tmp_path, base_url="https://docs.example.com/")
    links = sorted(s.link for p in pages for s in p.sections)
    assert links == [
        "https://docs.example.com/guides/#start",
        "https://docs.example.com/guides/pricing/#tiers",
    ]


def test_heading_inside_code_fence_is_not_a_section():
    text = "# Title\n\n## Real\n\nIntro.\n\n```bash\n# not a heading\necho hi\n```\n"
    page = parse_page(text, "p.md")
    assert [s.title for s in page.sections] == ["Real"]
    assert "# not a heading" in page.sections[0].text


def test_toml_front_matter_drafts_and_bold_item_titles(tmp_path):
    (tmp_path / "a.md").write_text(
        '+++\ntitle = "Toml page"\n+++\nLead:\n\n- **Fit** : measured by stars.\n- plain\n'
    )
    (tmp_path / "draft.md").write_text("---\ntitle: Secret\ndraft: true\n---\nHidden.\n")
    pages, errors = load_pages(tmp_path)
    assert errors == []
    assert [p.title for p in pages] == ["Toml page"]
    (block,) = [b for b in pages[0].sections[0].blocks if b.kind == "list"]
    assert block.items[0].title == "Fit"
    assert block.items[0].text == "Fit : measured by stars."
    assert block.items[1].title is None


def test_bad_pages_are_reported_and_the_others_still_load(tmp_path):
    (tmp_path / "good.md").write_text("---\ntitle: Good\n---\n## A\nFine text.\n")
    (tmp_path / "broken.md").write_text("---\ntitle: [unclosed\n---\nText.\n")
    (tmp_path / "latin1.md").write_bytes("## Été\n".encode("latin-1"))
    pages, errors = load_pages(tmp_path)
    assert [p.title for p in pages] == ["Good"]
    reported = {e.path: e.reason for e in errors}
    assert "front matter does not parse" in reported["broken.md"]
    assert reported["latin1.md"] == "not UTF-8 text"


def test_missing_knowledge_dir_is_a_clear_error(tmp_path):
    with pytest.raises(KnowledgeDirError, match="PLAYBOOK_KNOWLEDGE_DIR"):
        load_pages(Path(tmp_path / "nope"))


def test_a_page_cache_parses_only_the_pages_that_changed(tmp_path):
    from bot.core.knowledge.documents import PageCache, load_pages

    (tmp_path / "a.md").write_text("## Un\n\nPremier texte.\n")
    (tmp_path / "b.md").write_text("## Deux\n\nSecond texte.\n")
    cache = PageCache()
    first, _ = load_pages(tmp_path, cache=cache)
    (tmp_path / "b.md").write_text("## Deux\n\nSecond texte, réécrit et plus long.\n")
    second, _ = load_pages(tmp_path, cache=cache)
    assert second[0] is first[0]  # a.md: the same parsed page
    assert second[1] is not first[1] and "réécrit" in second[1].sections[0].blocks[0].text
    (tmp_path / "a.md").unlink()
    third, _ = load_pages(tmp_path, cache=cache)
    assert [p.source for p in third] == ["b.md"]


def test_the_knowledge_folder_is_a_boundary_for_links(tmp_path):
    """A link to a file outside the folder (tokens in an env file, /etc/passwd) is never
    read, and it is named; so is a link to nothing. A link inside the folder is a page."""
    from bot.core.knowledge.documents import load_pages

    kb = tmp_path / "kb"
    kb.mkdir()
    (tmp_path / "app.env").write_text("SLACK_BOT_TOKEN=xoxb-secret\n")
    (kb / "page.md").write_text("## Vrai\n\nUne vraie page.\n")
    (kb / "notes.md").symlink_to(tmp_path / "app.env")
    (kb / "gone.md").symlink_to(kb / "nowhere.md")
    (kb / "alias.md").symlink_to(kb / "page.md")
    pages, errors = load_pages(kb)
    assert sorted(p.source for p in pages) == ["alias.md", "page.md"]
    named = {e.path: e.reason for e in errors}
    assert "outside the knowledge folder" in named["notes.md"]
    assert "does not exist" in named["gone.md"]
    assert not any("xoxb" in section.blocks[0].text for p in pages for section in p.sections)


def test_huge_and_binary_pages_are_named_not_indexed(tmp_path):
    from bot.core.knowledge.documents import load_pages

    (tmp_path / "page.md").write_text("## Vrai\n\nUne vraie page.\n")
    (tmp_path / "huge.md").write_text("## Gros\n\n" + "Une phrase de plus. " * 60_000)
    (tmp_path / "nul.md").write_bytes(b"\0" * 4096)
    pages, errors = load_pages(tmp_path, max_bytes=1_000_000)
    assert [p.source for p in pages] == ["page.md"]
    named = {e.path: e.reason for e in errors}
    assert "above the page size limit of 1.0 MB (PLAYBOOK_MAX_PAGE_KB)" in named["huge.md"]
    assert "binary content" in named["nul.md"]

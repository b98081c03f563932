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


def _texts(markdown: str) -> list[str]:
    """The text of each passage a page gives, as a user would see them quoted."""
    from bot.core.knowledge.passages import build_passages

    return [p.text for p in build_passages(parse_page(markdown, "p.md").sections)]


def test_an_image_alone_is_no_passage_and_a_placeholder_alt_is_dropped():
    # A book cover linked to a shop, with the placeholder alt text converters write.
    texts = _texts("---\ntitle: Livre\n---\n[![image](cover.jpg)](https://shop.example/b)\n")
    assert texts == []
    texts = _texts(
        "## Chiffres\n\nNous voulons reconnaître des chiffres comme ceux-ci : ![image](d.png)\n"
    )
    assert texts == ["Nous voulons reconnaître des chiffres comme ceux-ci :"]


def test_an_image_alt_text_joins_the_sentence_around_it_never_stands_alone():
    texts = _texts(
        "## Flux\n\nLe schéma ![des flux de trésorerie](flux.png) montre la saisonnalité "
        "des ventes.\n\n"
        "## Gaz\n\nL'Europe exportait plus de gaz naturel que la Russie il y a quinze ans.\n\n"
        "![Production de gaz en Europe et en Russie](gaz.jpeg)\n\n"
        "## Figure seule\n\n![Courbe des émissions par personne](co2.png)\n"
    )
    assert texts[0] == "Le schéma des flux de trésorerie montre la saisonnalité des ventes."
    assert texts[1] == (
        "L'Europe exportait plus de gaz naturel que la Russie il y a quinze ans. "
        "Production de gaz en Europe et en Russie"
    )
    assert len(texts) == 2  # the section holding a figure only has nothing to quote


def test_shortcodes_keep_their_text_and_lose_their_tags():
    page = parse_page(
        "## Leçons\n\n"
        '{{< alert icon="👉" text="À retenir : faire du vertical." />}}\n\n'
        "{{< alert >}}Un produit résout **un** problème.{{< /alert >}}\n\n"
        "{{% notice info %}}\nLe premier client s'achète.\n{{% /notice %}}\n\n"
        '{{< details title="Plus" >}}\n{{< tab >}}Un onglet dans un détail.{{< /tab >}}\n'
        "{{< /details >}}\n\n"
        '{{< youtube id="dQw4w9WgXcQ" >}}\n\n'
        "{{< toc />}}\n",
        "p.md",
    )
    texts = [b.text for b in page.sections[0].blocks]
    assert texts == [
        "À retenir : faire du vertical.",
        "Un produit résout un problème.",
        "Le premier client s'achète.",
        "Plus Un onglet dans un détail.",
    ]


def test_raw_html_keeps_its_text_and_loses_tags_and_comments():
    page = parse_page(
        "## Html\n\n"
        '<div class="note">\n<p>Le support se vend <b>par contrat</b> &amp; par an.</p>\n'
        "<!-- à relire -->\n</div>\n\n"
        "<!--\nUn brouillon caché\n-->\n\n"
        "Une ligne<br>coupée avec <span>un mot</span> <!-- caché --> mis en valeur.\n",
        "p.md",
    )
    texts = [b.text for b in page.sections[0].blocks]
    assert texts == [
        "Le support se vend par contrat & par an.",
        "Une ligne coupée avec un mot mis en valeur.",
    ]


def test_a_table_reads_as_lines_of_cells_under_its_header():
    from bot.core.knowledge.passages import MAX_CHARS

    rows = "".join(f"| Offre {n} | {n * 10} € par mois pour l'équipe |\n" for n in range(60))
    texts = _texts(f"## Prix\n\n| Offre | Prix |\n|---|---|\n{rows}")
    assert texts[0].split("\n")[:3] == [
        "Offre — Prix",
        "Offre 0 — 0 € par mois pour l'équipe",
        "Offre 1 — 10 € par mois pour l'équipe",
    ]
    assert len(texts) > 1 and all(len(t) <= MAX_CHARS for t in texts)
    assert all(t.startswith("Offre — Prix\n") for t in texts)  # every part keeps the header


def test_code_is_kept_verbatim_and_split_between_lines_only():
    code = "\n".join(f"deploy --region eu-{n}. Then restart worker {n}" for n in range(80))
    texts = _texts(f"## Script\n\nLancez :\n\n```sh\n{code}\n```\n")
    lines = [line for t in texts for line in t.split("\n")]
    assert lines == ["Lancez :", *code.split("\n")]


def test_a_front_matter_that_never_closes_is_named_and_the_rest_indexed(tmp_path):
    (tmp_path / "good.md").write_text("---\ntitle: Good\n---\n## A\nFine text.\n")
    (tmp_path / "open.md").write_text('---\ntitle: "No close"\ndraft: false\n\n## A\nText.\n')
    (tmp_path / "toml.md").write_text('+++\ntitle = "No close"\n\nText.\n')
    (tmp_path / "empty.md").write_text("---\n---\n## Vide\nUne page sans métadonnées.\n")
    pages, errors = load_pages(tmp_path)
    assert [p.source for p in pages] == ["empty.md", "good.md"]
    reported = {e.path: e.reason for e in errors}
    assert reported["open.md"].startswith("front matter opened by --- is never closed")
    assert reported["toml.md"].startswith("front matter opened by +++ is never closed")
    assert not any("No close" in b.text for p in pages for s in p.sections for b in s.blocks)


def _site(tmp_path: Path) -> Path:
    """A small Hugo site: branch pages (``_index.md``), bundles, a leaf page, a folder
    without ``_index.md`` and a page without headings."""
    files = {
        "_index.md": "---\ntitle: Accueil\n---\nBienvenue.\n",
        "domaines/_index.md": "---\ntitle: Domaines\n---\n",
        "domaines/vente/_index.md": "---\ntitle: Compétence - Vente\n---\n",
        "domaines/vente/acheteur/index.md": (
            "---\ntitle: L'acheteur\n---\n## Ses questions\n\nIl veut savoir ce qu'il gagne.\n"
        ),
        "domaines/vente/prix.md": "---\ntitle: Le prix\n---\nLe prix se discute en dernier.\n",
        "livres/resume/index.md": (
            "---\ntitle: Résumé\n---\n## Idée\n\nLire peu mais souvent, chaque jour.\n"
        ),
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    return tmp_path


def test_breadcrumbs_follow_the_sites_sections_and_links_its_urls(tmp_path):
    pages, errors = load_pages(_site(tmp_path), base_url="https://kb.example/")
    assert errors == []
    by_source = {p.source: p for p in pages}
    buyer = by_source["domaines/vente/acheteur/index.md"]
    (questions,) = buyer.sections
    assert questions.citation.label == "Domaines › Compétence - Vente › L'acheteur › Ses questions"
    assert questions.breadcrumb == ("L'acheteur", "Ses questions")  # the page's own part
    assert questions.link == "https://kb.example/domaines/vente/acheteur/#ses-questions"
    price = by_source["domaines/vente/prix.md"].sections[0]
    assert price.citation.label == "Domaines › Compétence - Vente › Le prix"
    assert price.link == "https://kb.example/domaines/vente/prix/"
    branch = by_source["domaines/vente/_index.md"]
    assert branch.trail == ("Domaines",) and branch.link == "https://kb.example/domaines/vente/"
    # No _index.md in livres/: the breadcrumb is the page's own, as before.
    (idea,) = by_source["livres/resume/index.md"].sections
    assert idea.citation.label == "Résumé › Idée"
    assert by_source["_index.md"].sections[0].citation.label == "Accueil"


def test_a_figure_shortcode_is_read_as_an_image_its_caption_never_alone():
    texts = _texts(
        "## Ventes\n\nLes ventes doublent chaque hiver depuis que le support est inclus.\n\n"
        '{{< figure src="ventes.png" caption="Courbe des ventes par saison" >}}\n\n'
        "## Figure seule\n\n"
        '{{< figure src="seule.png" title="Une figure" caption="Sans texte autour d\'elle" >}}\n'
    )
    assert texts == [
        "Les ventes doublent chaque hiver depuis que le support est inclus. "
        "Courbe des ventes par saison"
    ]


def _alias_bomb(key: str = "title") -> str:
    """YAML front matter whose ``key`` is nine levels of nine references (9^9 leaves)."""
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for level in range(1, 10):
        refs = ", ".join([f"*a{level - 1}"] * 9)
        lines.append(f"a{level}: &a{level} [{refs}]")
    lines.append(f"{key}: *a9")
    return "---\n" + "\n".join(lines) + "\n---\n## A\n\nUne phrase du corps de la page.\n"


def test_a_yaml_alias_bomb_is_named_and_skipped_and_the_rest_loads(tmp_path):
    (tmp_path / "good.md").write_text("---\ntitle: Good\n---\n## A\nFine text.\n")
    (tmp_path / "bomb.md").write_text(_alias_bomb())
    (tmp_path / "list").mkdir()
    (tmp_path / "list" / "_index.md").write_text(_alias_bomb("linkTitle"))
    (tmp_path / "list" / "page.md").write_text(_alias_bomb("checklists"))
    pages, errors = load_pages(tmp_path)
    assert [p.source for p in pages] == ["good.md"]
    reported = {e.path: e.reason for e in errors}
    assert set(reported) == {"bomb.md", "list/_index.md", "list/page.md"}
    assert all("alias" in reason for reason in reported.values())


def test_a_title_that_is_not_text_is_named_and_the_rest_loads(tmp_path):
    (tmp_path / "good.md").write_text("---\ntitle: Good\n---\n## A\nFine text.\n")
    (tmp_path / "list.md").write_text("---\ntitle: [un, deux]\n---\n## A\nText.\n")
    (tmp_path / "map.md").write_text('+++\ndescription = "x"\n[title]\nfr = "Titre"\n+++\nText.\n')
    (tmp_path / "number.md").write_text("---\ntitle: 2024\n---\n## A\nText of the year.\n")
    pages, errors = load_pages(tmp_path)
    assert [(p.source, p.title) for p in pages] == [("good.md", "Good"), ("number.md", "2024")]
    reported = {e.path: e.reason for e in errors}
    assert reported == {
        "list.md": "front matter: title must be text",
        "map.md": "front matter: title must be text",
    }


def test_a_huge_front_matter_is_named_and_skipped(tmp_path):
    (tmp_path / "good.md").write_text("---\ntitle: Good\n---\n## A\nFine text.\n")
    params = "\n".join(f"p{n}: {'x' * 60}" for n in range(4000))
    (tmp_path / "big.md").write_text(f"---\ntitle: Big\n{params}\n---\n## A\nText.\n")
    pages, errors = load_pages(tmp_path)
    assert [p.source for p in pages] == ["good.md"]
    assert [e.path for e in errors] == ["big.md"]
    assert "front matter" in errors[0].reason and "limit" in errors[0].reason


@pytest.mark.parametrize(
    "front",
    [
        "+++\n" + "a = " + "[" * 3000 + "]" * 3000 + "\n+++\n",
        "+++\n" + "a = " + "{b = " * 3000 + "1" + "}" * 3000 + "\n+++\n",
        "---\na: " + "[" * 3000 + "]" * 3000 + "\n---\n",
        "---\na: " + "{b: " * 3000 + "1" + "}" * 3000 + "\n---\n",
    ],
    ids=["toml-arrays", "toml-tables", "yaml-lists", "yaml-maps"],
)
def test_front_matter_nested_thousands_deep_is_named_and_the_rest_loads(tmp_path, front):
    (tmp_path / "good.md").write_text("---\ntitle: Good\n---\n## A\nFine text.\n")
    (tmp_path / "deep.md").write_text(front + "## A\nText.\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "_index.md").write_text(front + "## B\nText.\n")
    pages, errors = load_pages(tmp_path)
    assert [p.source for p in pages] == ["good.md"]
    reported = {e.path: e.reason for e in errors}
    assert set(reported) == {"deep.md", "sub/_index.md"}
    assert all(reason.startswith("front matter") for reason in reported.values())


def test_an_unexpected_failure_on_one_page_names_it_and_the_rest_loads(tmp_path, monkeypatch):
    import bot.core.knowledge.documents as documents

    real = documents.blocks_and_headings

    def failing(body):
        if "boom" in body:
            raise KeyError("boom")
        return real(body)

    monkeypatch.setattr(documents, "blocks_and_headings", failing)
    (tmp_path / "good.md").write_text("---\ntitle: Good\n---\n## A\nFine text.\n")
    (tmp_path / "bad.md").write_text("## A\nboom\n")
    pages, errors = load_pages(tmp_path)
    assert [p.source for p in pages] == ["good.md"]
    assert [e.path for e in errors] == ["bad.md"]
    assert "cannot be read" in errors[0].reason


def test_a_huge_heading_or_title_is_shortened_so_no_passage_carries_it(tmp_path):
    """A heading of 100 KB (a pasted blob after ``##``) above 200 paragraphs would be embedded
    with every one of them: titles are cut to a few hundred characters, at a space."""
    from bot.core.knowledge.documents import MAX_TITLE_CHARS
    from bot.core.knowledge.passages import build_passages

    blob = "x" * 100_000
    words = " ".join(["mot"] * 10_000)
    body = "\n\n".join(
        f"Le paragraphe numéro {n} parle des tarifs et des remises." for n in range(200)
    )
    (tmp_path / "p.md").write_text(f"---\ntitle: {words}\n---\n## {blob}\n\n{body}\n")
    pages, errors = load_pages(tmp_path)
    assert errors == []
    (page,) = pages
    assert len(page.title) <= MAX_TITLE_CHARS and page.title.startswith("mot mot")
    assert page.title.endswith("…") and not page.title.endswith(" …")
    (section,) = page.sections
    assert len(section.title) <= MAX_TITLE_CHARS and section.title.startswith("xxx")
    assert len(section.citation.link) < 2 * MAX_TITLE_CHARS
    passages = build_passages(page.sections)
    assert len(passages) > 5
    assert max(len(p.embedding_text) for p in passages) < 900 + 2 * MAX_TITLE_CHARS + 10
    # An ordinary heading is untouched.
    assert parse_page("## Le prix\n\nTexte.\n", "x.md").sections[0].title == "Le prix"

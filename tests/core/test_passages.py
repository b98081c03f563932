from bot.core.knowledge.documents import load_pages, parse_page
from bot.core.knowledge.passages import (
    MAX_CHARS,
    MIN_CHARS,
    build_passages,
    is_language,
    split_sentences,
)
from tests.conftest import KNOWLEDGE


def test_a_list_stays_with_its_lead_in():
    pages, _ = load_pages(KNOWLEDGE)
    passages = build_passages(pages[0].sections)
    saas = [p for p in passages if p.citation.section == "Le modèle SaaS"]
    listed = next(p for p in saas if "vendor lock-in" in p.text)
    assert listed.text.startswith("Rappelez-vous que vous avez trois avantages :\n- ")
    assert listed.text.count("\n- ") == 3


def test_long_sections_split_on_sentences_and_small_fragments_merge():
    sentence = "Cette phrase parle de la vente de support aux entreprises clientes. "
    text = (
        "## Long\n\n"
        + sentence * 40
        + "\n\n## Short\n\nOk.\n\nUne deuxième phrase un peu plus longue.\n"
    )
    page = parse_page(text, "x.md")
    passages = build_passages(page.sections)
    long = [p for p in passages if p.citation.section == "Long"]
    assert len(long) >= 3
    assert all(len(p.text) <= MAX_CHARS for p in long)
    assert all(p.text.endswith(".") for p in long)  # cut at sentence boundaries
    short = [p for p in passages if p.citation.section == "Short"]
    assert len(short) == 1 and short[0].text == "Ok.\nUne deuxième phrase un peu plus longue."


def test_every_passage_cites_its_section_and_ids_are_stable():
    pages, _ = load_pages(KNOWLEDGE)
    first = build_passages(pages[0].sections)
    second = build_passages(load_pages(KNOWLEDGE)[0][0].sections)
    assert [p.id for p in first] == [p.id for p in second]
    assert len({p.id for p in first}) == len(first)
    for p in first:
        assert p.embedding_text.startswith(p.citation.page_label)
        assert len(p.text) >= MIN_CHARS


def test_split_sentences():
    assert split_sentences("Un. Deux ! Trois ?\n- Item a.\n- Item b") == [
        "Un.",
        "Deux !",
        "Trois ?",
        "- Item a.",
        "- Item b",
    ]


def test_a_paragraph_repeated_in_a_section_gets_an_id_per_copy_at_once():
    """Ids stay distinct and stable, and a page of thousands of equal paragraphs is cut in
    linear time (each repeat used to try every earlier id again)."""
    paragraph = (
        "Le même paragraphe revient, mot pour mot, et il est assez long pour rester seul ici."
    )
    page = parse_page("## Répétitions\n\n" + "\n\n".join([paragraph] * 3000), "rep.md")
    passages = build_passages(page.sections)
    ids = [p.id for p in passages]
    assert len(ids) == len(set(ids)) == len(passages) > 100
    again = build_passages(parse_page("## Répétitions\n\n" + paragraph, "rep.md").sections)
    assert again[0].id == ids[0]


def test_no_passage_is_markup_residue():
    """A page with every kind of markup gives passages of text only: an image alone, one in a
    sentence, shortcodes paired, self-closing and nested, raw HTML, a comment, a line of
    links, a table and code."""
    from tests.helpers import residue_passages

    page = parse_page(
        "---\ntitle: Tout\n---\n"
        "[![image](cover.jpg)](https://shop.example/book)\n\n"
        "## Images\n\n![image](a.png)\n\nUn texte avec ![image](b.png) au milieu.\n\n"
        "![](c.png)\n\n"
        '## Shortcodes\n\n{{< figure src="f.png" >}}\n\n{{< toc >}}\n\n'
        "{{% notice %}}{{< badge >}}{{% /notice %}}\n\n"
        "{{< alert >}}Une alerte qui dit quelque chose.{{< /alert >}}\n\n"
        '## Html\n\n<div>\n<img src="x.png" alt="image">\n</div>\n\n<!-- note -->\n\n'
        "<br>\n\n"
        "## Liens\n\nhttps://example.com/a https://example.com/b\n\n"
        "- https://example.com/c\n- ![image](d.png)\n\n"
        "## Table\n\n| a | b |\n|---|---|\n| Prix | 10 € |\n\n"
        "## Code\n\n```\nmake deploy\n```\n",
        "p.md",
    )
    passages = build_passages(page.sections)
    texts = [p.text for p in passages]
    assert residue_passages(texts) == []
    assert texts[0] == "Un texte avec au milieu."
    assert any("Une alerte qui dit quelque chose." in t for t in texts)
    assert any("Prix — 10 €" in t for t in texts) and any("make deploy" in t for t in texts)
    assert not any("example.com" in t and len(t) < 60 for t in texts)


def _base64_like(size: int) -> str:
    import base64
    import random

    return base64.b64encode(random.Random(7).randbytes(size * 3 // 4)).decode()


def test_long_unpunctuated_text_is_cut_into_passages_and_sentences_of_bounded_length():
    """A pasted log line or a long run of words has no sentence end: it is still cut (at
    spaces, else anywhere: a script written without spaces), in a paragraph, a list item, a
    table row, a code line or a list's lead."""
    unspaced = "开源软件的商业模式" * 6_000  # Chinese: no spaces, 54,000 characters
    words = " ".join(["journal"] * 12_000)  # one long line of words, no punctuation
    text = (
        f"## Unspaced\n\n{unspaced}\n\n## Words\n\n{words}\n\n## Item\n\n- {words}\n- court\n\n"
        f"## Row\n\n| a | b |\n|---|---|\n| {words} | x |\n\n## Code\n\n```\n{words}\n```\n\n"
        f"## Lead\n\n{words}\n\n- un\n- deux\n"
    )
    page = parse_page(text, "log.md")
    passages = build_passages(page.sections)
    assert {p.citation.section for p in passages} == {
        "Unspaced",
        "Words",
        "Item",
        "Row",
        "Code",
        "Lead",
    }
    assert max(len(p.text) for p in passages) <= 2 * MAX_CHARS
    assert max(len(s) for p in passages for s in split_sentences(p.text)) <= MAX_CHARS
    unspaced_passages = [p for p in passages if p.citation.section == "Unspaced"]
    assert "".join(p.text for p in unspaced_passages) == unspaced  # nothing lost or added
    word_passages = [p for p in passages if p.citation.section == "Words"]
    assert all(p.text.startswith("journal") and p.text.endswith("journal") for p in word_passages)


def test_text_that_is_not_written_in_words_never_forms_a_passage():
    """Pasted base64, minified code or a hex hash are not what a teammate asks about (and
    embedding them costs many times an ordinary passage): they are left out, the prose around
    them stays, and so do prose with long links and text in scripts without spaces."""
    blob = _base64_like(60_000)
    minified = "function(a,b){return a+b};var x=document.getElementById('x');" * 40
    text = (
        f"## Blob\n\nLe journal suit.\n\n{blob}\n\n## Code\n\n```\n{minified}\n```\n\n"
        "## Liens\n\nUn article détaille ce qui s'est passé ici : "
        "https://www.example.com/news/articles/2022-08-23/a-very-long-path-of-an-article-slug\n\n"
        "## 中文\n\n开源软件的商业化模式包括支持服务、开放核心和软件即服务。\n"
    )
    passages = build_passages(parse_page(text, "log.md").sections)
    texts = {p.citation.section: p.text for p in passages}
    assert texts["Blob"] == "Le journal suit."
    assert "Code" not in texts
    assert texts["Liens"].startswith("Un article détaille")
    assert texts["中文"].startswith("开源软件")
    assert is_language("Le prix — 2023 — 45 €") and is_language("1f 2a 3b 4c")
    assert not is_language(blob[:200]) and not is_language("")
    assert split_sentences("x" * 2000) == ["x" * MAX_CHARS, "x" * MAX_CHARS, "x" * 200]

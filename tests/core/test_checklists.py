import shutil

import pytest

from bot.core.team.checklists import fold, item_id, load_checklists
from bot.core.team.lookup import ChecklistBook
from tests.conftest import KNOWLEDGE
from tests.helpers import site_corpus, skip_without_site

SITE = site_corpus()


@pytest.fixture(scope="module")
def book():
    checklists, errors = load_checklists(KNOWLEDGE, link_root="knowledge")
    assert errors == []
    return ChecklistBook(checklists)


def test_derived_checklists_of_the_bundled_page(book):
    """The page's lists of actions, duties and questions are checklists; its lists of facts
    (revenue sources, examples of value, the SaaS advantages, the two ways of selling) are not."""
    derived = {c.id: c for c in book.checklists if c.source == "derived"}
    assert list(derived) == [
        "le-cercle-vertueux-de-lopen-source",
        "les-trois-piliers-du-succes",
        "product-market-fit",
        "value-market-fit",
        "consideration-gestion-du-produit",
    ]
    pillars = derived["les-trois-piliers-du-succes"]
    assert pillars.title == "Les trois piliers du succès"
    assert pillars.description == (
        "Pour être un succès, votre projet open source doit passer par trois étapes :"
    )
    assert [i.title for i in pillars.items] == [
        "Project-community fit",
        "Product-market fit",
        "Value-market fit",
    ]
    assert pillars.items[0].text.startswith(
        "Project-community fit : votre projet open source doit créer une communauté"
    )
    assert (
        pillars.items[0].citation.link
        == "knowledge/commercialisation.md#les-trois-piliers-du-succ%C3%A8s"
    )
    assert [i.text for i in derived["product-market-fit"].items] == [
        "Quel est le problème que le logiciel open source aide à résoudre ?",
        "Pour qui résout-il ce problème ?",
        "Quelles sont les alternatives sur le marché ?",
    ]
    offer = derived["value-market-fit"]
    assert offer.description.startswith("Ainsi, lors de la réflexion sur une offre commerciale")
    assert len(offer.items) == 3
    duties = derived["consideration-gestion-du-produit"]
    assert duties.description == "Une gestion de produit efficace s'occupera de :"
    assert duties.items[0].text == (
        "Gérer les feuilles de route du projet open source et de sa version closed source."
    )


def test_lists_of_facts_keep_their_ids_for_when_a_page_opts_in(kb):
    """A list the rule drops still owns its id: opting the page in brings it back under the
    same id (and so with the progress stored against it), and no other checklist is renamed."""
    before = {c.id for c in load_checklists(kb)[0]}
    page = kb / "commercialisation.md"
    page.write_text(page.read_text().replace("draft: false", "draft: false\nchecklists: true"))
    checklists, errors = load_checklists(kb)
    assert errors == []
    derived = {c.id: c for c in checklists if c.source == "derived"}
    assert before <= {c.id for c in checklists}
    assert [i.text for i in derived["value-market-fit-2"].items][:2] == [
        "Fiabilité, disponibilité, sécurité.",
        "Outillage, aide au développement.",
    ]
    assert derived["value-market-fit-2"].title == "Value-market fit (2)"
    assert {"le-cercle-vertueux-de-lopen-source-2", "le-modele-saas"} <= set(derived)
    assert "achat-et-expansion-ventes-internes-et-sur-le-terrain" in derived


def test_curated_checklists_load_and_cite_sections(book):
    curated = {c.id: c for c in book.checklists if c.source == "curated"}
    assert set(curated) == {"prepare-commercial-offer", "walk-the-funnel", "choose-business-model"}
    funnel = curated["walk-the-funnel"]
    assert funnel.title == "Parcourir l'entonnoir de vente"
    assert len(funnel.items) >= 5
    assert all(i.citation is not None for i in funnel.items)
    assert funnel.items[0].citation.section == (
        "Sensibilisation et intérêt - Gestion de la communauté des développeurs"
    )


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("pmf", "product-market-fit"),
        ("VMF", "value-market-fit"),
        ("open core", "choose-business-model"),
        ("funnel", "walk-the-funnel"),
        ("entonnoir", "walk-the-funnel"),
        ("Entonoir", "walk-the-funnel"),  # typo
        ("three pilars", "les-trois-piliers-du-succes"),  # typo
        ("LES TROIS PILIERS DU SUCCES", "les-trois-piliers-du-succes"),  # accents, case
        ("prodcut market fit", "product-market-fit"),
        ("cloud giants", "choose-business-model"),
        ("offre commerciale", "prepare-commercial-offer"),
        ("prepare-commercial-offer", "prepare-commercial-offer"),
        ("Considération - Gestion du produit", "consideration-gestion-du-produit"),
    ],
)
def test_forgiving_lookup(book, name, expected):
    found = book.find(name)
    assert found.checklist is not None, [c.id for c in found.suggestions]
    assert found.checklist.id == expected


def test_unknown_or_ambiguous_name_suggests_three(book):
    found = book.find("quarterly budget spreadsheet")
    assert found.checklist is None
    assert len(found.suggestions) == 3
    ambiguous = book.find("fit")
    assert ambiguous.checklist is None
    assert "product-market-fit" in [c.id for c in ambiguous.suggestions]


def test_bad_curated_files_are_named_and_others_load(tmp_path):
    kb = tmp_path / "kb"
    shutil.copytree(KNOWLEDGE, kb)
    bad = kb / "checklists"
    (bad / "broken.yaml").write_text("id: x\n  items: [unclosed\n")
    (bad / "noitems.yaml").write_text("id: no-items\ntitle: No items\n")
    (bad / "badref.yaml").write_text(
        "id: bad-ref\ntitle: Bad ref\nitems:\n  - text: Something\n    section: Nowhere at all\n"
    )
    (bad / "zz-dup.yaml").write_text("id: walk-the-funnel\ntitle: Again\nitems: [one]\n")
    (bad / "aliases.yaml").write_text("no-such-checklist: [x]\n")
    checklists, errors = load_checklists(kb)
    reasons = {e.path: e.reason for e in errors}
    assert "cannot be read as YAML" in reasons["checklists/broken.yaml"]
    assert reasons["checklists/noitems.yaml"] == "'items' must be a non-empty list"
    assert reasons["checklists/badref.yaml"] == (
        "item 1 refers to a section that does not exist: 'Nowhere at all'"
    )
    assert reasons["checklists/zz-dup.yaml"] == (
        "id 'walk-the-funnel' is already used by checklists/walk-the-funnel.yaml"
    )
    assert "unknown checklist id(s): no-such-checklist" in reasons["checklists/aliases.yaml"]
    ids = {c.id for c in checklists}
    assert {"walk-the-funnel", "prepare-commercial-offer", "product-market-fit"} <= ids
    assert "bad-ref" not in ids


def test_item_ids_are_stable_across_spacing_and_case():
    assert item_id("Audit.") == item_id("  audit. ")
    assert item_id("Audit.") != item_id("Performance.")
    assert fold("Le Modèle  SaaS !") == "le modele saas"


def _page(path, body, front=""):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"---\ntitle: {path.parent.name or path.stem}\n{front}---\n\n{body}")


STEPS = "## Étapes\n\nAvant de livrer :\n\n- Vérifier les tests.\n- Relire le changelog.\n"
INTRO = "## Introduction\n\nD'abord :\n\n- Lire la page.\n- Poser les questions.\n"


@pytest.fixture
def colliding(tmp_path):
    """A knowledge dir whose pages repeat section titles, most of them in page bundles
    (``folder/_index.md``) whose file names are all the same."""
    kb = tmp_path / "kb"
    _page(kb / "alpha" / "_index.md", STEPS + INTRO)
    _page(kb / "beta" / "_index.md", STEPS)
    _page(kb / "docs" / "alpha" / "index.md", STEPS)  # same folder name as alpha/
    _page(kb / "guides" / "alpha" / "index.md", STEPS)  # and again
    _page(kb / "zeta.md", INTRO + "\n" + STEPS)
    return kb


def test_colliding_list_titles_get_unique_ids_that_open(colliding):
    checklists, errors = load_checklists(colliding)
    assert errors == []
    ids = [c.id for c in checklists]
    assert ids == [
        "etapes",
        "introduction",
        "beta-etapes",
        "alpha-etapes",
        "guides-alpha-etapes",
        "zeta-introduction",
        "zeta-etapes",
    ]
    book = ChecklistBook(checklists)
    for checklist in checklists:  # an id opens its own checklist, even one titled like another
        assert book.find(checklist.id).checklist is checklist
    assert book.find("zeta-introduction").checklist.citation.link.endswith("zeta.md#introduction")
    again, _ = load_checklists(colliding)
    assert [c.id for c in again] == ids  # stable from one reading to the next


def test_front_matter_opts_lists_in_and_out(tmp_path):
    kb = tmp_path / "kb"
    facts = "## Chiffres\n\nEn bref :\n\n- Trois clients.\n- Deux produits.\n"
    people = "## Équipe\n\nQui :\n\n- Alice.\n- Bob.\n"
    questions = "## Questions\n\nAvant :\n\n- Qui paie ?\n- Pour quand ?\n"
    _page(kb / "rule.md", facts + questions)
    _page(kb / "all.md", facts, front="checklists: true\n")
    _page(kb / "none.md", questions, front="checklists: false\n")
    _page(kb / "some.md", facts + people, front="checklists: [Chiffres]\n")
    _page(kb / "anchor.md", people, front="checklists: '#equipe'\n")
    checklists, errors = load_checklists(kb, link_root="")
    assert errors == []
    kept = {(c.citation.link.split("#")[0], c.title) for c in checklists}
    assert kept == {
        ("anchor.md", "Équipe"),
        ("all.md", "Chiffres"),
        ("rule.md", "Questions"),
        ("some.md", "Chiffres"),
    }


def test_aliases_keep_a_list_the_rule_drops(kb):
    (kb / "checklists" / "aliases.yaml").write_text("le-modele-saas: [cloud advantages]\n")
    checklists, errors = load_checklists(kb)
    assert errors == []
    book = ChecklistBook(checklists)
    assert book.find("cloud advantages").checklist.id == "le-modele-saas"


@pytest.mark.site
def test_every_checklist_of_the_site_has_a_unique_id_that_opens():
    skip_without_site(SITE)
    checklists, errors = load_checklists(SITE)
    assert errors == []
    ids = [c.id for c in checklists]
    assert len(ids) == len(set(ids))
    book = ChecklistBook(checklists)
    refused = [c.id for c in checklists if book.find(c.id).checklist is not c]
    assert refused == []
    # Lists of actions and questions, not every list: the site has 174 lists.
    assert 30 <= len(checklists) <= 70
    titles = {c.title for c in checklists}
    assert "Comment décider ?" in titles  # six steps to a decision
    assert "Qui sont nos ennemis ?" not in titles  # bacteria, viruses, protozoa


def test_a_yaml_alias_bomb_among_the_checklists_is_named_and_the_others_load(kb):
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    for n in range(1, 10):
        refs = ", ".join([f"*a{n - 1}"] * 9)
        levels.append(f"a{n}: &a{n} [{refs}]")
    (kb / "checklists" / "bomb.yaml").write_text("\n".join(levels) + "\n", encoding="utf-8")
    checklists, errors = load_checklists(kb)
    reasons = {e.path: e.reason for e in errors}
    assert "more than the 8 allowed" in reasons["checklists/bomb.yaml"]
    assert "walk-the-funnel" in {c.id for c in checklists}

import shutil

import pytest

from bot.core.team.checklists import fold, item_id, load_checklists
from bot.core.team.lookup import ChecklistBook
from tests.conftest import KNOWLEDGE


@pytest.fixture(scope="module")
def book():
    checklists, errors = load_checklists(KNOWLEDGE, link_root="knowledge")
    assert errors == []
    return ChecklistBook(checklists)


def test_derived_checklists_of_the_bundled_page(book):
    derived = {c.id: c for c in book.checklists if c.source == "derived"}
    assert list(derived) == [
        "le-cercle-vertueux-de-lopen-source",
        "le-cercle-vertueux-de-lopen-source-2",
        "les-trois-piliers-du-succes",
        "product-market-fit",
        "value-market-fit",
        "value-market-fit-2",
        "le-modele-saas",
        "consideration-gestion-du-produit",
        "achat-et-expansion-ventes-internes-et-sur-le-terrain",
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
    assert [i.text for i in derived["value-market-fit-2"].items] == [
        "Fiabilité, disponibilité, sécurité.",
        "Outillage, aide au développement.",
        "Performance.",
        "Audit.",
        "Prestations de service.",
    ]
    assert derived["value-market-fit-2"].title == "Value-market fit (2)"
    assert [i.text for i in derived["le-modele-saas"].items] == [
        'Les entreprises n\'aiment pas le "vendor lock-in".',
        "Les entreprises préfèrent acheter à ceux qui ont fait le code.",
        "Vos concurrents n'ont pas votre expertise.",
    ]
    duties = derived["consideration-gestion-du-produit"]
    assert duties.description == "Une gestion de produit efficace s'occupera de :"
    assert duties.items[0].text == (
        "Gérer les feuilles de route du projet open source et de sa version closed source."
    )
    selling = derived["achat-et-expansion-ventes-internes-et-sur-le-terrain"]
    assert [i.text[:20] for i in selling.items] == ["En libre-service : l", "En vente-service(top"]
    revenue = derived["le-cercle-vertueux-de-lopen-source-2"]
    assert [i.text for i in revenue.items] == [
        "La vente de services et de support.",
        "La vente de licences particulière (Open Source).",
        "Le mode SaaS.",
    ]


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
        ("cloud giants", "le-modele-saas"),
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

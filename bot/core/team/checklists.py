"""Checklists: the lists of the knowledge base a team would tick, plus curated YAML checklists.

Derived checklists: one per list that asks something of its reader (actions, duties or
questions: the rule of ``bot.core.team.tickable``), titled after its section (``Title (2)`` for a
section's second list), described by the sentence that leads into the list; a bold item prefix
becomes the item's title. A page overrides the rule in its front matter: ``checklists: true``
(every list of the page), ``checklists: false`` (none), or ``checklists: [Heading, #anchor]``
(the lists under those headings, the others by the rule).

Ids are unique and stable: a list's id is its section's slug (``-2`` for the section's second
list); when an earlier page has taken it, the page's name (its folder for ``index.md`` and
``_index.md``) comes first, then its whole path. Every list gets its id whether it is kept or
not, so choosing which lists are checklists never renames one.

Curated checklists live in ``<knowledge>/checklists/*.yaml`` and are always kept;
``aliases.yaml`` there adds names to derived checklists (and keeps the lists it names).
Lookup forgives accents, case, typos and abbreviations.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from bot.core.knowledge.boundary import FileRefused, read_text
from bot.core.knowledge.documents import MAX_PAGE_BYTES, DocumentError, Page, PageCache, load_pages
from bot.core.knowledge.passages import split_sentences
from bot.core.knowledge.team_yaml import YamlRefused, load_yaml
from bot.core.team.tickable import is_tickable
from bot.core.types import Block, Citation, Section

CURATED_DIR = "checklists"
ALIASES_FILE = "aliases.yaml"
_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


@dataclass(frozen=True)
class ChecklistItem:
    """One item: a stable id (a hash of its text), its text, an optional title, its citation."""

    id: str
    text: str
    title: str | None
    citation: Citation | None


@dataclass(frozen=True)
class Checklist:
    """A checklist: ``source`` is ``derived`` (from a page's list) or ``curated`` (YAML)."""

    id: str
    title: str
    description: str
    items: tuple[ChecklistItem, ...]
    aliases: tuple[str, ...]
    source: str
    citation: Citation | None  # the section a derived checklist comes from

    @property
    def sections(self) -> list[str]:
        """Distinct section titles the items cite, in order."""
        seen: list[str] = []
        for item in self.items:
            if item.citation and item.citation.section not in seen:
                seen.append(item.citation.section)
        return seen


def fold(text: str) -> str:
    """Lower-case, strip accents and punctuation, collapse spaces: ``"Le modèle SaaS!"`` →
    ``"le modele saas"``."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^\w]+|_", " ", plain).split())


def slug(text: str) -> str:
    """An ASCII id: ``"Considération - Gestion du produit"`` →
    ``consideration-gestion-du-produit``."""
    return "-".join(fold(text.replace("'", "").replace("’", "")).split()) or "checklist"


def item_id(text: str) -> str:
    """The stable id of an item: a hash of its folded text, so edits to spacing or case keep it."""
    return "i-" + hashlib.sha256(fold(text).encode()).hexdigest()[:10]


def _acronym(title: str) -> str | None:
    words = fold(title).split()
    return "".join(w[0] for w in words) if len(words) >= 2 else None


def page_slug(source: str) -> str:
    """The page's own name, as Hugo gives it: the file's stem, or its folder's name for a page
    bundle (``guide/_index.md``, ``guide/index.md`` → ``guide``)."""
    path = Path(source)
    if path.stem in ("index", "_index") and path.parent.name:
        return slug(path.parent.name)
    return slug(path.stem)


def _unique_id(base: str, source: str, used: set[str]) -> str:
    """``base``, or, when an earlier list took it, ``base`` prefixed with the page's name, then
    with the page's whole path, then numbered: the same pages always give the same ids."""
    path = Path(source)
    folder = path.stem in ("index", "_index") and path.parent.name
    whole = slug(str(path.parent if folder else path.with_suffix("")).replace("/", " "))
    for candidate in (base, f"{page_slug(source)}-{base}", f"{whole}-{base}"):
        if candidate not in used:
            return candidate
    number = 2
    while f"{whole}-{base}-{number}" in used:
        number += 1
    return f"{whole}-{base}-{number}"


def _opted_in(page: Page, section: Section) -> bool | None:
    """What the page's front matter says of the lists of ``section`` (``None``: nothing)."""
    choice = page.checklists
    if choice is None or isinstance(choice, bool):
        return choice
    names = {fold(name.lstrip("#")) for name in choice}
    return True if names & {fold(section.title), fold(section.anchor)} else None


@dataclass(frozen=True)
class DerivedList:
    """A list of a page as a checklist, and whether it is kept as one: by the page's front
    matter, else by the rule of ``bot.core.team.tickable``."""

    checklist: Checklist
    kept: bool


def page_lists(pages: list[Page]) -> list[DerivedList]:
    """Every Markdown list of ``pages`` as a checklist, in reading order, with unique ids.

    Ids are given to every list, kept or not, so that deciding which lists are checklists
    (the rule, a page opting in or out) never renames another checklist.
    """
    lists: list[DerivedList] = []
    used: set[str] = set()
    for page in pages:
        for section in page.sections:
            ordinal = 0
            previous = None
            for block in section.blocks:
                if block.kind == "list":
                    ordinal += 1
                    lead = ""
                    if previous is not None and previous.kind == "paragraph":
                        lead = split_sentences(previous.text)[-1]
                    base = (
                        slug(section.title) if ordinal == 1 else f"{slug(section.title)}-{ordinal}"
                    )
                    cid = _unique_id(base, page.source, used)
                    used.add(cid)
                    checklist = _derived(section, block, cid, ordinal, lead)
                    choice = _opted_in(page, section)
                    kept = (
                        choice
                        if choice is not None
                        else is_tickable([i.text for i in block.items], lead)
                    )
                    lists.append(DerivedList(checklist, kept))
                previous = block
    return lists


def _derived(section: Section, block: Block, cid: str, ordinal: int, lead: str) -> Checklist:
    """The checklist of ``block``, the ``ordinal``-th list of ``section``."""
    title = section.title if ordinal == 1 else f"{section.title} ({ordinal})"
    citation = section.citation
    items = tuple(ChecklistItem(item_id(i.text), i.text, i.title, citation) for i in block.items)
    acronym = _acronym(section.title) if ordinal == 1 else None
    return Checklist(
        id=cid,
        title=title,
        description=lead,
        items=items,
        aliases=(acronym,) if acronym else (),
        source="derived",
        citation=citation,
    )


def _resolve_section(ref: str, pages: list[Page]) -> Citation | None:
    """A section by title, ``#anchor`` or ``page.md#anchor`` (case- and accent-insensitive)."""
    page_part, _, anchor = ref.rpartition("#")
    for page in pages:
        if page_part and page_part != page.source:
            continue
        for section in page.sections:
            if "#" in ref and anchor in (section.anchor, slug(section.title)):
                return section.citation
            if "#" not in ref and fold(ref) == fold(section.title):
                return section.citation
    return None


def _curated(path: Path, data: object, pages: list[Page]) -> Checklist:
    """Validate one curated file's data. Raises ``ValueError`` naming the first problem."""
    if not isinstance(data, dict):
        raise ValueError("expected a mapping with id, title and items")
    cid = data.get("id")
    if not isinstance(cid, str) or not _ID.match(cid):
        raise ValueError(
            "'id' must be lower-case letters, digits and hyphens (e.g. walk-the-funnel)"
        )
    title = data.get("title")
    if not isinstance(title, str) or not title.strip():
        raise ValueError("'title' is missing")
    aliases = data.get("aliases", [])
    if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
        raise ValueError("'aliases' must be a list of names")
    description = data.get("description", "")
    if not isinstance(description, str):
        raise ValueError("'description' must be text")
    raw_items = data.get("items")
    if not isinstance(raw_items, list) or not raw_items:
        raise ValueError("'items' must be a non-empty list")
    items = []
    for number, raw in enumerate(raw_items, start=1):
        raw = {"text": raw} if isinstance(raw, str) else raw
        if (
            not isinstance(raw, dict)
            or not isinstance(raw.get("text"), str)
            or not raw["text"].strip()
        ):
            raise ValueError(f"item {number} needs a 'text'")
        citation = None
        ref = raw.get("section")
        if ref is not None:
            citation = _resolve_section(str(ref), pages)
            if citation is None:
                raise ValueError(f"item {number} refers to a section that does not exist: {ref!r}")
        text = " ".join(raw["text"].split())
        items.append(ChecklistItem(item_id(text), text, raw.get("title"), citation))
    if len({i.id for i in items}) != len(items):
        raise ValueError("two items have the same text")
    return Checklist(
        cid, title.strip(), description.strip(), tuple(items), tuple(aliases), "curated", None
    )


def load_curated(
    knowledge_dir: Path, pages: list[Page], derived: list[Checklist]
) -> tuple[list[Checklist], dict[str, list[str]], list[DocumentError]]:
    """Read ``<knowledge_dir>/checklists/*.yaml``.

    Returns ``(curated checklists, extra aliases by derived id, errors)``; a bad file is
    reported in ``errors`` with the reason and the others still load. Only regular files
    inside the knowledge folder are read, at most ``boundary.MAX_YAML_BYTES`` each.
    """
    folder = knowledge_dir / CURATED_DIR
    curated: list[Checklist] = []
    extra: dict[str, list[str]] = {}
    errors: list[DocumentError] = []
    if not folder.is_dir():
        return curated, extra, errors
    taken = {c.id: "a list of the pages" for c in derived}
    root = knowledge_dir.resolve()
    for path in sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]):
        name = path.relative_to(knowledge_dir).as_posix()
        try:
            data = load_yaml(read_text(path, root))
        except FileRefused as exc:
            errors.append(DocumentError(name, f"{exc}: not loaded"))
            continue
        except YamlRefused as exc:
            errors.append(DocumentError(name, f"cannot be read as YAML: it {exc}"))
            continue
        except OSError as exc:
            errors.append(DocumentError(name, f"cannot be read ({exc.strerror or exc})"))
            continue
        try:
            if path.name == ALIASES_FILE:
                extra.update(_aliases(data, {c.id for c in derived}))
                continue
            checklist = _curated(path, data, pages)
            if checklist.id in taken:
                raise ValueError(f"id {checklist.id!r} is already used by {taken[checklist.id]}")
        except ValueError as exc:
            errors.append(DocumentError(name, str(exc)))
            continue
        taken[checklist.id] = name
        curated.append(checklist)
    return curated, extra, errors


def _aliases(data: object, derived_ids: set[str]) -> dict[str, list[str]]:
    if not isinstance(data, dict):
        raise ValueError("expected a mapping of checklist id → list of names")
    unknown = sorted(k for k in data if k not in derived_ids)
    if unknown:
        raise ValueError(f"unknown checklist id(s): {', '.join(map(str, unknown))}")
    for key, names in data.items():
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise ValueError(f"the names of {key!r} must be a list of text")
    return {str(k): list(v) for k, v in data.items()}


def build_checklists(
    knowledge_dir: Path, pages: list[Page]
) -> tuple[list[Checklist], list[DocumentError]]:
    """All checklists of the knowledge base (derived, then curated) and the curated files'
    errors. A list ``aliases.yaml`` names is kept even when the rule would drop it: the team
    named it, so it uses it."""
    lists = page_lists(pages)
    every = [d.checklist for d in lists]
    curated, extra, errors = load_curated(knowledge_dir, pages, every)
    derived = [
        Checklist(
            c.id,
            c.title,
            c.description,
            c.items,
            (*c.aliases, *extra.get(c.id, [])),
            c.source,
            c.citation,
        )
        for c, kept in ((d.checklist, d.kept) for d in lists)
        if kept or c.id in extra
    ]
    return derived + curated, errors


def load_checklists(
    knowledge_dir: Path,
    *,
    base_url: str = "",
    link_root: str | None = None,
    cache: PageCache | None = None,
    max_bytes: int = MAX_PAGE_BYTES,
) -> tuple[list[Checklist], list[DocumentError]]:
    """Read the pages (through ``cache`` when given) and curated files of ``knowledge_dir``
    into checklists.

    Returns ``(checklists, errors)`` with the errors of pages and curated files alike.
    """
    pages, page_errors = load_pages(
        knowledge_dir, base_url=base_url, link_root=link_root, cache=cache, max_bytes=max_bytes
    )
    checklists, errors = build_checklists(knowledge_dir, pages)
    return checklists, page_errors + errors

"""How Hugo names and links a page's sections: heading anchors, shortened titles, URL paths
and section links (the site's address, else the file's path)."""

from __future__ import annotations

import unicodedata
from pathlib import Path
from urllib.parse import quote

# A page or section title longer than this (a pasted blob after ``##``) is cut: every passage
# of its section carries it when embedded, and every reply citing it shows it.
MAX_TITLE_CHARS = 300


def hugo_anchor(title: str) -> str:
    """Return the anchor Hugo (goldmark, ``github`` style) gives a heading.

    Letters and digits are lower-cased, spaces and hyphens become hyphens, ``_`` is kept and
    everything else is dropped: ``"L'open source"`` → ``"lopen-source"``.
    """
    out = []
    for char in unicodedata.normalize("NFC", title.strip()):
        if char in " -":
            out.append("-")
        elif char == "_" or char.isalnum():
            out.append(char.lower())
    return "".join(out)


def short_title(title: str) -> str:
    """``title`` as a citation shows it: whole up to ``MAX_TITLE_CHARS``, else cut at the last
    space before that (else at the limit) and ended with ``…``."""
    if len(title) <= MAX_TITLE_CHARS:
        return title
    cut = title[: MAX_TITLE_CHARS - 1]
    space = cut.rfind(" ", MAX_TITLE_CHARS // 2)
    return (cut[:space] if space > 0 else cut).rstrip() + "…"


def page_url_path(source: str) -> str:
    """Return the Hugo URL path of a page: ``a/b.md`` → ``a/b/``, ``a/_index.md`` → ``a/``."""
    path = Path(source)
    parts = (
        list(path.parent.parts)
        if path.stem in ("index", "_index")
        else [
            *path.parent.parts,
            path.stem,
        ]
    )
    parts = [p for p in parts if p not in ("", ".")]
    return "/".join(parts).lower() + "/" if parts else ""


def section_link(source: str, anchor: str, base_url: str, link_root: str) -> str:
    """Return the link of a section: base URL + page path + ``#anchor``, else the file path."""
    fragment = f"#{quote(anchor, safe='-_')}" if anchor else ""
    if base_url:
        return f"{base_url.rstrip('/')}/{page_url_path(source)}{fragment}"
    root = link_root.rstrip("/")
    return f"{root}/{source}{fragment}" if root else f"{source}{fragment}"

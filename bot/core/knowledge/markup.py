"""What a reader sees of a page's markup: Hugo shortcodes without their tags, raw HTML
without its tags and comments, image alt texts without placeholders, and the test that
tells markup residue (text with nothing left to read) from text."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Literal

# A shortcode tag: ``{{< name params >}}``, ``{{% name params %}}``, closing ``{{< /name >}}``,
# self-closing ``{{< name params />}}``; ``{{</* … */>}}`` is an escaped one, shown as written.
_SHORTCODE = re.compile(r"\{\{<(?P<a>.*?)>\}\}|\{\{%(?P<b>.*?)%\}\}", re.S)
_PARAM = re.compile(
    r"""(?P<key>[\w-]+)\s*=\s*"""
    r"""(?:"(?P<dq>(?:[^"\\]|\\.)*)"|`(?P<bq>[^`]*)`|(?P<bare>[^\s"`]+))"""
)
# The parameters whose values a shortcode shows as text (Hugo's ``figure``: title, caption,
# alt; an ``alert`` or ``notice`` of most themes: text), in the order they are read.
_SHOWN_PARAMS = ("title", "caption", "text", "alt")
# Shortcodes that show an image (Hugo's ``figure``, and the usual names of themes' own): their
# caption is read as an image's alt text, with the text around it, never alone.
_IMAGE_SHORTCODES = frozenset({"figure", "image", "img"})

# Alt texts that say nothing about the image (what editors and converters put by default).
_PLACEHOLDER_ALTS = frozenset(
    {
        "alt",
        "alt text",
        "capture d'écran",
        "capture d’écran",
        "figure",
        "icon",
        "icône",
        "illustration",
        "image",
        "images",
        "img",
        "logo",
        "photo",
        "pic",
        "picture",
        "screen shot",
        "screenshot",
    }
)
_IMAGE_EXTENSIONS = r"png|jpe?g|gif|svg|webp|avif|bmp|tiff?"
_IMAGE_FILE = re.compile(rf"^\S+\.(?:{_IMAGE_EXTENSIONS})$", re.I)
# Words that are markup when nothing else is there: HTML tag names and "image".
_RESIDUE_WORDS = frozenset(
    {
        *("a", "alt", "b", "br", "code", "div", "em", "figcaption", "hr", "i", "iframe"),
        *("image", "images", "img", "li", "ol", "p", "pre", "span", "strong", "sub", "sup"),
        *("td", "th", "tr", "u", "ul"),
    }
)
_URL = re.compile(r"(?:https?://|www\.)\S+", re.I)
_TAG = re.compile(r"</?[A-Za-z][^>]*>|<!--.*?-->|\{\{[<%].*?[>%]\}\}", re.S)
# A file name: from the start of a run of non-spaces (so that a long run without one is read
# once, not once per character) to its last image or PDF extension.
_FILE = re.compile(rf"(?<!\S)\S+\.(?:{_IMAGE_EXTENSIONS}|pdf)\b", re.I)
_WORD = re.compile(r"\w+")
_SPACES = re.compile(r"[ \t\r\f\v]+")

# Elements that start a new line of text where they open and close.
_BLOCK_TAGS = frozenset(
    {
        *("address", "article", "aside", "blockquote", "br", "dd", "details", "div", "dl"),
        *("dt", "figcaption", "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6"),
        *("header", "hr", "li", "main", "nav", "ol", "p", "pre", "section", "summary"),
        *("table", "tbody", "thead", "tfoot", "tr", "ul"),
    }
)
_CELL_TAGS = frozenset({"td", "th"})
_HIDDEN_TAGS = frozenset({"script", "style", "template"})


def _param(params: list[str], name: str) -> str:
    """The value of the parameter ``name`` in a shortcode's parameters, or ``""``."""
    for match in _PARAM.finditer(params[0] if params else ""):
        if match.group("key").lower() == name:
            value = match.group("dq") or match.group("bq") or match.group("bare") or ""
            return value.replace(" ", "%20").replace(")", "%29")
    return ""


def _shown_params(params: str) -> str:
    """The text a shortcode shows from its parameters (``title``, ``caption``, ``text``,
    ``alt``), placeholders left out."""
    values: dict[str, str] = {}
    for match in _PARAM.finditer(params):
        key = match.group("key").lower()
        value = match.group("dq")
        if value is not None:
            value = value.replace('\\"', '"')
        else:
            value = match.group("bq") if match.group("bq") is not None else match.group("bare")
        if key in _SHOWN_PARAMS and key not in values:
            values[key] = value.strip()
    shown: list[str] = []
    for key in _SHOWN_PARAMS:
        value = values.get(key, "")
        if key == "alt" and is_placeholder_alt(value):
            continue
        if value and value not in shown:
            shown.append(value)
    return ". ".join(shown)


def _shortcode(match: re.Match[str]) -> str:
    inner = match.group("a") if match.group("a") is not None else match.group("b")
    body = inner.strip()
    if body.startswith("/*") and body.endswith("*/"):  # escaped: Hugo shows it as written
        delimiter = "<" if match.group("a") is not None else "%"
        closing = ">" if delimiter == "<" else "%"
        return f"{{{{{delimiter} {body[2:-2].strip()} {closing}}}}}"
    if body.startswith("/"):  # a closing tag
        return ""
    name, *params = body.removesuffix("/").split(None, 1)
    shown = _shown_params(params[0] if params else "") if name else ""
    if name.casefold() in _IMAGE_SHORTCODES:  # read as the image it shows: its caption
        return f"![{shown.replace('[', '(').replace(']', ')')}]({_param(params, 'src')})"
    return shown


def strip_shortcodes(text: str) -> str:
    """``text`` with every Hugo shortcode tag replaced by what it shows as text: a paired
    shortcode keeps its inner text, a tag keeps the values of its ``title``, ``caption``,
    ``text`` and ``alt`` parameters, and one with none of these disappears; a ``figure``
    becomes a Markdown image whose alt text is its caption."""
    if "{{" not in text:
        return text
    return _SHORTCODE.sub(_shortcode, text)


class _TextOfHtml(HTMLParser):
    """Collects the text of an HTML fragment, a line per block element."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN_TAGS:
            self._hidden += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")
        elif tag in _CELL_TAGS:
            self.parts.append(" — ")
        elif tag == "img":
            alt = dict(attrs).get("alt") or ""
            if not is_placeholder_alt(alt):
                self.parts.append(f" {alt} ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN_TAGS:
            self._hidden = max(0, self._hidden - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data.replace("\n", " "))


def html_text(fragment: str) -> list[str]:
    """The lines of text an HTML fragment shows: tags, comments, scripts and styles left
    out, entities decoded, a line per block element (cells of a row joined by " — ")."""
    parser = _TextOfHtml()
    parser.feed(fragment)
    parser.close()
    lines = []
    for line in "".join(parser.parts).split("\n"):
        line = _SPACES.sub(" ", line).strip().removeprefix("—").strip()
        if line:
            lines.append(line)
    return lines


def is_placeholder_alt(alt: str, src: str = "") -> bool:
    """Whether an image's alt text says nothing: empty, a placeholder ("image", "photo",
    "screenshot", …), a number, a file name, or a name rather than words (the image file's
    own name, an identifier such as ``book_cover``)."""
    text = _SPACES.sub(" ", alt).strip().strip(".:;,!?-_ ").casefold()
    if not text or text.isdigit() or text in _PLACEHOLDER_ALTS or _IMAGE_FILE.match(text):
        return True
    stem = src.rsplit("/", 1)[-1].rsplit(".", 1)[0].casefold()
    return text == stem or (" " not in text and "_" in text)


Residue = Literal["", "links", "empty"]


def markup_residue(text: str) -> Residue:
    """What is left to read of ``text`` once URLs, tags, shortcodes, file names, HTML tag
    names and image placeholders are taken out: ``""`` when words remain (it is text),
    ``"links"`` when only URLs were there to read, ``"empty"`` when nothing was."""
    rest = _URL.sub(" ", text)
    had_links = rest != text
    rest = _FILE.sub(" ", _TAG.sub(" ", rest))
    for word in _WORD.findall(rest):
        folded = word.casefold()
        if folded not in _RESIDUE_WORDS:
            return ""
    return "links" if had_links else "empty"

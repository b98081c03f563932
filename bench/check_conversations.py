#!/usr/bin/env python3
"""Mechanical checker for conversation evaluation sets (eval/conversations-*.yaml).

Usage:  python bench/check_conversations.py FILE.yaml [--forbid OTHER.yaml ...] [--no-bm25] [-v]

Checks, for every conversation and turn:
  * kb in {bundled, site}; id present and unique; 2-4 turns (warning only outside that range)
  * kind in {first, followup, switch}; the first turn of each conversation is `first` (and only it)
  * lang in {fr, en}
  * page exists in the conversation's knowledge base
  * section = exact heading text on that page, or the front-matter title
  * answer = verbatim span of that section's text after removing ** and collapsing whitespace,
    occurring exactly once in the whole knowledge base of its knowledge base
  * answer length 5-25 words (warning only)
  * --forbid OTHER.yaml: site pages used by OTHER (page: values, header)
    must not be used here
Prints problems and counts; exit status 1 if there is any problem.

Then (unless --no-bm25) a plain lexical baseline: BM25 (k1=1.5, b=0.75) over every section of the
conversation's knowledge base (bundled: the page's sections; site: every section of every page;
document = heading + section text; lowercased, accents stripped, FR+EN stopwords removed,
simple French suffix strip), each turn asked ALONE; reports section@1 overall, per kind, per kb.
"""

import math
import os
import re
import sys
import unicodedata
from collections import Counter, defaultdict

import yaml

BUNDLED_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "knowledge")
BUNDLED_PAGE = "commercialisation.md"
SITE_DIR = os.path.join(os.path.dirname(BUNDLED_DIR), "..", "shared", "corpora", "second-cerveau")
KINDS = ("first", "followup", "switch")
LANGS = ("fr", "en")

HEADING_RE = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


# ---------------------------------------------------------------- pages
def norm(text):
    """Remove ** and collapse whitespace."""
    return re.sub(r"\s+", " ", text.replace("**", "")).strip()


def parse_page(path):
    """Return (title, [(heading, raw_text)]) ; first entry is (title, text before first heading)."""
    with open(path, encoding="utf-8") as f:
        raw = f.read()
    title = ""
    body = raw
    m = re.match(r"^---\s*\n(.*?)\n---\s*\n?", raw, re.S)
    if m:
        fm = m.group(1)
        body = raw[m.end() :]
        try:
            meta = yaml.safe_load(fm) or {}
            if isinstance(meta, dict) and meta.get("title") is not None:
                title = str(meta["title"])
        except yaml.YAMLError:
            tm = re.search(r'^title:\s*"?(.*?)"?\s*$', fm, re.M)
            title = tm.group(1) if tm else ""
    sections = []
    cur_head, cur_lines = title, []
    in_fence = False
    for line in body.split("\n"):
        if line.strip().startswith("```"):
            in_fence = not in_fence
        hm = None if in_fence else HEADING_RE.match(line)
        if hm:
            sections.append((cur_head, "\n".join(cur_lines)))
            cur_head, cur_lines = hm.group(2).strip(), []
        else:
            cur_lines.append(line)
    sections.append((cur_head, "\n".join(cur_lines)))
    return title, sections


def load_kb(kb):
    """Return {page_rel_path: (title, sections)}."""
    pages = {}
    if kb == "bundled":
        pages[BUNDLED_PAGE] = parse_page(os.path.join(BUNDLED_DIR, BUNDLED_PAGE))
    else:
        for root, _, files in os.walk(SITE_DIR):
            for fn in files:
                if fn.endswith(".md"):
                    full = os.path.join(root, fn)
                    pages[os.path.relpath(full, SITE_DIR)] = parse_page(full)
    return pages


def count_occ(hay, needle):
    n, start = 0, 0
    while True:
        i = hay.find(needle, start)
        if i < 0:
            return n
        n += 1
        start = i + 1


# ---------------------------------------------------------------- BM25
STOP = set(
    [
        "a",
        "au",
        "aux",
        "avec",
        "ce",
        "ces",
        "cet",
        "cette",
        "ceci",
        "cela",
        "ca",
        "dans",
        "de",
        "des",
        "du",
        "elle",
        "elles",
        "en",
        "et",
        "eux",
        "il",
        "ils",
        "je",
        "j",
        "la",
        "le",
        "les",
        "leur",
        "leurs",
        "lui",
        "ma",
        "mais",
        "me",
        "meme",
        "mes",
        "moi",
        "mon",
        "ne",
        "nos",
        "notre",
        "nous",
        "on",
        "ou",
        "par",
        "pas",
        "pour",
        "qu",
        "que",
        "qui",
        "sa",
        "se",
        "ses",
        "son",
        "sur",
        "ta",
        "te",
        "tes",
        "toi",
        "ton",
        "tu",
        "un",
        "une",
        "vos",
        "votre",
        "vous",
        "c",
        "d",
        "l",
        "m",
        "n",
        "s",
        "t",
        "y",
        "est",
        "sont",
        "etait",
        "ete",
        "etre",
        "avoir",
        "ai",
        "as",
        "avons",
        "avez",
        "ont",
        "a",
        "eu",
        "fait",
        "faire",
        "faut",
        "plus",
        "moins",
        "tres",
        "si",
        "tout",
        "tous",
        "toute",
        "toutes",
        "comme",
        "quoi",
        "quel",
        "quelle",
        "quels",
        "quelles",
        "quand",
        "comment",
        "pourquoi",
        "combien",
        "ou",
        "donc",
        "alors",
        "ainsi",
        "aussi",
        "bien",
        "peu",
        "peut",
        "peuvent",
        "sans",
        "sous",
        "entre",
        "vers",
        "chez",
        "deja",
        "encore",
        "ici",
        "la-bas",
        "ca",
        "cest",
        "genre",
        "truc",
        "trucs",
        "bon",
        "ben",
        "ok",
        "hein",
        "y-a-t-il",
        "est-ce",
        "qu'est-ce",
        "quoi",
        "dont",
        "lequel",
        "laquelle",
        "lesquels",
        "autre",
        "autres",
        "chaque",
        "certains",
        "certaines",
        "the",
        "an",
        "and",
        "or",
        "of",
        "to",
        "in",
        "on",
        "at",
        "for",
        "with",
        "by",
        "from",
        "as",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "it",
        "its",
        "this",
        "that",
        "these",
        "those",
        "what",
        "which",
        "who",
        "whom",
        "whose",
        "how",
        "why",
        "when",
        "where",
        "do",
        "does",
        "did",
        "done",
        "have",
        "has",
        "had",
        "having",
        "not",
        "no",
        "yes",
        "can",
        "could",
        "would",
        "should",
        "will",
        "shall",
        "may",
        "might",
        "must",
        "we",
        "us",
        "our",
        "you",
        "your",
        "they",
        "them",
        "their",
        "he",
        "she",
        "his",
        "her",
        "i",
        "me",
        "my",
        "mine",
        "so",
        "if",
        "then",
        "than",
        "there",
        "here",
        "about",
        "into",
        "over",
        "under",
        "again",
        "also",
        "just",
        "very",
        "too",
        "any",
        "some",
        "all",
        "more",
        "most",
        "other",
        "such",
        "only",
        "own",
        "same",
        "both",
        "each",
        "few",
        "get",
        "got",
        "gonna",
        "wanna",
        "like",
        "thing",
        "stuff",
        "guys",
        "ppl",
        "hey",
        "hi",
        "pls",
        "please",
        "one",
        "ones",
        "way",
        "lot",
        "really",
        "actually",
    ]
)


def strip_accents(s):
    return "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c))


SUFFIXES = sorted(
    [
        "issements",
        "issement",
        "ements",
        "ement",
        "ations",
        "ation",
        "ateurs",
        "atrices",
        "ateur",
        "atrice",
        "ances",
        "ance",
        "ences",
        "ence",
        "euses",
        "euse",
        "eux",
        "ives",
        "ive",
        "ifs",
        "if",
        "iques",
        "ique",
        "ismes",
        "isme",
        "istes",
        "iste",
        "ites",
        "ite",
        "ables",
        "able",
        "ibles",
        "ible",
        "ments",
        "ment",
        "ees",
        "ee",
        "es",
        "ers",
        "er",
        "ez",
        "ait",
        "aient",
        "ant",
        "ants",
        "e",
        "s",
        "x",
    ],
    key=len,
    reverse=True,
)


def stem(w):
    for suf in SUFFIXES:
        if len(w) - len(suf) >= 3 and w.endswith(suf):
            return w[: -len(suf)]
    return w


def tokens(text):
    text = strip_accents(text.lower().replace("**", ""))
    out = []
    for w in re.findall(r"[a-z0-9]+", text):
        if w in STOP or len(w) < 2:
            continue
        out.append(stem(w))
    return out


class BM25:
    def __init__(self, docs, k1=1.5, b=0.75):
        self.k1, self.b = k1, b
        self.tfs = [Counter(d) for d in docs]
        self.lens = [len(d) for d in docs]
        self.avg = (sum(self.lens) / len(docs)) if docs else 0.0
        df = Counter()
        for tf in self.tfs:
            df.update(tf.keys())
        n = len(docs)
        self.idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in df.items()}

    def scores(self, q):
        res = []
        for tf, ln in zip(self.tfs, self.lens, strict=False):
            s = 0.0
            for t in q:
                f = tf.get(t)
                if f:
                    s += (
                        self.idf[t]
                        * f
                        * (self.k1 + 1)
                        / (f + self.k1 * (1 - self.b + self.b * ln / (self.avg or 1)))
                    )
            res.append(s)
        return res


# ---------------------------------------------------------------- forbidden pages
def pages_used_by(path):
    used = set()
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    for ln in lines:
        m = re.match(r'^\s*-?\s*page:\s*"?([^"#]+?)"?\s*$', ln)
        if m and m.group(1) not in ("null", "~", BUNDLED_PAGE):
            used.add(m.group(1).strip())
    # header "Pages covered" lines:  #   dir/: name, name;  dir/: name
    hdr = [ln for ln in lines if ln.startswith("#")]
    for i, ln in enumerate(hdr):
        if "Pages covered" in ln:
            for l2 in hdr[i + 1 :]:
                if not l2.startswith("#   "):
                    break
                for part in l2[4:].split(";"):
                    if ":" not in part:
                        continue
                    d, names = part.split(":", 1)
                    d = d.strip()
                    if d == "bundled":
                        continue
                    for n in names.split(","):
                        if n.strip():
                            used.add(d + n.strip() + "/index.md")
    return used


# ---------------------------------------------------------------- main
def main(argv):
    args = [a for a in argv if not a.startswith("-")]
    verbose = "-v" in argv
    forbid_files = []
    if "--forbid" in argv:
        i = argv.index("--forbid") + 1
        while i < len(argv) and not argv[i].startswith("-"):
            forbid_files.append(argv[i])
            i += 1
        args = [a for a in args if a not in forbid_files]
    if len(args) != 1:
        print(__doc__)
        return 2
    path = args[0]
    with open(path, encoding="utf-8") as f:
        convs = yaml.safe_load(f)
    problems, warnings = [], []
    kbs = {k: load_kb(k) for k in ("bundled", "site")}
    kbtext = {
        k: [norm("\n".join(t for _, t in secs)) for _, (_, secs) in pages.items()]
        for k, pages in kbs.items()
    }
    forbidden = set()
    for ff in forbid_files:
        forbidden |= pages_used_by(ff)

    if not isinstance(convs, list):
        print("PROBLEM: top level is not a list")
        return 1
    ids = Counter()
    n_turns = Counter()
    by_kind, by_lang, by_kb_turns, by_kb_convs = Counter(), Counter(), Counter(), Counter()
    lang_switch = Counter()
    pages_used = defaultdict(int)
    items = []
    for ci, c in enumerate(convs):
        cid = c.get("id", f"#{ci}")
        ids[cid] += 1
        kb = c.get("kb")
        if kb not in kbs:
            problems.append(f"{cid}: bad kb {kb!r}")
            continue
        by_kb_convs[kb] += 1
        turns = c.get("turns") or []
        if not 2 <= len(turns) <= 4:
            warnings.append(f"{cid}: {len(turns)} turns (expected 2-4)")
        langs = set()
        for ti, t in enumerate(turns):
            where = f"{cid} turn {ti + 1}"
            for key in ("question", "lang", "page", "section", "answer", "kind"):
                if key not in t or t[key] in (None, ""):
                    problems.append(f"{where}: missing {key}")
            kind, lang = t.get("kind"), t.get("lang")
            if kind not in KINDS:
                problems.append(f"{where}: bad kind {kind!r}")
            if ti == 0 and kind != "first":
                problems.append(f"{where}: first turn has kind {kind!r}")
            if ti > 0 and kind == "first":
                problems.append(f"{where}: kind 'first' after the first turn")
            if lang not in LANGS:
                problems.append(f"{where}: bad lang {lang!r}")
            langs.add(lang)
            by_kind[kind] += 1
            by_lang[lang] += 1
            by_kb_turns[kb] += 1
            n_turns[kb, kind] += 1
            page, section, answer = t.get("page"), t.get("section"), t.get("answer") or ""
            if page not in kbs[kb]:
                problems.append(f"{where}: page not found in kb {kb}: {page!r}")
                continue
            if page in forbidden:
                problems.append(f"{where}: page {page} is used by a forbidden set")
            pages_used[page] += 1
            _title, secs = kbs[kb][page]
            texts = [txt for h, txt in secs if h == section]
            if not texts:
                problems.append(f"{where}: section {section!r} not on page {page}")
                continue
            a = norm(answer)
            if a != answer.strip():
                warnings.append(f"{where}: answer has ** or extra whitespace (checked normalised)")
            if not any(a in norm(txt) for txt in texts):
                problems.append(f"{where}: answer not in section {section!r} of {page}: {a[:60]!r}")
            occ = sum(count_occ(pt, a) for pt in kbtext[kb])
            if occ != 1:
                problems.append(f"{where}: answer occurs {occ} times in kb {kb}: {a[:60]!r}")
            nw = len(a.split())
            if not 5 <= nw <= 25:
                warnings.append(f"{where}: answer has {nw} words (expected 5-25)")
            items.append((cid, ti + 1, kb, kind, t.get("question") or "", page, section))
        if len(langs) > 1:
            lang_switch[kb] += 1
    for cid, n in ids.items():
        if n > 1:
            problems.append(f"duplicate id {cid} ({n}x)")

    total = sum(by_kind.values())
    print(f"file: {path}")
    print(
        f"conversations: {len(convs)} (bundled {by_kb_convs['bundled']}, "
        f"site {by_kb_convs['site']}); turns: {total} "
        f"(bundled {by_kb_turns['bundled']}, site {by_kb_turns['site']})"
    )
    print(
        "kinds: "
        + ", ".join(
            f"{k} {by_kind[k]} (bundled {n_turns['bundled', k]}, site {n_turns['site', k]})"
            for k in KINDS
        )
    )
    print("langs: " + ", ".join(f"{ln} {by_lang[ln]}" for ln in LANGS))
    print(
        f"language-switching conversations: {sum(lang_switch.values())} "
        f"(bundled {lang_switch['bundled']}, site {lang_switch['site']})"
    )
    print(
        f"pages used ({len(pages_used)}): "
        + "; ".join(f"{p} x{n}" for p, n in sorted(pages_used.items()))
    )
    for w in warnings:
        print("WARNING:", w)
    for p in problems:
        print("PROBLEM:", p)
    print(f"{len(problems)} problem(s), {len(warnings)} warning(s)")

    if "--no-bm25" not in argv and items:
        bm25_report(kbs, items, verbose)
    return 1 if problems else 0


def bm25_report(kbs, items, verbose):
    index = {}
    for kb, pages in kbs.items():
        keys, docs = [], []
        for page in sorted(pages):
            for h, txt in pages[page][1]:
                keys.append((page, h))
                docs.append(tokens(h + "\n" + txt))
        index[kb] = (keys, BM25(docs))
    hits = Counter()
    tot = Counter()
    for cid, tn, kb, kind, q, page, section in items:
        keys, bm = index[kb]
        sc = bm.scores(tokens(q))
        best = max(range(len(sc)), key=lambda i: sc[i])
        hit = sc[best] > 0 and keys[best] == (page, section)
        for key in ("all", kind, (kind, kb), kb):
            tot[key] += 1
            hits[key] += hit
        if verbose:
            print(
                f"  {'HIT ' if hit else 'miss'} {cid} t{tn} {kind:8s} "
                f"top={keys[best][0]}#{keys[best][1]}"
            )

    def f(key):
        return f"{hits[key] / tot[key]:.2f} ({hits[key]}/{tot[key]})" if tot[key] else "n/a"

    print(
        f"BM25 section@1 (sections indexed: bundled {len(index['bundled'][0])}, "
        f"site {len(index['site'][0])}):"
    )
    line = f"all {f('all')};  " + ";  ".join(
        f"{k} {f(k)}: bundled {hits[k, 'bundled']}/{tot[k, 'bundled']}, "
        f"site {hits[k, 'site']}/{tot[k, 'site']}"
        for k in KINDS
    )
    print("  " + line)
    print(f"  per kb: bundled {f('bundled')}, site {f('site')}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Reading the pages and building the index.

``documents`` (Markdown pages, front matter, sections; ``markup`` reads shortcodes, HTML
and images as the published page shows them) → ``passages`` (paragraph and
sentence-window passages) → ``embedders`` (USE, e5, sentence-transformers; ``usem3_pooling``)
and ``vectors`` (the dense index) with ``lexical`` (BM25 over fields), ``glossary`` and
``examples`` (the team's curated files) → ``build`` (an atomic, checksummed build folder) →
``index`` (loading and checking it; ``rowfile`` holds its memory-mapped rows). ``sections``
names a section so that the name survives re-indexing. ``boundary`` decides what may be read
from the knowledge folder at all (regular files inside it, within a size limit) for every
reader: pages, checklists, glossary, examples.
"""

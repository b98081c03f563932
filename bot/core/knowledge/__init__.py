"""Reading the pages and building the index.

``documents`` (Markdown pages → sections: ``frontmatter`` reads the front matter, ``blocks``
the Markdown blocks, ``links`` names anchors and links, ``site_tree`` lists the pages and the
site's sections above them; ``markup`` reads shortcodes, HTML and images as the published page
shows them) → ``passages`` (paragraph and sentence-window passages) → ``embedders`` (USE, e5,
sentence-transformers; ``usem3_pooling``) and ``vectors`` (the dense index) with ``lexical``
(BM25 over fields), ``glossary`` and ``examples`` (the team's curated files) → ``build`` (an
atomic, checksummed build folder, incremental by page: ``previous`` is the build to reuse,
``page_parts`` what each page contributes, ``vector_stream`` writes the vectors as they come,
``build_tables`` the vocabulary, BM25 rows and spans, ``build_folder`` the folder and its
files) → ``index`` (loading and checking it: ``manifest`` holds the format, schemas and
checksums, ``loaded`` the ``KnowledgeIndex``, ``sources`` the source files' state; ``rowfile``
its memory-mapped rows). ``sections`` names a section so that the name survives re-indexing.
``boundary`` decides what may be read from the knowledge folder at all (regular files inside
it, within a size limit) for every reader: pages, checklists, glossary, examples.
"""

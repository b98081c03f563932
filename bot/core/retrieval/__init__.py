"""Answering from the index.

Retrieval runs as named stages, in this order (``search.Retriever.search`` runs them):

1. pool: the candidate passages (``pool``);
2. signals: what each candidate scores on, each with its weight (``signals``, ``example_bonus``;
   ``words`` holds the pages' words in the primary encoder's space for the word expansion and
   the unknown-word check; ``space`` the primary half of the stored vectors);
3. fusion: the fused score and the evidence (``scoring``);
4. e5, optional (``e5``): with the dual embedder, e5 re-ranks when USE hesitates;
5. cross-encoder re-ranking, optional (``rerank``);
6. close reading of the head: highlight, overlap and coverage (``head``, with ``reading``);
7. abstention: the hits, and whether to answer, hedge or abstain (``abstention``).

Every weight is a field of ``params.FusionParams``; every weighted formula a function of
``scoring``, which the tuning scripts (bench/tune*.py, bench/try_signals.py) import too.

Then ``answers`` turns the ranking into the quoted answer, and ``quotes`` cuts each quote to
its answering unit (whole sentences, a list with its lead-in, running on into the next passage
of its section); ``learned`` applies the examples the team taught; ``engine`` holds one index
and its retriever (swapped whole on reload); ``evaluation`` scores question sets
(``playbook eval``).
"""

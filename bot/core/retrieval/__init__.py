"""Answering from the index.

``search`` runs the named stages (candidate pool → signals → fusion → e5 → the optional
cross-encoder of ``rerank`` → abstention) with its weights in ``FusionParams``; ``words``
holds the pages' words in the primary encoder's space (word expansion, unknown words);
``example_bonus`` the bonus of example questions (the team's and those taught in the chat);
``reading`` scores the sentences of the pooled passages; ``answers`` turns the ranking into
the quoted answer, and ``quotes`` cuts each quote to its answering unit (whole sentences, a
list with its lead-in, running on into the next passage of its section); ``learned`` applies
the examples the team taught; ``engine`` holds one index and its retriever (swapped whole on
reload); ``evaluation`` scores question sets (``playbook eval``).
"""

"""The core: everything the bot knows and does, with no platform library imported.

Three layers, each importing only the ones before it:

- ``knowledge``: pages → passages → the index (dense vectors and the lexical index).
- ``retrieval``: a question → the quoted answer (``engine``, ``search``, ``answers``).
- ``team``: the database, checklists and their progress, learning from votes, the report.

Beside them, used by all: ``types`` (Answer, Citation, Quote), ``language`` (French or
English: a question's, and the one to answer a command in), ``messages`` (every sentence
users read, in both), ``smalltalk`` (a message that asks nothing, such as "merci !" or
"ok 👍": the engine answers it with an invitation to ask before searching; it reads the
stop words of ``knowledge.lexical``). On top of them: ``assistant``
(ask, remember, feedback, teach, checklists: what every adapter calls), ``conversation`` (one
turn of a chat: the shutdown gate, the reply or the apology), ``reload`` (re-indexing while
serving), ``inflight`` (answers in flight at shutdown), ``metrics``, ``serialize``.
"""

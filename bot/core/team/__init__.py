"""What the team shares.

``store`` (the database: questions, feedback, taught examples, checklist progress) with
``recording`` (writes that never block an answer) and ``ratelimit``; ``checklists`` (read from
the pages; ``tickable`` decides which lists a team would tick), ``lookup`` (finding one by any
name) and ``progress`` (the ticks of a conversation); ``learning`` (votes → learned examples
and gaps); ``report`` (usage figures).
"""

"""playbook-bot: answers questions about commercialising open source from a knowledge base.

Module map:

- ``app``: the composition root (settings → embedder → engine → store → checklists →
  assistant); ``serve`` and every CLI command get their parts from it.
- ``config``: ``Settings`` from the environment (``PLAYBOOK_*``) and ``.env``.
- ``cli`` (with ``cli_team``, ``cli_discord``): the ``playbook`` command.
- ``serve``: Slack and Discord in one event loop, health and metrics (``health``), watch
  and reload; ``logs``: log format and secret masking.
- ``core``: what the bot knows and does, free of platform imports (see its docstring).
- ``adapters``: the terminal chat, Slack (bolt) and Discord (discord.py), each rendering
  what the core returns (see its docstring for their modules).
"""

__version__ = "0.1.0"

"""Adapters: each platform's payloads → core calls, and what the core returns → the platform's
messages. They render; the core decides (what to answer, in which language, what a tick does).

- ``console``: the terminal chat and the terminal rendering of answers and checklists.
- Slack (bolt): ``slack_app`` (``SlackConfig``, ``SlackBot``: the app, its Web API client and
  ``/playbook``), its listeners by job — ``slack_questions`` (mentions, direct messages, thread
  follow-ups, ``/ask``), ``slack_buttons`` (share, 👍/👎, the menu of sections),
  ``slack_checklists`` (``/checklist`` and its checkboxes) — and ``slack_replies`` (what they
  share), ``slack_render`` (Block Kit), ``slack_middleware`` (the HTTP endpoint's guard and
  in-flight count), ``slack_server`` (HTTP or Socket Mode).
- Discord (discord.py): ``discord_bot`` (``DiscordConfig``, the client and its application
  commands, ``DiscordService``), ``discord_commands`` (publishing the commands, the invite
  link), ``discord_components`` (buttons and menus that survive restarts), ``discord_render``
  (embeds).
"""

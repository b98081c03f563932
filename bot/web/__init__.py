"""The maintainers' web pages (``playbook web``): an adapter over the core's
``DashboardData`` (``bot.core.team.dashboard_types``), served with aiohttp and rendered with
Jinja2 on the server."""

"""``python -m bot`` runs the ``playbook`` command."""

import sys

from bot.cli import main

sys.exit(main())

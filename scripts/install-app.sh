#!/usr/bin/env bash
# The image's install and index step, also run by CI (so a broken build step fails CI even on a
# machine without a Docker daemon): install playbook-bot from SOURCE into a virtualenv at
# PREFIX, then build the index of $PLAYBOOK_KNOWLEDGE_DIR into $PLAYBOOK_INDEX_DIR.
# Usage: scripts/install-app.sh PREFIX [SOURCE]
set -euo pipefail
prefix=${1:?usage: scripts/install-app.sh PREFIX [SOURCE]}
source_dir=${2:-.}
python3 -m venv "$prefix"
"$prefix/bin/python" -m pip install --quiet --no-cache-dir --disable-pip-version-check "$source_dir"
"$prefix/bin/playbook" index

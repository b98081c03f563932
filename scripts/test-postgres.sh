#!/usr/bin/env bash
# Start a local PostgreSQL server for the test suite (CI and developers who want the PostgreSQL
# half of tests/core/test_store.py) and print the URL to export as PLAYBOOK_TEST_DATABASE_URL.
# Installs Debian's postgresql package when it is missing (needs root). Listens on 127.0.0.1 only.
set -euo pipefail
if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
fi
version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
if ! pg_lsclusters -h | awk '{print $1, $2}' | grep -q "^$version main$"; then
  pg_createcluster "$version" main >&2
fi
pg_ctlcluster "$version" main start >&2 2>/dev/null || pg_ctlcluster "$version" main status >/dev/null
port=$(pg_lsclusters -h | awk -v v="$version" '$1 == v && $2 == "main" {print $3}')
as_postgres() { su postgres -s /bin/sh -c "$1"; }
as_postgres "psql -p $port -qtAc \"SELECT 1 FROM pg_roles WHERE rolname = 'playbook'\"" | grep -q 1 \
  || as_postgres "psql -p $port -qc \"CREATE ROLE playbook LOGIN PASSWORD 'playbook'\"" >&2
as_postgres "psql -p $port -qtAc \"SELECT 1 FROM pg_database WHERE datname = 'playbook_test'\"" | grep -q 1 \
  || as_postgres "createdb -p $port -O playbook playbook_test" >&2
echo "postgresql+psycopg://playbook:playbook@127.0.0.1:$port/playbook_test"

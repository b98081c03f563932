"""Fixtures of the core's tests."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import create_engine

from bot.core.db import metadata

POSTGRES_URL = os.environ.get("PLAYBOOK_TEST_DATABASE_URL", "")


def _empty_postgres(url: str) -> str:
    engine = create_engine(url)
    metadata.drop_all(engine)
    engine.dispose()
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """Each store test runs on SQLite and, when PLAYBOOK_TEST_DATABASE_URL names one
    (scripts/test-postgres.sh; CI always does), on an emptied PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'sub' / 'playbook.db'}"
    if not POSTGRES_URL:
        pytest.skip("PLAYBOOK_TEST_DATABASE_URL is not set (run scripts/test-postgres.sh)")
    return _empty_postgres(POSTGRES_URL)

"""Store fixtures: every store test runs on SQLite, and on PostgreSQL when reachable."""

from __future__ import annotations

from pathlib import Path

import pytest

from edu_recsys.store import Store
from edu_recsys.store.testing import find_test_pg_url, temporary_pg_database, truncate_all


@pytest.fixture(scope="session")
def pg_database_url():
    """A throw-away PostgreSQL database for this test session (skips when unreachable)."""
    url, reason = find_test_pg_url(Path(__file__).parent)
    if url is None:
        pytest.skip(reason)
    with temporary_pg_database(url) as u:
        yield u


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request, tmp_path):
    if request.param == "sqlite":
        s = Store(tmp_path / "store.sqlite")
    else:
        s = Store(request.getfixturevalue("pg_database_url"))
        truncate_all(s)
    yield s
    s.close()

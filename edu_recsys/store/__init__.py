"""Persistence: a SQLite file by default (WAL mode), PostgreSQL by URL.

>>> from edu_recsys.store import Store
>>> store = Store("sqlite://")                      # in memory; a path or URL otherwise
>>> store.upsert_class("c1", grade=8, student_ids=["s1"])
>>> import pandas as pd
>>> batch = pd.DataFrame({"student_id": ["s1"], "item_id": ["q1"], "concept_ids": [("a",)],
...                       "correct": [1], "event_id": ["e1"]})
>>> store.ingest(batch).inserted, store.ingest(batch).duplicates   # idempotent by event_id
(1, 1)
>>> store.close()

What is where:

- :mod:`.engine`: URLs (``$EDU_RECSYS_DB_URL``, default ``./edu_recsys.sqlite``), engines,
  schema migrations (Alembic; :func:`upgrade` runs on every open).
- :mod:`.models`: the tables.
- :mod:`.store`: :class:`Store` (schools, classes, rosters, graphs, catalogue, models).
- :mod:`.ingest`: atomic, idempotent batch ingestion; reading answers back.
- :mod:`.tokens`: API tokens (hashed), roles.
- :mod:`.rights`: export / erase a student, pseudonymised research export.
- :mod:`.serving`: the live layer the API calls (fitted model, online mastery state,
  recommendations, paths, class reports).

Upgrading an existing database: opening it with a newer edu_recsys migrates it in place
(``Store(url)``); to do it by hand run ``alembic -c edu_recsys/store/migrations/alembic.ini
-x url=URL upgrade head``. Back up the file (SQLite) or dump the database first.
"""

from edu_recsys.store.engine import (
    DB_URL_ENV,
    current_revision,
    default_url,
    head_revision,
    make_engine,
    normalise_url,
    upgrade,
)
from edu_recsys.store.errors import ConflictError, NoModelError, NotAvailableError, StoreError
from edu_recsys.store.ingest import IngestResult, prepare_batch
from edu_recsys.store.rights import erase_student, export_student, pseudonym, research_export
from edu_recsys.store.store import RESOURCE_COLUMNS, Store
from edu_recsys.store.tokens import ROLES, TokenInfo, create_token, revoke_token, verify_token

__all__ = [
    "DB_URL_ENV",
    "ROLES",
    "RESOURCE_COLUMNS",
    "ConflictError",
    "IngestResult",
    "NoModelError",
    "NotAvailableError",
    "Store",
    "StoreError",
    "TokenInfo",
    "create_token",
    "current_revision",
    "default_url",
    "erase_student",
    "export_student",
    "head_revision",
    "make_engine",
    "normalise_url",
    "prepare_batch",
    "pseudonym",
    "research_export",
    "revoke_token",
    "upgrade",
    "verify_token",
]

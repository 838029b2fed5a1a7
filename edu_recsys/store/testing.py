"""Helpers for tests that run the store on a real PostgreSQL server.

The server's URL comes from ``$EDU_RECSYS_TEST_PG_URL`` or, failing that, the file
``.ci/pg_url`` written by ``.ci/services``. Tests get a fresh throw-away database
(:func:`temporary_pg_database`) so that parallel runs never see each other's rows.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from edu_recsys.store.engine import normalise_url

__all__ = [
    "PG_URL_ENV",
    "CountsTracer",
    "find_test_pg_url",
    "temporary_pg_database",
    "truncate_all",
]

log = logging.getLogger(__name__)

PG_URL_ENV = "EDU_RECSYS_TEST_PG_URL"


def find_test_pg_url(start: Path | None = None) -> tuple[str | None, str]:
    """``(url, reason)``: a reachable server's URL, or None and why not."""
    url = os.environ.get(PG_URL_ENV)
    where = f"${PG_URL_ENV}"
    if not url:
        here = (start or Path.cwd()).resolve()
        for d in (here, *here.parents):
            f = d / ".ci" / "pg_url"
            if f.is_file():
                url = f.read_text().strip()
                where = str(f)
                break
    if not url:
        return None, f"no PostgreSQL URL (set ${PG_URL_ENV} or run .ci/services)"
    url = normalise_url(url)
    try:
        eng = create_engine(url, connect_args={"connect_timeout": 3})
        with eng.connect() as c:
            c.execute(text("SELECT 1"))
        eng.dispose()
    except Exception as e:  # any failure means "not reachable"
        return None, f"PostgreSQL from {where} not reachable: {type(e).__name__}"
    return url, ""


@contextmanager
def temporary_pg_database(url: str) -> Iterator[str]:
    """Create a fresh database next to ``url``'s, yield its URL, drop it afterwards."""
    base = make_url(url)
    name = f"edu_recsys_t_{secrets.token_hex(6)}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def truncate_all(store) -> None:
    """Empty every store table (keeping the schema version)."""
    from edu_recsys.store.models import Base

    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with store.engine.begin() as c:
        if store.dialect == "postgresql":
            c.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for t in tables:
                c.execute(text(f"DELETE FROM {t}"))


class CountsTracer:
    """A tiny tracer with the mastery contract, for testing the serving layer alone.

    Mastery of a concept = (correct + 1) / (answers + 2) over the student's answers on
    it (Laplace-smoothed success rate); unseen students/concepts get 0.5 and a flag.
    Not a model anyone should use: the real ones are in :mod:`edu_recsys.mastery`.
    """

    def __init__(self, prior: float = 0.5):
        self.prior = prior

    def get_params(self, deep: bool = True) -> dict:
        return {"prior": self.prior}

    def fit(self, interactions):
        self.n_fit_ = len(interactions)
        self.concepts_ = sorted({c for cs in interactions["concept_ids"] for c in cs})
        return self

    def online_state(self, history):
        state = _CountsState(self)
        for r in history.itertuples(index=False):
            state.update(r.student_id, r.item_id, r.concept_ids, r.correct)
        return state

    def predict_next(self, history, candidates):
        """P(correct) of each candidate row: the mean mastery of its concepts."""
        import numpy as np

        state = self.online_state(history)
        out = []
        for sid, concepts in zip(candidates["student_id"], candidates["concept_ids"]):
            m = state.mastery(sid)
            out.append(float(np.mean([m.get(c, self.prior) for c in concepts] or [self.prior])))
        return np.asarray(out)

    def mastery(self, history, students=None, concepts=None):
        import pandas as pd

        state = self.online_state(history)
        students = list(students) if students is not None else list(state.counts)
        rows = []
        for s in students:
            seen = state.counts.get(s, {})
            for c in concepts if concepts is not None else sorted(seen):
                n, k = seen.get(c, (0, 0))
                flag = (
                    "unseen_student" if s not in state.counts else ("" if n else "unseen_concept")
                )
                rows.append((s, c, (k + 1) / (n + 2) if n else self.prior, n, flag))
        return pd.DataFrame(
            rows, columns=["student_id", "concept_id", "mastery", "evidence", "fallback"]
        )


class _CountsState:
    def __init__(self, tracer: CountsTracer):
        self.tracer = tracer
        self.counts: dict[str, dict[str, tuple[int, int]]] = {}

    def update(self, student_id, item_id, concept_ids, correct, timestamp=None) -> None:
        d = self.counts.setdefault(student_id, {})
        for c in concept_ids:
            n, k = d.get(c, (0, 0))
            d[c] = (n + 1, k + int(correct))

    def mastery(self, student_id) -> dict:
        return {c: (k + 1) / (n + 2) for c, (n, k) in self.counts.get(student_id, {}).items()}

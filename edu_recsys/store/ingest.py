"""Ingestion that loses nothing: validate a batch whole, write it in one transaction.

Rules (the contract the API relies on):

- The whole batch passes :func:`edu_recsys.data.validate_interactions` (and the store's
  length limits) before anything is written; the first problem raises
  :class:`~edu_recsys.exceptions.InvalidDataError` naming the column and the rows (row
  numbers are positions in the batch as given).
- Every answer has an ``event_id``. A row without one gets a derived id, a hash of
  (student, item, timestamp), so that a retried batch maps to the same ids; a row
  with neither an event id nor a timestamp is rejected, since it could not be
  de-duplicated.
- All rows are written in one transaction (all or nothing). An ``event_id`` that is
  already stored is skipped and counted as a duplicate: retrying a batch never counts
  an answer twice.
- Students not yet known are created (without a name).
- The per-item aggregates (``item_stats``) are updated in the same transaction, and an
  optional ``on_inserted`` hook runs there too (the serving layer uses it to write the
  students' mastery snapshots), so that derived state commits with the answers.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Column, Float, Integer, MetaData, String, Table, func, select, text
from sqlalchemy.orm import Session

from edu_recsys.data.schema import (
    CONCEPTS,
    CORRECT,
    DURATION,
    EVENT,
    ITEM,
    RESOURCE,
    SCORE,
    STUDENT,
    TIMESTAMP,
)
from edu_recsys.data.validate import validate_interactions
from edu_recsys.exceptions import InvalidDataError
from edu_recsys.store.models import ID_LEN, Interaction, ItemStat, Student, utcnow

__all__ = ["IngestResult", "prepare_batch", "ingest", "read_interactions", "MAX_EVENT_ID_LEN"]

log = logging.getLogger(__name__)

MAX_EVENT_ID_LEN = 200
_POS = "__batch_row"


@dataclass
class IngestResult:
    """What an ingest did."""

    received: int = 0
    inserted: int = 0
    duplicates: int = 0
    derived_event_ids: int = 0
    students: list[str] = field(default_factory=list)
    first_seq: int | None = None
    last_seq: int | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def _derive_event_ids(df: pd.DataFrame) -> pd.Series:
    ts = df[TIMESTAMP].dt.tz_convert("UTC").dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    keys = df[STUDENT] + "\x1f" + df[ITEM] + "\x1f" + ts
    return keys.map(lambda k: "h:" + hashlib.sha256(k.encode()).hexdigest()[:40])


def prepare_batch(batch: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Validate a batch and give every row an event id; returns (table, n derived ids).

    Raises
    ------
    InvalidDataError
        For the first problem found, with the offending column and batch rows.
    """
    if not isinstance(batch, pd.DataFrame):
        raise InvalidDataError(f"expected a DataFrame, got {type(batch).__name__}")
    raw = batch.reset_index(drop=True)
    # rows that could not be de-duplicated: no event id and no timestamp
    no_event = (
        raw[EVENT].isna().to_numpy() if EVENT in raw.columns else np.ones(len(raw), dtype=bool)
    )
    if EVENT in raw.columns:
        no_event = no_event | (raw[EVENT].astype(str).str.strip() == "").to_numpy()
    no_time = (
        raw[TIMESTAMP].isna().to_numpy()
        if TIMESTAMP in raw.columns
        else np.ones(len(raw), dtype=bool)
    )
    orphan = no_event & no_time
    if orphan.any():
        raise InvalidDataError(
            "rows with neither an event_id nor a timestamp cannot be ingested idempotently",
            column=EVENT,
            rows=np.flatnonzero(orphan).tolist(),
            expected="a unique event_id per answer (or at least a timestamp)",
        )
    df = validate_interactions(raw.assign(**{_POS: np.arange(len(raw))}))

    def rows_of(mask) -> list[int]:
        return sorted(df.loc[np.asarray(mask), _POS].astype(int).tolist())

    for col, limit in ((STUDENT, ID_LEN), (ITEM, MAX_EVENT_ID_LEN)):
        long = df[col].str.len() > limit
        if long.any():
            raise InvalidDataError(
                f"ids longer than {limit} characters", column=col, rows=rows_of(long)
            )
    too_long_c = df[CONCEPTS].map(lambda cs: any(len(c) > ID_LEN for c in cs))
    if too_long_c.any():
        raise InvalidDataError(
            f"concept ids longer than {ID_LEN} characters",
            column=CONCEPTS,
            rows=rows_of(too_long_c),
        )
    if RESOURCE in df.columns:
        long = df[RESOURCE].notna() & (df[RESOURCE].astype(str).str.len() > ID_LEN)
        if long.any():
            raise InvalidDataError(
                f"ids longer than {ID_LEN} characters", column=RESOURCE, rows=rows_of(long)
            )
    if EVENT not in df.columns:
        df[EVENT] = None
    ev = df[EVENT].astype(object)
    missing = (ev.isna() | (ev.astype(str).str.strip() == "")).to_numpy()
    n_derived = int(missing.sum())
    if n_derived:
        ev = ev.copy()
        ev[missing] = _derive_event_ids(df.loc[missing])
        df[EVENT] = ev
        # a derived id may collide with a given one (or another derived one)
        dup = df[EVENT].duplicated(keep=False)
        if dup.any():
            raise InvalidDataError(
                "duplicate answers (same student, item and timestamp without event ids)",
                column=EVENT,
                rows=rows_of(dup),
            )
    long = df[EVENT].str.len() > MAX_EVENT_ID_LEN
    if long.any():
        raise InvalidDataError(
            f"event ids longer than {MAX_EVENT_ID_LEN} characters", column=EVENT, rows=rows_of(long)
        )
    return df.drop(columns=[_POS]), n_derived


#: Key of the PostgreSQL advisory lock that serialises answer writers.
WRITER_LOCK_KEY = 0x6564755F7273  # "edu_rs"


def lock_writers(session: Session) -> None:
    """Serialise the transactions that write answers (ingest, erasure).

    SQLite already has one writer at a time (BEGIN IMMEDIATE). On PostgreSQL two
    overlapping batches inserting the same event ids in different orders would
    deadlock; a transaction-scoped advisory lock orders them instead.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": WRITER_LOCK_KEY})


def _records(df: pd.DataFrame, now) -> list[dict[str, Any]]:
    n = len(df)

    def col(name: str, conv: Callable[[Any], Any]) -> list:
        if name not in df.columns:
            return [None] * n
        return [None if pd.isna(v) else conv(v) for v in df[name].tolist()]

    if TIMESTAMP in df.columns:
        # vectorised: naive UTC datetimes (NaT -> None); the column type marks them UTC
        naive = df[TIMESTAMP].dt.tz_convert("UTC").dt.tz_localize(None)
        ts = naive.to_numpy(dtype="datetime64[us]").astype(object).tolist()
    else:
        ts = [None] * n
    return [
        {
            "event_id": e,
            "student_id": s,
            "item_id": i,
            "concept_ids": list(c),
            "correct": int(k),
            "score": sc,
            "timestamp": t,
            "duration_s": d,
            "resource_id": r,
            "ingested_at": now,
        }
        for e, s, i, c, k, sc, t, d, r in zip(
            df[EVENT].tolist(),
            df[STUDENT].tolist(),
            df[ITEM].tolist(),
            df[CONCEPTS].tolist(),
            df[CORRECT].tolist(),
            col(SCORE, float),
            ts,
            col(DURATION, float),
            col(RESOURCE, str),
        )
    ]


#: ``interactions`` with its time and JSON columns as plain text, for SQLite: the batch
#: insert then passes values already in the storage format SQLAlchemy's types write
#: (formatted once per column with numpy rather than per value by type processors),
#: about 15 us less CPU per answer. tests/store/test_ingest.py checks the rows are equal.
_SQLITE_INTERACTIONS = Table(
    "interactions",
    MetaData(),
    Column("seq", Integer, primary_key=True),
    Column("event_id", String),
    Column("student_id", String),
    Column("item_id", String),
    Column("concept_ids", String),
    Column("correct", Integer),
    Column("score", Float),
    Column("timestamp", String),
    Column("duration_s", Float),
    Column("resource_id", String),
    Column("ingested_at", String),
)


def _sqlite_text_times(values: np.ndarray) -> list[str | None]:
    """Naive UTC datetime64 values as SQLAlchemy's SQLite DATETIME text (None for NaT)."""
    iso = np.datetime_as_string(values.astype("datetime64[us]"), unit="us").tolist()
    return [None if t == "NaT" else t.replace("T", " ", 1) for t in iso]


def _sqlite_records(records: list[dict[str, Any]], df: pd.DataFrame, now) -> list[dict]:
    """:func:`_records` in SQLite's storage format (see ``_SQLITE_INTERACTIONS``)."""
    n = len(records)
    if TIMESTAMP in df.columns:
        naive = df[TIMESTAMP].dt.tz_convert("UTC").dt.tz_localize(None).to_numpy()
        ts = _sqlite_text_times(naive)
    else:
        ts = [None] * n
    stamp = _sqlite_text_times(np.array([now.replace(tzinfo=None)], dtype="datetime64[us]"))[0]
    dumps = json.dumps
    for r, t in zip(records, ts):
        r["concept_ids"] = dumps(r["concept_ids"])
        r["timestamp"] = t
        r["ingested_at"] = stamp
    return records


def ingest(
    store,
    interactions: pd.DataFrame,
    *,
    on_inserted: Callable[[Session, pd.DataFrame], None] | None = None,
) -> IngestResult:
    """Validate and store a batch of answers atomically (see the module docstring).

    Parameters
    ----------
    store : Store
    interactions : DataFrame
        Answers in (or coercible to) the canonical shape; ``event_id`` recommended.
    on_inserted : callable, optional
        ``on_inserted(session, rows)`` is called inside the transaction with the rows
        actually inserted (canonical columns plus ``seq``, in ``seq`` order). An
        exception there rolls the whole batch back.

    Returns
    -------
    IngestResult
    """
    from edu_recsys.store.store import dialect_insert

    df, n_derived = prepare_batch(interactions)
    result = IngestResult(received=len(df), derived_event_ids=n_derived)
    if df.empty:
        return result
    now = utcnow()
    records = _records(df, now)
    students = list(dict.fromkeys(df[STUDENT].tolist()))
    log.info("ingest: writing %d answers of %d students", len(records), len(students))
    with store.session(write=True) as s:
        lock_writers(s)
        s.execute(
            dialect_insert(s, Student).on_conflict_do_nothing(index_elements=["student_id"]),
            [{"student_id": sid, "created_at": now} for sid in students],
        )
        if s.get_bind().dialect.name == "sqlite":
            table = _SQLITE_INTERACTIONS
            records = _sqlite_records(records, df, now)
        else:
            table = Interaction.__table__
        stmt = (
            dialect_insert(s, table)
            .on_conflict_do_nothing(index_elements=["event_id"])
            .returning(table.c.seq, table.c.event_id)
        )
        returned = s.execute(stmt, records).all()
        seq_of = {e: int(q) for q, e in returned}
        result.inserted = len(seq_of)
        result.duplicates = len(records) - len(seq_of)
        if seq_of:
            new = df[df[EVENT].isin(seq_of)].copy()
            new["seq"] = new[EVENT].map(seq_of).astype(np.int64)
            new = new.sort_values("seq", kind="stable").reset_index(drop=True)
            stats = new.groupby(ITEM, sort=True)[CORRECT].agg(["size", "sum"])
            ins = dialect_insert(s, ItemStat)
            s.execute(
                ins.on_conflict_do_update(
                    index_elements=["item_id"],
                    set_={
                        "n_answers": ItemStat.n_answers + ins.excluded.n_answers,
                        "n_correct": ItemStat.n_correct + ins.excluded.n_correct,
                    },
                ),
                [
                    {"item_id": item, "n_answers": int(n), "n_correct": int(k)}
                    for item, n, k in zip(stats.index, stats["size"], stats["sum"])
                ],
            )
            if on_inserted is not None:
                on_inserted(s, new)
            result.students = list(dict.fromkeys(new[STUDENT].tolist()))
            result.first_seq = int(new["seq"].iloc[0])
            result.last_seq = int(new["seq"].iloc[-1])
    log.info("ingest: committed %d new answers, %d duplicates", result.inserted, result.duplicates)
    return result


def read_interactions(
    store,
    *,
    students: list[str] | None = None,
    since_seq: int | None = None,
    until_seq: int | None = None,
    order: str = "time",
) -> pd.DataFrame:
    """Stored answers as a canonical interactions table (with a ``seq`` column).

    Parameters
    ----------
    students : list of str, optional
        Only these students' answers.
    since_seq, until_seq : int, optional
        Only answers with ``since_seq < seq <= until_seq``.
    order : {"time", "seq"}
        ``"time"`` (default): students by first answer, each student's rows by
        timestamp then ``seq`` (the canonical order, for fitting). ``"seq"``: the order
        in which they were stored (for replaying online updates).
    """
    stmt = select(
        Interaction.seq,
        Interaction.event_id,
        Interaction.student_id,
        Interaction.item_id,
        Interaction.concept_ids,
        Interaction.correct,
        Interaction.score,
        Interaction.timestamp,
        Interaction.duration_s,
        Interaction.resource_id,
    ).order_by(Interaction.seq)
    if since_seq is not None:
        stmt = stmt.where(Interaction.seq > since_seq)
    if until_seq is not None:
        stmt = stmt.where(Interaction.seq <= until_seq)
    rows: list = []
    with store.session() as s:
        if students is not None:
            students = list(dict.fromkeys(students))
            for i in range(0, len(students), 500):
                rows.extend(
                    s.execute(stmt.where(Interaction.student_id.in_(students[i : i + 500]))).all()
                )
            rows.sort(key=lambda r: r[0])
        else:
            rows = s.execute(stmt).all()
    cols = list(zip(*rows)) if rows else [[] for _ in range(10)]
    ts = pd.to_datetime(pd.Series(cols[7], dtype=object), utc=True)
    df = pd.DataFrame(
        {
            STUDENT: pd.Series(cols[2], dtype=object),
            ITEM: pd.Series(cols[3], dtype=object),
            CONCEPTS: pd.Series([tuple(c) for c in cols[4]], dtype=object),
            CORRECT: pd.Series(cols[5], dtype=np.int8),
            SCORE: pd.Series(cols[6], dtype=float),
            TIMESTAMP: ts.astype("datetime64[ns, UTC]"),
            DURATION: pd.Series(cols[8], dtype=float),
            RESOURCE: pd.Series(cols[9], dtype=object),
            EVENT: pd.Series(cols[1], dtype=object),
            "seq": pd.Series(cols[0], dtype=np.int64),
        }
    )
    if df[SCORE].isna().all():
        df = df.drop(columns=[SCORE])
    if order == "time" and len(df):
        codes, _ = pd.factorize(df[STUDENT])
        first = np.full(codes.max() + 1, len(codes), dtype=np.int64)
        np.minimum.at(first, codes, np.arange(len(codes)))
        t = df[TIMESTAMP].dt.tz_convert(None).to_numpy("datetime64[ns]").view(np.int64)
        t = np.where(df[TIMESTAMP].isna().to_numpy(), np.iinfo(np.int64).max, t)
        df = df.iloc[np.lexsort([df["seq"].to_numpy(), t, first[codes]])].reset_index(drop=True)
    elif order != "seq" and order != "time":
        raise ValueError(f"order must be 'time' or 'seq', not {order!r}")
    return df


def count_interactions(store, students: list[str] | None = None) -> int:
    """How many answers are stored (of ``students`` when given)."""
    stmt = select(func.count()).select_from(Interaction)
    with store.session() as s:
        if students is None:
            return int(s.scalar(stmt) or 0)
        return sum(
            int(s.scalar(stmt.where(Interaction.student_id.in_(students[i : i + 500]))) or 0)
            for i in range(0, len(students), 500)
        )

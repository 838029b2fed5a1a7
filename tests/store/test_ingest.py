"""Ingestion: whole-batch validation, atomicity, idempotency, aggregates, reading back."""

from __future__ import annotations

import threading

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import select

from edu_recsys.exceptions import InvalidDataError
from edu_recsys.store.ingest import count_interactions
from edu_recsys.store.models import ItemStat


def batch(n: int = 6, start: int = 0, student: str | None = None) -> pd.DataFrame:
    i = np.arange(start, start + n)
    return pd.DataFrame(
        {
            "student_id": [student or f"s{k % 3}" for k in i],
            "item_id": [f"q{k % 4}" for k in i],
            "concept_ids": [("a",) if k % 2 else ("a", "b") for k in i],
            "correct": (i % 3 != 0).astype(int),
            "timestamp": pd.Timestamp("2026-03-01T08:00:00Z") + pd.to_timedelta(i, unit="min"),
            "duration_s": 30.0 + i,
            "event_id": [f"e{k}" for k in i],
        }
    )


def item_stats(store) -> dict:
    with store.session() as s:
        return {r.item_id: (r.n_answers, r.n_correct) for r in s.scalars(select(ItemStat))}


def test_ingest_then_retry_counts_each_answer_once(store):
    b = batch(6)
    r = store.ingest(b)
    assert (r.received, r.inserted, r.duplicates) == (6, 6, 0)
    assert r.students == ["s0", "s1", "s2"] and r.last_seq - r.first_seq == 5
    again = store.ingest(b)
    assert (again.inserted, again.duplicates) == (0, 6) and again.students == []
    # a retried batch overlapping new answers: only the new ones are stored
    r3 = store.ingest(batch(6, start=3))
    assert (r3.inserted, r3.duplicates) == (3, 3)
    assert count_interactions(store) == 9
    assert store.max_seq() == r3.last_seq
    # aggregates count each answer once
    df = store.interactions()
    expect = df.groupby("item_id")["correct"].agg(["size", "sum"])
    assert item_stats(store) == {k: (int(v["size"]), int(v["sum"])) for k, v in expect.iterrows()}


def test_read_back_is_canonical_and_equal(store):
    b = batch(6)
    store.ingest(b)
    df = store.interactions()
    assert df["correct"].dtype == np.int8
    assert str(df["timestamp"].dtype) == "datetime64[ns, UTC]"
    key = ["event_id"]
    got = df.sort_values(key).reset_index(drop=True)
    want = b.sort_values(key).reset_index(drop=True)
    for col in ("student_id", "item_id", "event_id", "duration_s"):
        assert got[col].tolist() == want[col].tolist()
    assert got["concept_ids"].tolist() == want["concept_ids"].tolist()
    assert got["correct"].tolist() == want["correct"].tolist()
    assert (got["timestamp"] == want["timestamp"]).all()
    # canonical order: each student's rows in time order
    for _, g in df.groupby("student_id"):
        assert g["timestamp"].is_monotonic_increasing
    one = store.interactions(students=["s1"])
    assert set(one["student_id"]) == {"s1"} and len(one) == 2
    since = store.interactions(since_seq=int(df["seq"].max()) - 2, order="seq")
    assert since["seq"].tolist() == sorted(df["seq"])[-2:]


def test_missing_event_ids_are_derived_stably(store):
    b = batch(4).drop(columns=["event_id"])
    r = store.ingest(b)
    assert r.inserted == 4 and r.derived_event_ids == 4
    assert store.ingest(b.iloc[::-1]).duplicates == 4  # same answers, any order
    assert count_interactions(store) == 4


def test_rows_without_event_id_or_timestamp_are_rejected(store):
    b = batch(4).drop(columns=["timestamp"])
    b.loc[2, "event_id"] = None
    with pytest.raises(InvalidDataError) as e:
        store.ingest(b)
    assert e.value.column == "event_id" and e.value.rows == [2]
    assert count_interactions(store) == 0


@pytest.mark.parametrize(
    ("column", "value", "row"),
    [
        ("correct", 2, 4),
        ("timestamp", "not a date", 1),
        ("student_id", None, 3),
        ("event_id", "e0", 5),  # duplicate of row 0 within the batch
        ("student_id", "x" * 200, 2),
        ("event_id", "y" * 300, 1),
    ],
)
def test_one_bad_row_rejects_the_whole_batch(store, column, value, row):
    b = batch(6).astype({"timestamp": object})
    b[column] = b[column].astype(object)
    b.loc[row, column] = value
    with pytest.raises(InvalidDataError) as e:
        store.ingest(b)
    assert e.value.column == column
    assert row in e.value.rows
    assert count_interactions(store) == 0 and item_stats(store) == {}


def test_a_failing_hook_rolls_the_batch_back(store):
    def hook(session, rows):
        assert rows["seq"].is_monotonic_increasing and len(rows) == 6
        raise RuntimeError("mastery update failed")

    with pytest.raises(RuntimeError):
        store.ingest(batch(6), on_inserted=hook)
    assert count_interactions(store) == 0 and item_stats(store) == {}
    assert not store.student_exists("s0")


def test_concurrent_overlapping_batches_store_each_answer_once(store):
    batches = [batch(40, start=k * 20) for k in range(6)]  # each overlaps the next by 20
    errors: list = []
    results: list = []

    def run(b):
        try:
            results.append(store.ingest(b))
        except Exception as e:
            errors.append(e)

    threads = [threading.Thread(target=run, args=(b,)) for b in batches]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sum(r.inserted for r in results) == 140 == count_interactions(store)
    assert sum(r.duplicates for r in results) == 240 - 140


def test_sqlite_fast_insert_writes_what_the_typed_insert_writes(tmp_path, monkeypatch):
    import datetime as dt

    import edu_recsys.store.ingest as ingest_mod
    from edu_recsys.store import Store
    from edu_recsys.store.models import Interaction

    b = batch(5)
    b["concept_ids"] = [("a",), ("中文", "b"), (), ("a", "b", "c"), ("x",)]
    b["timestamp"] = b["timestamp"] + pd.to_timedelta([0, 123456, 1, 999999, 0], unit="us")
    b.loc[4, "timestamp"] = pd.NaT
    fixed = dt.datetime(2026, 3, 1, 9, 30, 15, 42, tzinfo=dt.timezone.utc)
    monkeypatch.setattr(ingest_mod, "utcnow", lambda: fixed)

    def raw_rows(store) -> list[tuple]:
        with store.engine.connect() as c:
            return c.exec_driver_sql("SELECT * FROM interactions ORDER BY seq").all()

    fast = Store(tmp_path / "fast.sqlite")
    fast.ingest(b)
    got = raw_rows(fast)
    back = fast.interactions(order="seq")
    fast.close()
    with monkeypatch.context() as m:  # the typed path (PostgreSQL's) on SQLite
        m.setattr(ingest_mod, "_SQLITE_INTERACTIONS", Interaction.__table__)
        m.setattr(ingest_mod, "_sqlite_records", lambda records, df, now: records)
        typed = Store(tmp_path / "typed.sqlite")
        typed.ingest(b)
        want = raw_rows(typed)
        typed.close()
    assert got == want and len(got) == 5
    back = back.set_index("event_id")
    assert back["concept_ids"].to_dict() == dict(zip(b["event_id"], map(tuple, b["concept_ids"])))
    assert back["timestamp"].isna().to_dict() == dict(zip(b["event_id"], b["timestamp"].isna()))

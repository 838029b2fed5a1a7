"""The serving layer's bookkeeping: online state in step with the stored answers.

A tiny tracer with the mastery contract (``edu_recsys.store.testing.CountsTracer``)
stands in for the real models here, so that these tests are about the bookkeeping.
"""

from __future__ import annotations

import pandas as pd
import pytest

from edu_recsys.store import NoModelError, Store
from edu_recsys.store.serving import Serving, json_ready
from edu_recsys.store.testing import CountsTracer


def rows(n: int, start: int = 0, student: str = "s1", correct: int = 1) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "student_id": [student] * n,
            "item_id": [f"q{k}" for k in range(start, start + n)],
            "concept_ids": [("a",)] * n,
            "correct": [correct] * n,
            "event_id": [f"{student}-{k}" for k in range(start, start + n)],
            "timestamp": pd.Timestamp("2026-01-01", tz="UTC")
            + pd.to_timedelta(range(start, start + n), unit="min"),
        }
    )


@pytest.fixture
def serving(store):
    store.upsert_class("c1", student_ids=["s1", "s2"])
    store.ingest(rows(2))
    store.save_model(CountsTracer(), name="counts")
    return Serving(store)


@pytest.fixture
def quiet(serving, store):
    """Like ``serving``, without the background snapshot writer getting in between."""
    s = Serving(store, snapshot_interval=1e6)
    yield s
    s.close()


def expected(n_correct: int, n: int) -> float:
    return (n_correct + 1) / (n + 2)


def test_no_model_means_no_mastery(store):
    s = Serving(store)
    s.ingest(rows(3))  # answers are stored without a model
    with pytest.raises(NoModelError):
        s.student_mastery("s1")
    assert not s.has_online_state()


def test_online_updates_match_batch_and_snapshots_follow(serving, store):
    m = serving.student_mastery("s1")
    assert m["concepts"][0]["mastery"] == pytest.approx(expected(2, 2))
    serving.ingest(rows(3, start=2, correct=0))
    online = serving._online_mastery(["s1"])["s1"]["a"]
    batch = CountsTracer().mastery(store.interactions())
    assert online == pytest.approx(expected(2, 5))
    assert batch["mastery"].iloc[0] == pytest.approx(online)
    assert serving.flush_snapshots() == 1
    snap = store.export_student("s1")["mastery"]
    assert snap["mastery"]["a"] == pytest.approx(online) and snap["n_answers"] == 5
    assert serving.flush_snapshots() == 0  # nothing changed since


def test_snapshots_coalesce_and_catch_up_after_a_restart(serving, store):
    serving.student_mastery("s1")
    for k in range(5):  # five batches, one snapshot computation
        serving.ingest(rows(2, start=10 + 2 * k))
    calls = []
    real = serving._state.mastery
    serving._state.mastery = lambda sid: calls.append(sid) or real(sid)
    assert serving.flush_snapshots() == 1 and calls == ["s1"]
    # answers stored while no service ran: a new service rewrites the lagging snapshot
    store.ingest(rows(3, start=40, student="s2"))
    fresh = Serving(store, snapshot_interval=0.05)
    fresh.student_mastery("s2")
    import time

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        snap = store.export_student("s2")["mastery"]
        if snap and snap["n_answers"] == 3:
            break
        time.sleep(0.05)
    assert snap["n_answers"] == 3 and snap["mastery"]["a"] == pytest.approx(expected(3, 3))
    fresh.close()


def test_answers_from_another_process_are_picked_up(serving, store, tmp_path):
    serving.student_mastery("s1")
    other = Store(store.url)  # another writer on the same database
    other.ingest(rows(4, start=10, correct=0))
    other.close()
    assert serving.student_mastery("s1")["concepts"][0]["evidence"] == 6
    assert serving._online_mastery(["s1"])["s1"]["a"] == pytest.approx(expected(2, 6))
    # and an ingest here after someone else's rows applies theirs first
    other = Store(store.url)
    other.ingest(rows(1, start=20, correct=1))
    other.close()
    serving.ingest(rows(1, start=30, correct=1))
    assert serving._online_mastery(["s1"])["s1"]["a"] == pytest.approx(expected(4, 8))


def test_a_failed_ingest_leaves_no_trace_in_memory(serving, store, monkeypatch):
    serving.student_mastery("s1")

    real_apply = serving._apply

    def apply_then_fail(rows_):  # the state is updated, then the transaction fails
        real_apply(rows_)
        raise RuntimeError("disk full")

    monkeypatch.setattr(serving, "_apply", apply_then_fail)
    with pytest.raises(RuntimeError):
        serving.ingest(rows(3, start=5, correct=0))
    monkeypatch.undo()
    assert serving.flush_snapshots() == 0  # nothing uncommitted reaches the snapshots
    assert len(store.interactions()) == 2
    assert serving._online_mastery(["s1"]).get("s1", {}).get("a", expected(2, 2)) == (
        pytest.approx(expected(2, 2))
    )
    assert serving.student_mastery("s1")["concepts"][0]["evidence"] == 2


def test_erasure_rebuilds_state_and_refits(serving, store, monkeypatch):
    import edu_recsys.store.serving as mod

    serving.ingest(rows(3, student="s2"))
    assert "s2" in serving._online_mastery(["s2"])
    # a model that did not see s2's answers needs no refit on erasure ...
    assert store.model_info()["last_seq"] < store.max_seq()
    # ... one fitted on them does
    store.save_model(
        CountsTracer().fit(store.interactions()), name="counts", last_seq=store.max_seq()
    )
    real_need = mod.need
    monkeypatch.setattr(
        mod,
        "need",
        lambda m, a, f: (lambda name: CountsTracer()) if a == "make_model" else real_need(m, a, f),
    )
    out = serving.erase_student("s2")
    assert out["interactions_deleted"] == 3
    assert out["refitted_model_id"] is not None
    info = store.model_info()
    assert info["model_id"] == out["refitted_model_id"] and info["n_interactions"] == 2
    assert serving._online_mastery(["s2"]) == {"s2": {}}
    assert store.get_meta("active_model_has_erased_data") == "[]"


def test_json_ready_makes_library_output_serialisable():
    import json

    import numpy as np

    obj = {
        "a": np.float32(0.5),
        "b": float("nan"),
        "c": (1, 2),
        "d": pd.Timestamp("2026-01-01"),
        "e": np.array([1, 2]),
        "f": pd.DataFrame({"x": [1.0, np.nan]}),
    }
    out = json_ready(obj)
    assert json.loads(json.dumps(out, allow_nan=False)) == {
        "a": 0.5,
        "b": None,
        "c": [1, 2],
        "d": "2026-01-01T00:00:00",
        "e": [1, 2],
        "f": [{"x": 1.0}, {"x": None}],
    }


def test_version_changes_with_everything_results_depend_on(serving, store):
    import networkx as nx

    seen = {serving.version()}
    assert serving.version() in seen  # stable when nothing changes
    steps = [
        lambda: store.ingest(rows(1, start=50)),
        lambda: store.upsert_resources(
            [{"resource_id": "r1", "title": "t", "type": "video", "concept_ids": ["a"]}]
        ),
        lambda: store.put_graph("g", nx.DiGraph([("a", "b")])),
        lambda: store.upsert_class("c1", name="renamed"),
        lambda: store.enrol("c1", ["s9"]),
        lambda: store.save_model(CountsTracer(), name="counts"),
        lambda: store.erase_student("s2"),
    ]
    for step in steps:
        step()
        v = serving.version()
        assert v not in seen
        seen.add(v)


def test_online_mastery_is_reused_until_the_students_next_answer(quiet):
    quiet.student_mastery("s1")
    calls = []
    real = quiet._state.mastery
    quiet._state.mastery = lambda sid: calls.append(sid) or real(sid)
    first = quiet._online_mastery(["s1", "s2"])
    assert quiet._online_mastery(["s1", "s2"]) == first and sorted(calls) == ["s1", "s2"]
    quiet.ingest(rows(2, start=50, correct=0))  # s1 answers: only s1 is recomputed
    again = quiet._online_mastery(["s1", "s2"])
    assert sorted(calls) == ["s1", "s1", "s2"]
    assert again["s1"]["a"] == pytest.approx(expected(2, 4)) and again["s2"] == first["s2"]
    assert quiet.flush_snapshots() == 1 and len(calls) == 3  # the snapshot reuses it


def test_a_long_flush_lets_ingests_through(quiet):
    import threading
    import time

    quiet.student_mastery("s1")
    students = [f"x{i}" for i in range(12)]
    for sid in students:
        quiet.ingest(rows(1, start=100, student=sid))
    real = quiet._state.mastery
    started, done_at = threading.Event(), []
    calls: list[str] = []

    def slow(sid):
        calls.append(sid)
        started.set()
        time.sleep(0.05)
        return real(sid)

    quiet._state.mastery = slow
    flusher = threading.Thread(target=quiet.flush_snapshots)
    flusher.start()
    assert started.wait(10)
    quiet.ingest(rows(1, start=200, student="s2"))  # waits for one step at most
    done_at.append(len(calls))
    flusher.join(timeout=30)
    # the ingest went through while the flush still had students to compute
    assert len(calls) >= len(students) and done_at[0] < len(calls)


def test_a_flush_over_a_replaced_state_writes_nothing(quiet, store):
    quiet.ingest(rows(2, start=60))
    real = quiet._state.mastery

    def replaced(sid):  # a refit or an erasure rebuilds the state mid-flush
        quiet._state = None
        return real(sid)

    quiet._state.mastery = replaced
    assert quiet.flush_snapshots() == 0
    assert store.export_student("s1")["mastery"] is None

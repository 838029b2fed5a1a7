"""The store on SQLite (always) and PostgreSQL (when reachable): schema, rosters, graphs,
catalogue, models."""

from __future__ import annotations

import networkx as nx
import pandas as pd
import pytest
from sqlalchemy import text

from edu_recsys.exceptions import InvalidDataError, UnknownIdError
from edu_recsys.store import NoModelError, Store, current_revision, head_revision
from edu_recsys.store.models import Base


def test_schema_is_at_head_and_matches_the_models(store):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    assert current_revision(store.engine) == head_revision()
    with store.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diffs == []


def test_sqlite_file_is_in_wal_mode_and_reopens_without_migrating(tmp_path):
    path = tmp_path / "a.sqlite"
    s = Store(path)
    with s.engine.connect() as c:
        assert c.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert c.execute(text("PRAGMA foreign_keys")).scalar() == 1
    s.upsert_school("sch", name="第一中学")
    s.close()
    again = Store(f"sqlite:///{path}")
    assert again.get_school("sch")["name"] == "第一中学"
    again.close()


def test_a_database_with_tables_but_no_version_is_refused(tmp_path):
    from edu_recsys.store import StoreError

    s = Store(tmp_path / "b.sqlite")
    with s.engine.begin() as c:
        c.execute(text("DROP TABLE alembic_version"))
    s.close()
    with pytest.raises(StoreError, match="no schema version"):
        Store(tmp_path / "b.sqlite")


def test_classes_rosters_teachers(store):
    store.upsert_school("sch1", name="一中", settings={"homework_minutes": {"8": 80}})
    store.upsert_class(
        "8-1",
        name="八年级1班",
        grade=8,
        subject="math",
        school_id="sch1",
        teacher_ids=["t1"],
        student_ids=[{"student_id": "s2", "name": "李雷"}, "s1"],
    )
    store.upsert_class("8-2", grade=8, teacher_ids=["t1", "t2"], student_ids=["s3"])
    info = store.get_class("8-1")
    assert info["name"] == "八年级1班" and info["n_students"] == 2
    assert info["teacher_ids"] == ["t1"] and info["school_id"] == "sch1"
    assert store.roster("8-1")["student_id"].tolist() == ["s1", "s2"]
    assert store.roster("8-1")["name"].tolist() == [None, "李雷"]
    assert store.teacher_classes("t1") == ["8-1", "8-2"]
    assert store.teacher_classes("t2") == ["8-2"]
    assert store.student_classes("s1") == ["8-1"]
    # update keeps what is not given; a new roster replaces the old one
    store.upsert_class("8-1", name="八(1)班", student_ids=["s1", "s4"])
    info = store.get_class("8-1")
    assert info["name"] == "八(1)班" and info["grade"] == 8 and info["teacher_ids"] == ["t1"]
    assert store.roster("8-1")["student_id"].tolist() == ["s1", "s4"]
    assert store.get_student("s2")["name"] == "李雷"  # still a student, no longer in 8-1
    assert store.enrol("8-1", ["s2", "s4"]) == 1
    assert store.roster("8-1")["student_id"].tolist() == ["s1", "s2", "s4"]
    page, total = store.list_classes(offset=1, limit=1)
    assert total == 2 and [c["class_id"] for c in page] == ["8-2"]
    page, total = store.list_classes(class_ids=["8-2", "nope"])
    assert total == 1
    with pytest.raises(UnknownIdError):
        store.roster("nope")
    with pytest.raises(UnknownIdError):
        store.upsert_class("8-3", graph_id="not-stored")
    with pytest.raises(InvalidDataError, match="student_id"):
        store.upsert_students([{"student_id": ""}])


def _graph() -> nx.DiGraph:
    g = nx.DiGraph(subject="math", name="tiny", items={"q1": ["a"], "q2": ["a", "b"]})
    g.add_node("a", name="有理数", name_en="rational numbers", grade=7, subject="math", unit="u1")
    g.add_node("b", name="方程", name_en="equations", grade=7, subject="math", unit="u2")
    g.add_node("c", name="函数", name_en="functions", grade=8, subject="math", unit="u3")
    g.add_edge("a", "c", relation="prerequisite", any_of="g1")
    g.add_edge("b", "c", relation="prerequisite", any_of="g1")
    return g


def test_graph_round_trip(store):
    g = _graph()
    info = store.put_graph("tiny", g)
    assert info["n_concepts"] == 3 and info["n_edges"] == 2 and info["subject"] == "math"
    back = store.get_graph("tiny")
    assert isinstance(back, nx.DiGraph)
    assert dict(back.nodes(data=True)) == dict(g.nodes(data=True))
    assert back.edges["a", "c"] == {"relation": "prerequisite", "any_of": "g1"}
    assert back.graph["items"] == {"q1": ["a"], "q2": ["a", "b"]}
    store.put_graph("other", nx.DiGraph())
    page, total = store.list_graphs(limit=1)
    assert total == 2 and page[0]["graph_id"] == "other"
    with pytest.raises(UnknownIdError):
        store.get_graph("missing")
    with pytest.raises(InvalidDataError):
        store.put_graph("x", nx.Graph())


def _catalogue() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "resource_id": ["r1", "r2", "r3"],
            "title": ["一元一次方程微课", "Functions video", "有理数练习"],
            "type": ["video", "video", "exercise_set"],
            "concept_ids": [("b",), ("c",), "a;b"],
            "grade": [7, 8, 7],
            "subject": ["math"] * 3,
            "minutes": [8.0, 12.0, None],
            "difficulty": [0.4, 0.6, 0.5],
            "source": ["city", "city", "school"],
            "is_quality": [True, False, True],
        }
    )


def test_resources_upsert_filter_paginate(store):
    assert store.upsert_resources(_catalogue()) == {"received": 3, "inserted": 3, "updated": 0}
    upd = _catalogue().iloc[[0]].assign(title="方程微课（新）", concept_ids=[("a",)])
    assert store.upsert_resources(upd) == {"received": 1, "inserted": 0, "updated": 1}
    rows, total = store.list_resources()
    assert total == 3 and [r["resource_id"] for r in rows] == ["r1", "r2", "r3"]
    assert rows[0]["title"] == "方程微课（新）" and rows[0]["concept_ids"] == ["a"]
    assert rows[2]["concept_ids"] == ["a", "b"] and rows[2]["minutes"] is None
    ids = lambda rows: [r["resource_id"] for r in rows[0]]  # noqa: E731
    assert ids(store.list_resources(concept="a")) == ["r1", "r3"]  # r1 was re-linked to a
    assert ids(store.list_resources(concept="b")) == ["r3"]
    assert ids(store.list_resources(type="video", grade=8)) == ["r2"]
    assert ids(store.list_resources(is_quality=True)) == ["r1", "r3"]
    assert ids(store.list_resources(q="FUNCTIONS")) == ["r2"]
    assert ids(store.list_resources(q="%")) == []  # LIKE wildcards are literal
    page = store.list_resources(offset=1, limit=1)
    assert ids(page) == ["r2"] and page[1] == 3
    cat = store.catalogue()
    assert cat["concept_ids"].tolist() == [("a",), ("c",), ("a", "b")]
    assert cat["is_quality"].dtype == bool


@pytest.mark.parametrize(
    ("change", "column", "rows"),
    [
        ({"difficulty": [0.4, 1.5, 0.5]}, "difficulty", [1]),
        ({"grade": [7, 7.5, 7]}, "grade", [1]),
        ({"title": ["ok", "", "ok"]}, "title", [1]),
        ({"resource_id": ["r1", "r1", "r3"]}, "resource_id", [0, 1]),
        ({"minutes": [1.0, 2.0, -3.0]}, "minutes", [2]),
        ({"is_quality": [True, "maybe", False]}, "is_quality", [1]),
    ],
)
def test_bad_resource_rows_are_rejected_whole(store, change, column, rows):
    store.upsert_resources(_catalogue().iloc[[2]].assign(title="before"))
    bad = _catalogue().assign(**change)
    with pytest.raises(InvalidDataError) as e:
        store.upsert_resources(bad)
    assert e.value.column == column and e.value.rows == rows
    got, total = store.list_resources()
    assert total == 1 and got[0]["title"] == "before"


def test_models_round_trip_and_activation(store):
    from sklearn.linear_model import LogisticRegression

    with pytest.raises(NoModelError):
        store.load_model()
    est = LogisticRegression(C=0.5).fit([[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1])
    m1 = store.save_model(est, name="lr", n_interactions=4, metrics={"auc": 1.0})
    m2 = store.save_model(LogisticRegression(C=2.0), name="lr2", activate=False)
    loaded, info = store.load_model()
    assert info["model_id"] == m1 and info["params"]["C"] == 0.5
    assert info["metrics"] == {"auc": 1.0} and info["artifact_bytes"] > 0
    assert loaded.predict_proba([[1.5]]).tolist() == est.predict_proba([[1.5]]).tolist()
    assert store.load_model(m2)[1]["active"] is False
    m3 = store.save_model(LogisticRegression(), name="lr3")
    assert [m["model_id"] for m in store.list_models()] == [m3, m2, m1]
    assert [m["active"] for m in store.list_models()] == [True, False, False]
    with pytest.raises(UnknownIdError):
        store.load_model(9999)

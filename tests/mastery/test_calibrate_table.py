"""edu_recsys.mastery.calibrate: the grade calibration rules on a long mastery table."""

from __future__ import annotations

import subprocess
import sys

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from edu_recsys.exceptions import InvalidDataError
from edu_recsys.mastery.calibrate import (
    answer_counts,
    calibrate_arrays,
    calibrate_mastery_table,
    concept_grades,
)


def graded_graph() -> nx.DiGraph:
    """old1, old2 (grade 7) -> cur (grade 8) -> nxt (grade 9); 'free' has no grade."""
    G = nx.DiGraph()
    for c, g in [("old1", 7), ("old2", 7), ("cur", 8), ("nxt", 9)]:
        G.add_node(c, grade=g)
    G.add_node("free")
    G.add_edges_from([("old1", "cur"), ("old2", "cur"), ("cur", "nxt")])
    return G


@pytest.fixture
def table() -> pd.DataFrame:
    rows = [
        ("s1", "old1", 0.9, 4, ""),
        ("s1", "old2", 0.93, 0, ""),
        ("s1", "cur", 0.85, 6, ""),
        ("s1", "nxt", 0.93, 0, ""),
        ("s1", "free", 0.3, 0, ""),
        ("s2", "old1", 0.6, 2, ""),
        ("s2", "old2", 0.7, 2, ""),
        ("s2", "cur", 0.5, 6, ""),
        ("s2", "nxt", 0.4, 0, ""),
        ("s2", "free", 0.9, 0, ""),
        ("s3", "old1", 0.7, 0, "unseen_student"),
        ("s3", "cur", 0.7, 0, "unseen_student"),
    ]
    return pd.DataFrame(
        rows, columns=["student_id", "concept_id", "mastery", "evidence", "fallback"]
    )


def test_rules_on_the_long_table(table):
    out = calibrate_mastery_table(table, graded_graph(), grade=8, level_strength=2.0)
    assert list(out.columns) == [*table.columns, "calibration"]
    pd.testing.assert_frame_equal(out[table.columns[:2]], table[table.columns[:2]])
    m = out.set_index(["student_id", "concept_id"])["mastery"]
    src = out.set_index(["student_id", "concept_id"])["calibration"]
    # group's earlier-grade level (0.9*4 + 0.6*2 + 0.7*2) / 8 = 0.775, s1 shrunk to it
    assert m["s1", "old2"] == pytest.approx((0.9 * 4 + 2 * 0.775) / 6)
    assert src["s1", "old2"] == "earlier_grade_level"
    # later grade and a concept without a grade (counts as the students' own): <= 0.5
    assert m["s1", "nxt"] == 0.5 and m["s2", "nxt"] == 0.4 and m["s1", "free"] == 0.3
    assert m["s2", "free"] == 0.5 and src["s1", "free"] == src["s2", "free"] == "not_yet_learned"
    # the student's own answers keep the tracer's value; a new student is untouched
    assert m["s1", "cur"] == 0.85 and m["s2", "old1"] == 0.6 and src["s1", "cur"] == ""
    assert (m["s3"] == 0.7).all() and (src["s3"] == "").all()
    # the input is not modified
    assert table["mastery"].iloc[1] == 0.93 and "calibration" not in table.columns


def test_same_values_as_the_classroom_calibration(table):
    from edu_recsys.classroom import calibrate_mastery

    G = graded_graph()
    flagged = table.copy()
    flagged.loc[1, ["evidence", "fallback"]] = (2, "unseen_concept")  # s1, old2
    hist = pd.DataFrame(
        {"student_id": ["s1", "s1"], "item_id": ["q1", "q2"],
         "concept_ids": [("old2",), ("old2",)], "correct": [1, 0]}
    )  # fmt: skip
    out = calibrate_mastery_table(flagged, G, grade=8, history=hist)
    cls = calibrate_mastery(flagged, G, grade=8, history=hist)
    for sid, cid, val, how in out[["student_id", "concept_id", "mastery", "calibration"]].values:
        assert val == pytest.approx(cls.matrix.mastery.at[sid, cid])
        assert how == cls.source.at[sid, cid]
    assert out.loc[1, "calibration"] == "evidence_update"


def test_arrays_without_grade_and_with_nan():
    X = np.array([[0.9, np.nan, 0.8], [0.2, 0.9, np.nan]])
    ev = np.array([[2.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    out, src = calibrate_arrays(X, ev, np.array([7, 7, 9]), None)
    # every concept current: no-evidence cells capped at 0.5 (NaN -> 0.5); the second
    # student has no answer at all and keeps the tracer's values
    assert out[0].tolist() == [0.9, 0.5, 0.5]
    assert src[0].tolist() == ["", "not_yet_learned", "not_yet_learned"]
    np.testing.assert_array_equal(out[1], X[1])
    assert (src[1] == "").all()


def test_counts_grades_and_errors(table):
    n, w = answer_counts(None, ["s"], ["a"])
    assert n.tolist() == [[0.0]] and w.tolist() == [[0.0]]
    assert concept_grades(None, ["a", "b"], 8).tolist() == [8, 8]
    with pytest.raises(InvalidDataError, match="evidence"):
        calibrate_mastery_table(table.drop(columns="evidence"), graded_graph(), grade=8)
    empty = calibrate_mastery_table(table.iloc[:0], graded_graph(), grade=8)
    assert len(empty) == 0 and "calibration" in empty.columns


def test_no_import_cycle():
    """The rules import neither the classroom nor the recommendation layer."""
    code = (
        "import sys, edu_recsys.mastery.calibrate; "
        "print(any(m.startswith(('edu_recsys.classroom', 'edu_recsys.recommend')) "
        "for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"

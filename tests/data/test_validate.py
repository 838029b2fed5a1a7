"""validate_interactions: typing, ordering, and clear errors on every kind of bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edu_recsys.data import InvalidDataError, validate_interactions


def _base(n: int = 4) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "student_id": ["s1", "s2", "s1", "s2"][:n],
            "item_id": ["q1", "q1", "q2", "q3"][:n],
            "concept_ids": ["a", "a", "a~~b", "c"][:n],
            "correct": [1, 0, 0, 1][:n],
        }
    )


def test_types_and_grouping():
    out, rep = validate_interactions(_base(), return_report=True)
    assert out["student_id"].tolist() == ["s1", "s1", "s2", "s2"]
    assert out["item_id"].tolist() == ["q1", "q2", "q1", "q3"]
    assert out["concept_ids"].tolist() == [("a",), ("a", "b"), ("a",), ("c",)]
    assert out["correct"].dtype == np.int8
    assert rep.rows_in == rep.rows_out == 4
    assert rep.reordered
    assert (rep.students, rep.items, rep.concepts) == (2, 3, 3)


def test_input_not_modified():
    df = _base()
    before = df.copy()
    validate_interactions(df)
    pd.testing.assert_frame_equal(df, before)


def test_timestamps_sort_within_student_stably():
    df = _base().assign(
        timestamp=["2024-01-02T00:00:00Z", "2024-01-01", "2024-01-01T00:00:00Z", "2024-01-03"]
    )
    out = validate_interactions(df)
    assert str(out["timestamp"].dtype) == "datetime64[ns, UTC]"
    assert out.loc[out.student_id == "s1", "item_id"].tolist() == ["q2", "q1"]


def test_epoch_milliseconds_are_parsed():
    df = _base(2).assign(timestamp=[1565096151269, 1565096187972])
    out = validate_interactions(df)
    assert out["timestamp"].dt.year.tolist() == [2019, 2019]


@pytest.mark.parametrize(
    ("column", "mutate", "expected_rows"),
    [
        ("student_id", lambda d: d.assign(student_id=["s1", None, "s1", "s2"]), [1]),
        ("item_id", lambda d: d.assign(item_id=["q1", "q1", "", "q3"]), [2]),
        ("correct", lambda d: d.assign(correct=[1, 0, 2, 1]), [2]),
        ("correct", lambda d: d.assign(correct=[1, 0, 0.5, 1]), [2]),
        ("correct", lambda d: d.assign(correct=["yes", "no", "maybe", "no"]), [2]),
        ("correct", lambda d: d.assign(correct=[1, None, 0, 1]), [1]),
        (
            "timestamp",
            lambda d: d.assign(timestamp=["2024-01-01", "not a date", None, "2024"]),
            [1],
        ),
        ("score", lambda d: d.assign(score=[0.5, 1.5, 0, 1]), [1]),
        ("duration_s", lambda d: d.assign(duration_s=[1, -3, 2, None]), [1]),
    ],
)
def test_bad_values_name_column_and_rows(column, mutate, expected_rows):
    with pytest.raises(InvalidDataError) as ei:
        validate_interactions(mutate(_base()))
    assert ei.value.column == column
    assert ei.value.rows == expected_rows
    assert repr(column) in str(ei.value)


@pytest.mark.parametrize("missing", ["student_id", "item_id", "correct", "concept_ids"])
def test_missing_column(missing):
    with pytest.raises(InvalidDataError) as ei:
        validate_interactions(_base().drop(columns=missing))
    assert ei.value.column == missing


def test_q_matrix_fills_concepts_and_reports_unknown_items():
    df = _base().drop(columns="concept_ids")
    out = validate_interactions(df, q_matrix={"q1": ["x"], "q2": ["x", "y"], "q3": ["z"]})
    assert out["concept_ids"].tolist() == [("x",), ("x", "y"), ("x",), ("z",)]
    with pytest.raises(InvalidDataError) as ei:
        validate_interactions(df, q_matrix={"q1": ["x"]})
    assert ei.value.column == "item_id" and ei.value.rows == [2, 3]


def test_duplicates_raise_or_are_dropped_and_counted():
    df = pd.concat([_base(), _base().iloc[[0]]], ignore_index=True)
    df["timestamp"] = ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04", "2024-01-01"]
    with pytest.raises(InvalidDataError) as ei:
        validate_interactions(df)
    assert ei.value.rows == [4]
    out, rep = validate_interactions(df, drop_duplicates=True, return_report=True)
    assert len(out) == 4 and rep.duplicates_dropped == 1


def test_event_id_duplicates():
    df = _base().assign(event_id=["e1", "e2", "e3", "e1"])
    with pytest.raises(InvalidDataError) as ei:
        validate_interactions(df)
    assert ei.value.column == "event_id" and ei.value.rows == [3]


def test_rows_without_concepts_are_kept_and_counted():
    df = _base().assign(concept_ids=["a", None, "", "c"])
    out, rep = validate_interactions(df, return_report=True)
    assert len(out) == 4 and rep.rows_without_concepts == 2
    with pytest.raises(InvalidDataError) as ei:
        validate_interactions(df, require_concepts=True)
    assert ei.value.column == "concept_ids"


def test_error_reports_file_lines():
    err = InvalidDataError(
        "bad", column="correct", rows=list(range(10)), source="x.csv", line_offset=2
    )
    assert "x.csv" in str(err) and "file lines 2, 3, 4, 5, 6 and 5 more" in str(err)


def test_extra_columns_are_kept():
    out = validate_interactions(_base().assign(hint_count=[0, 1, 2, 3]))
    assert "hint_count" in out.columns
    assert out.set_index(["student_id", "item_id"])["hint_count"].to_dict()[("s2", "q3")] == 3


# ---- property-based: validation never loses or reorders a student's rows -----------------

_rows = st.lists(
    st.tuples(
        st.sampled_from(["a", "b", "c", "d"]),
        st.integers(0, 30),
        st.sampled_from([0, 1]),
        st.one_of(st.none(), st.integers(0, 10_000)),
    ),
    min_size=1,
    max_size=60,
)


@settings(max_examples=60, deadline=None)
@given(_rows)
def test_property_no_row_lost_or_reordered(rows):
    df = pd.DataFrame(rows, columns=["student_id", "item_id", "correct", "t"])
    df["concept_ids"] = [f"k{i % 3}" for i in df["item_id"]]
    df["seq"] = np.arange(len(df))  # marks the input order
    out = validate_interactions(df.drop(columns="t"))
    assert len(out) == len(df)
    for s, grp in out.groupby("student_id", sort=False):
        assert grp["seq"].tolist() == df.loc[df.student_id == s, "seq"].tolist()
    # with timestamps: each student's rows are time-sorted, ties keep input order
    # (same student, item and time would be a duplicate answer: tested separately)
    with_t = df.dropna(subset=["t"]).drop_duplicates(subset=["student_id", "item_id", "t"]).copy()
    if len(with_t):
        with_t["timestamp"] = pd.to_datetime(with_t.pop("t"), unit="s", utc=True)
        out = validate_interactions(with_t)
        assert len(out) == len(with_t)
        for s, grp in out.groupby("student_id", sort=False):
            exp = with_t[with_t.student_id == s].sort_values(["timestamp", "seq"], kind="stable")
            assert grp["seq"].tolist() == exp["seq"].tolist()


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(2, 20),
    bad_at=st.integers(0, 19),
    kind=st.sampled_from(["correct", "student_id", "item_id", "timestamp", "score"]),
)
def test_property_bad_input_names_column(n, bad_at, kind):
    i = bad_at % n
    df = pd.DataFrame(
        {
            "student_id": [f"s{j % 3}" for j in range(n)],
            "item_id": [f"q{j}" for j in range(n)],
            "concept_ids": ["k"] * n,
            "correct": [j % 2 for j in range(n)],
            "timestamp": [f"2024-01-{1 + j:02d}" for j in range(n)],
            "score": [0.5] * n,
        }
    )
    bad = {"correct": 3, "student_id": None, "item_id": "", "timestamp": "31/31/31", "score": -1}
    col = df[kind].astype(object).tolist()
    col[i] = bad[kind]
    df[kind] = col
    with pytest.raises(InvalidDataError) as ei:
        validate_interactions(df)
    assert ei.value.column == kind
    assert i in ei.value.rows

"""read_interactions / read_folds / from_xapi on small files made here."""

from __future__ import annotations

import gzip
from pathlib import Path

import pandas as pd
import pytest

from edu_recsys.data import (
    InvalidDataError,
    detect_sequence_format,
    from_xapi,
    infer_columns,
    read_fold_file,
    read_folds,
    read_interactions,
)
from edu_recsys.data.xapi import ANSWERED_VERB, CONCEPT_EXTENSION


def test_assistments_columns_and_order_id(tmp_path: Path):
    f = tmp_path / "as.csv"
    pd.DataFrame(
        {
            "Unnamed: 0": [0, 1, 2, 3],
            "order_id": [30, 10, 20, 5],
            "user_id": [1, 1, 1, 2],
            "problem_id": [100, 101, 102, 100],
            "skill_id": [7.0, 7.0, None, 8.0],
            "skill_name": ["Table", "Table", None, "Box"],
            "correct": [1, 0, 1, 1],
            "ms_first_response": [1000, -5, 2500, 400],
        }
    ).to_csv(f, index=False)
    df = read_interactions(f)
    assert df["item_id"].tolist() == ["101", "102", "100", "100"]  # order_id within user 1
    assert df["concept_ids"].tolist() == [("7",), (), ("7",), ("8",)]
    assert df["duration_s"].tolist()[2] == 1.0
    assert pd.isna(df["duration_s"].iloc[0])  # negative response time -> unknown
    assert "skill_name" in df.columns and "Unnamed: 0" not in df.columns


def test_datashop_columns(tmp_path: Path):
    f = tmp_path / "ct.tsv.gz"
    raw = pd.DataFrame(
        {
            "Row": [1, 2, 3],
            "Anon Student Id": ["A", "A", "B"],
            "Problem Name": ["P1", "P1", "P2"],
            "Step Name": ["s1", "s2", "s1"],
            "Step Start Time": ["2006-10-26 09:51:58.0", "2006-10-26 09:50:00.0", "2007-01-01"],
            "Step Duration (sec)": [92, 11, ""],
            "Correct First Attempt": [0, 1, 1],
            "KC(Default)": ["Identifying units, fractions~~Entering a given", None, "X"],
        }
    )
    with gzip.open(f, "wt") as fh:
        raw.to_csv(fh, sep="\t", index=False)
    df = read_interactions(f)
    assert df["item_id"].tolist() == ["P1::s2", "P1::s1", "P2::s1"]  # time order
    assert df["concept_ids"].tolist()[1] == ("Identifying units, fractions", "Entering a given")
    assert df["timestamp"].dt.tz is not None


def test_ednet_style_correct_from_answer_key():
    raw = pd.DataFrame(
        {
            "user_id": ["u1", "u1"],
            "question_id": ["q1", "q2"],
            "tags": ["1;2", "5"],
            "timestamp": [1565096151269, 1565096187972],
            "user_answer": ["b", "c"],
            "correct_answer": ["b", "a"],
        }
    )
    df = read_interactions(raw)
    assert df["correct"].tolist() == [1, 0]
    assert df["concept_ids"].tolist() == [("1", "2"), ("5",)]


def test_explicit_column_overrides_and_bad_override():
    raw = pd.DataFrame({"learner": ["a"], "exercise_code": ["e"], "kp": ["k"], "ok": [1]})
    df = read_interactions(
        raw,
        columns={
            "student_id": "learner",
            "item_id": "exercise_code",
            "concept_ids": "kp",
            "correct": "ok",
        },
    )
    assert df.iloc[0][["student_id", "item_id", "correct"]].tolist() == ["a", "e", 1]
    with pytest.raises(InvalidDataError) as ei:
        read_interactions(raw, columns={"student_id": "nope"})
    assert ei.value.column == "nope"


def test_missing_column_error_names_file_and_column(tmp_path: Path):
    f = tmp_path / "x.csv"
    f.write_text("user_id,problem_id,skill_id\n1,2,3\n")
    with pytest.raises(InvalidDataError) as ei:
        read_interactions(f)
    assert ei.value.column == "correct" and str(f) in str(ei.value)


def test_bad_value_error_names_file_line(tmp_path: Path):
    f = tmp_path / "x.csv"
    f.write_text("user_id,problem_id,skill_id,correct\n1,2,3,1\n1,2,3,0\n1,4,3,9\n")
    with pytest.raises(InvalidDataError) as ei:
        read_interactions(f)
    assert "file lines 4" in str(ei.value)


def test_infer_columns_prefers_skill_id_over_name():
    m = infer_columns(["user_id", "problem_id", "skill_name", "skill_id", "correct"])
    assert m["concept_ids"] == "skill_id"
    assert (
        infer_columns(["user_id", "item", "skill_name", "correct"])["concept_ids"] == "skill_name"
    )


def _write(path: Path, lines: list[str]) -> None:
    with gzip.open(path, "wt") as fh:
        fh.write("\n".join(lines) + "\n")


def test_read_folds_four_line(tmp_path: Path):
    _write(tmp_path / "x_test1.csv.gz", ["1,901", "5,5,6", "1,2,1", "1,1,0"])
    _write(tmp_path / "x_test2.csv.gz", ["2,902", "7", "3", "0", "3,903", "5,8", "1,3", "1,0"])
    df = read_folds(tmp_path)
    assert df["fold"].tolist() == [1, 1, 1, 2, 2, 2]
    assert df["student_id"].tolist() == ["901", "901", "901", "902", "903", "903"]
    assert df["concept_ids"].tolist()[:3] == [("1",), ("2",), ("1",)]
    assert df["item_id"].tolist()[:3] == ["5", "5", "6"]


def test_read_folds_three_line_with_trailing_commas(tmp_path: Path):
    (tmp_path / "b_test1.csv").write_text("3\n4,4,9,\n1,0,1,\n1\n2,\n0,\n")
    df = read_fold_file(tmp_path / "b_test1.csv", fold=1)
    assert len(df) == 4 and df["student_id"].nunique() == 2
    assert df["concept_ids"].tolist()[0] == ("4",)


def test_read_folds_errors(tmp_path: Path):
    with pytest.raises(InvalidDataError, match="no fold files"):
        read_folds(tmp_path)
    _write(tmp_path / "x_test1.csv.gz", ["1,901", "5,5", "1,2", "1,1"])
    _write(tmp_path / "x_test2.csv.gz", ["1,901", "6", "1", "0"])
    with pytest.raises(InvalidDataError, match="more than one fold"):
        read_folds(tmp_path)
    (tmp_path / "y_test3.csv").write_text("hello\nworld\n")
    with pytest.raises(InvalidDataError, match="sequence file"):
        read_fold_file(tmp_path / "y_test3.csv")


def test_detect_mismatched_length_is_not_three_line():
    with pytest.raises(InvalidDataError):
        detect_sequence_format(["5", "1,2", "0,1"])


def _st(i, **kw):
    base = {
        "id": f"e{i}",
        "actor": {"account": {"name": "s1"}},
        "verb": {"id": ANSWERED_VERB},
        "object": {"id": f"q{i}"},
        "result": {"success": bool(i % 2)},
        "timestamp": f"2026-03-0{i}T08:00:00Z",
        "context": {"extensions": {CONCEPT_EXTENSION: "c1;c2"}},
    }
    base.update(kw)
    return base


def test_xapi_mapping_and_skips():
    sts = [_st(1), _st(2), {**_st(3), "verb": {"id": "http://adlnet.gov/expapi/verbs/viewed"}}]
    df = from_xapi(sts)
    assert df["correct"].tolist() == [1, 0]
    assert df["concept_ids"].tolist() == [("c1", "c2")] * 2
    assert df.attrs["skipped"] == 1
    assert df["event_id"].tolist() == ["e1", "e2"]


@pytest.mark.parametrize(
    ("field", "statement"),
    [
        ("actor", _st(1, actor={})),
        ("object.id", _st(1, object={})),
        ("result.success", _st(1, result={})),
        ("result.success", _st(1, result={"success": "yes"})),
        ("result.duration", _st(1, result={"success": True, "duration": "90 seconds"})),
    ],
)
def test_xapi_bad_statement_names_field(field, statement):
    with pytest.raises(InvalidDataError) as ei:
        from_xapi([_st(2), statement])
    assert ei.value.column == field and ei.value.rows == [1]

"""The loaders on the real public files (skipped with a reason when the data is absent)."""

from __future__ import annotations

import pytest

from edu_recsys.data import read_folds
from edu_recsys.datasets import DataNotFoundError, load_dataset, resolve_data_dir

pytestmark = pytest.mark.realdata


def _n_concepts(df) -> int:
    return len({c for cs in set(df["concept_ids"]) for c in cs})


def test_assist2009_akt_folds_counts(assist2009_folds_dir):
    df = read_folds(assist2009_folds_dir)
    assert len(df) == 325_589
    assert df["student_id"].nunique() == 4_150
    assert df["item_id"].nunique() == 16_891
    assert _n_concepts(df) == 110
    assert sorted(df["fold"].unique()) == [1, 2, 3, 4, 5]
    # first student of fold 1 as in the file: user 78276, items 7410, 7410, 10076
    first = df[df["student_id"] == "78276"]
    assert first["item_id"].tolist()[:3] == ["7410", "7410", "10076"]
    assert first["concept_ids"].tolist()[:2] == [("37",), ("54",)]
    assert first["correct"].tolist()[:3] == [0, 0, 1]
    # folds are disjoint by student
    assert (df.groupby("student_id")["fold"].nunique() == 1).all()


def test_statics_folds(data_dir):
    ds = load_dataset("statics2011_folds", data_dir)
    df = ds.data
    assert df["student_id"].nunique() == 330  # 5 folds of 66 students
    assert df["item_id"].astype(int).between(1, 1223).all()
    assert set(df["fold"].unique()) == {1, 2, 3, 4, 5}
    assert 0.70 < df["correct"].mean() < 0.80  # 76.5 % over all 333 students
    assert "statics" in ds.provenance["title"].lower()


def test_assist2015_folds(data_dir):
    df = load_dataset("assist2015_folds", data_dir).data
    assert len(df) == 683_801 and df["student_id"].nunique() == 19_840
    assert _n_concepts(df) == 100


def test_cognitive_tutor_sample_multi_kc_and_timestamps(data_dir):
    df = load_dataset("cognitive_tutor_sample", data_dir).data
    assert len(df) == 18_220 and df["student_id"].nunique() == 11
    assert df["item_id"].nunique() == 12_559  # (problem, step) pairs
    assert _n_concepts(df) == 184
    has_kc = df["concept_ids"].map(len) > 0
    assert has_kc.sum() == 14_701
    assert (df["concept_ids"].map(len) > 1).any()  # ~~ multi-KC rows split
    assert str(df["timestamp"].min().date()) == "2006-09-05"
    assert str(df["timestamp"].max().date()) == "2007-05-23"
    # each student's rows in time order
    assert df.groupby("student_id")["timestamp"].apply(lambda t: t.is_monotonic_increasing).all()


def test_assist2009_raw_sample_sorted_by_order_id(data_dir):
    df = load_dataset("assist2009_raw", data_dir).data
    assert len(df) == 10_791 and df["student_id"].nunique() == 902
    assert df.groupby("student_id")["order_id"].apply(lambda s: s.is_monotonic_increasing).all()
    assert _n_concepts(df) == 2


def test_ednet_sample(data_dir):
    ds = load_dataset("ednet_kt4_sample", data_dir)
    df = ds.data
    assert df["student_id"].nunique() == 9
    assert df["item_id"].str.startswith("q").all()
    assert df["timestamp"].notna().all()
    assert len(ds.extras["lectures"]) == 1_021
    assert ds.extras["lecture_events"]["resource_id"].str.startswith("l").all()


def test_junyi_exercise_table(data_dir):
    t = load_dataset("junyi_exercises", data_dir).data
    assert len(t) == 837 and "prerequisites" in t.columns


def test_missing_data_dir_is_a_clear_error(tmp_path):
    with pytest.raises(DataNotFoundError, match="does not exist"):
        resolve_data_dir(tmp_path / "nope")
    with pytest.raises(DataNotFoundError, match="dataset files not found"):
        load_dataset("assist2009_folds", tmp_path)
    with pytest.raises(KeyError, match="known"):
        load_dataset("no_such_set", tmp_path)

"""Partitioning by student: whole students per partition, time order kept."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from edu_recsys.exceptions import InvalidDataError
from edu_recsys.scale.errors import IncompleteDatasetError, PartitioningError
from edu_recsys.scale.io import (
    MANIFEST,
    check_student_partitions,
    frame_to_arrow,
    partition_by_student,
    read_log,
    write_log,
)

COLS = ["student_id", "item_id", "concept_ids", "correct", "timestamp"]

# dask.dataframe.read_parquet itself still calls reset_index(inplace=True) (pandas 3.1)
pytestmark = pytest.mark.filterwarnings("ignore:The inplace keyword in DataFrame.reset_index")


def _write_scattered(df: pd.DataFrame, root, n_files: int, seed: int = 0) -> None:
    """Rows in a random global order split over files: students span several files."""
    root.mkdir()
    order = np.random.default_rng(seed).permutation(len(df))
    for i, idx in enumerate(np.array_split(order, n_files)):
        pq.write_table(frame_to_arrow(df.iloc[idx]), root / f"chunk-{i}.parquet")


def _canon_sorted(df: pd.DataFrame) -> pd.DataFrame:
    return df[COLS].sort_values(["student_id", "timestamp"], kind="stable").reset_index(drop=True)


@pytest.mark.parametrize("nparts", [1, 3, 7])
def test_partitioning_never_splits_a_student(dask_threads, small_log, tmp_path, nparts):
    _write_scattered(small_log, tmp_path / "raw", n_files=5)
    raw = read_log(str(tmp_path / "raw"))
    assert raw.npartitions == 5
    # the scattered input does split students ...
    with pytest.raises(PartitioningError, match="split across partitions"):
        check_student_partitions(raw)
    part = partition_by_student(raw, npartitions=nparts)
    assert part.npartitions == nparts
    assert check_student_partitions(part) == small_log["student_id"].nunique()
    parts = [p for p in part.to_delayed()]
    seen: set[str] = set()
    for d in parts:
        p = d.compute()
        ids = set(p["student_id"])
        assert not ids & seen
        seen |= ids
        # students contiguous, each in time order
        t = p["timestamp"].to_numpy()
        same = p["student_id"].to_numpy()[1:] == p["student_id"].to_numpy()[:-1]
        assert (t[1:][same] >= t[:-1][same]).all()
    assert seen == set(small_log["student_id"])
    # nothing lost, nothing added, values intact
    got = _canon_sorted(part.compute())
    pd.testing.assert_frame_equal(got, _canon_sorted(small_log), check_dtype=False)


def test_input_order_kept_without_timestamps(dask_threads, tmp_path):
    # files in order; a student's rows spread over files: file order is time order
    rows = [("s1", "q1", 1), ("s2", "q1", 0), ("s1", "q2", 0), ("s1", "q3", 1), ("s2", "q9", 1)]
    df = pd.DataFrame(rows, columns=["student_id", "item_id", "correct"]).assign(
        concept_ids=[("a",), ("a",), ("b",), ("a", "b"), ("c",)]
    )
    (tmp_path / "raw").mkdir()
    for i, sl in enumerate([slice(0, 2), slice(2, 3), slice(3, 5)]):
        pq.write_table(frame_to_arrow(df.iloc[sl]), tmp_path / "raw" / f"f{i}.parquet")
    out = partition_by_student(read_log(str(tmp_path / "raw")), npartitions=2).compute()
    s1 = out[out["student_id"] == "s1"]
    assert s1["item_id"].tolist() == ["q1", "q2", "q3"]
    assert s1["concept_ids"].tolist() == [("a",), ("b",), ("a", "b")]
    assert out[out["student_id"] == "s2"]["item_id"].tolist() == ["q1", "q9"]


def test_write_then_read_uses_partitions_as_they_are(dask_threads, small_log, tmp_path):
    _write_scattered(small_log, tmp_path / "raw", n_files=4)
    part = partition_by_student(read_log(str(tmp_path / "raw")), npartitions=3)
    man = write_log(part, str(tmp_path / "log"))
    assert man["complete"] and man["partitioned_by"] == "student_id"
    assert man["rows"] == len(small_log)
    assert man["students"] == small_log["student_id"].nunique()
    on_disk = json.loads((tmp_path / "log" / MANIFEST).read_text())
    assert on_disk["files"] == man["files"]
    back = read_log(str(tmp_path / "log"))
    assert back.npartitions == 3  # one partition per file, no shuffle needed
    check_student_partitions(back)
    pd.testing.assert_frame_equal(
        _canon_sorted(back.compute()), _canon_sorted(small_log), check_dtype=False
    )
    # no temporary folders left behind
    assert sorted(p.name for p in tmp_path.iterdir()) == ["log", "raw"]
    with pytest.raises(FileExistsError):
        write_log(part, str(tmp_path / "log"))


def test_incomplete_manifest_is_refused(tmp_path):
    d = tmp_path / "half"
    d.mkdir()
    (d / MANIFEST).write_text(json.dumps({"complete": False, "files": []}))
    with pytest.raises(IncompleteDatasetError):
        read_log(str(d))


def test_missing_listed_file_is_refused(dask_threads, small_log, tmp_path):
    part = partition_by_student(dask_from(small_log, 2), npartitions=2)
    write_log(part, str(tmp_path / "log"))
    (tmp_path / "log" / "part-00001.parquet").unlink()
    with pytest.raises(IncompleteDatasetError, match="missing"):
        read_log(str(tmp_path / "log"))


def dask_from(df: pd.DataFrame, n: int):
    import dask.dataframe as dd

    return dd.from_pandas(df, npartitions=n, sort=False)


def test_csv_with_source_names_and_fsspec_url(dask_threads, tmp_path):
    raw = pd.DataFrame(
        {
            "user_id": [7, 8, 7, 7],
            "problem_id": [3, 3, 4, 5],
            "skill_id": ["a;b", "a", "b", ""],
            "correct": [0, 1, 1, 0],
        }
    )
    (tmp_path / "csv").mkdir()
    raw.iloc[:2].to_csv(tmp_path / "csv" / "a.csv", index=False)
    raw.iloc[2:].to_csv(tmp_path / "csv" / "b.csv", index=False)
    ddf = read_log(f"file://{tmp_path}/csv")
    out = partition_by_student(ddf, npartitions=2).compute()
    s7 = out[out["student_id"] == "7"]
    assert s7["item_id"].tolist() == ["3", "4", "5"]
    assert s7["concept_ids"].tolist() == [("a", "b"), ("b",), ()]
    assert out["correct"].dtype == np.int8


def test_memory_filesystem(dask_threads, small_log):
    import fsspec

    fs = fsspec.filesystem("memory")
    fs.mkdir("/edu-raw")
    with fs.open("/edu-raw/x.parquet", "wb") as fh:
        pq.write_table(frame_to_arrow(small_log), fh)
    part = partition_by_student(read_log("memory://edu-raw"), npartitions=2)
    write_log(part, "memory://edu-log", overwrite=True)
    back = read_log("memory://edu-log").compute()
    assert len(back) == len(small_log)
    fs.rm("/edu-raw", recursive=True)
    fs.rm("/edu-log", recursive=True)


def test_bad_input_names_the_column(dask_threads, tmp_path):
    (tmp_path / "bad").mkdir()
    pd.DataFrame(
        {"student_id": ["a"], "item_id": ["q"], "concept_ids": ["c"], "correct": [2]}
    ).to_csv(tmp_path / "bad" / "x.csv", index=False)
    with pytest.raises(InvalidDataError, match="correct"):
        read_log(str(tmp_path / "bad")).compute()
    (tmp_path / "empty").mkdir()
    with pytest.raises(InvalidDataError, match="no data files"):
        read_log(str(tmp_path / "empty"))


def test_concept_tuples_survive_dask_from_pandas(dask_threads, small_log):
    import dask.dataframe as dd

    from edu_recsys.scale.io import from_pandas

    # Dask turns object columns into text: "('c01',)"; both paths give tuples back
    for ddf in (
        dd.from_pandas(small_log, npartitions=3, sort=False),
        from_pandas(small_log, npartitions=3),
    ):
        out = partition_by_student(ddf, npartitions=2).compute()
        pd.testing.assert_frame_equal(
            _canon_sorted(out), _canon_sorted(small_log), check_dtype=False
        )
    assert (
        from_pandas(small_log, 2).compute()["concept_ids"].tolist()
        == small_log["concept_ids"].tolist()
    )

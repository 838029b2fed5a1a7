"""A worker killed mid-job: the job retries, or fails clearly; never a partial output."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import cloudpickle
import dask
import dask.dataframe as dd
import pandas as pd
import pytest

from edu_recsys.scale.errors import JobFailedError
from edu_recsys.scale.io import MANIFEST, read_manifest
from edu_recsys.scale.score import run_partitioned_job

# the partition functions below run in worker processes: ship them by value
cloudpickle.register_pickle_by_value(sys.modules[__name__])

META = pd.DataFrame({"student_id": pd.Series([], dtype="str"), "n": pd.Series([], dtype=int)})


def _count(df: pd.DataFrame) -> pd.DataFrame:
    g = df.groupby("student_id", sort=True).size()
    return pd.DataFrame({"student_id": g.index.astype("str"), "n": g.to_numpy()})


def _kill_once(df: pd.DataFrame, marker: str, victim: str) -> pd.DataFrame:
    """Kill the worker process the first time the victim's partition runs."""
    if victim in set(df["student_id"]) and not os.path.exists(marker):
        Path(marker).write_text(str(os.getpid()))
        os._exit(1)
    return _count(df)


def _kill_always(df: pd.DataFrame, victim: str) -> pd.DataFrame:
    if victim in set(df["student_id"]):
        os._exit(1)
    return _count(df)


def _raise_once(df: pd.DataFrame, marker: str, victim: str) -> pd.DataFrame:
    if victim in set(df["student_id"]) and not os.path.exists(marker):
        Path(marker).write_text("raised")
        raise RuntimeError("transient storage error")
    return _count(df)


@pytest.fixture(scope="module")
def process_cluster():
    """Two worker processes (with nannies that restart them) on 127.0.0.1."""
    from edu_recsys.scale.cluster import dask_client

    with dask.config.set({"distributed.scheduler.allowed-failures": 1}):
        with dask_client(n_workers=2, threads_per_worker=1, memory_limit="1GiB") as c:
            yield c


@pytest.fixture
def log_ddf():
    df = pd.DataFrame(
        {"student_id": [f"s{i // 5}" for i in range(60)], "item_id": "q", "correct": 1}
    )
    # 4 partitions of 3 whole students each
    return dd.from_pandas(df, npartitions=4, sort=False), df


def _leftovers(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir())


def test_worker_killed_mid_job_is_retried(process_cluster, log_ddf, tmp_path):
    ddf, df = log_ddf
    marker = tmp_path / "killed"
    out = tmp_path / "out"
    man = run_partitioned_job(
        ddf,
        _kill_once,
        str(out),
        meta=META,
        job="count",
        marker=str(marker),
        victim="s7",
    )
    assert marker.exists()  # a worker did die mid-job ...
    assert man["complete"] and man["rows"] == df["student_id"].nunique()
    got = pd.concat(pd.read_parquet(out / f["path"]) for f in man["files"])
    assert got.set_index("student_id")["n"].to_dict() == {f"s{i}": 5 for i in range(12)}
    assert read_manifest(str(out))["rows"] == 12
    assert _leftovers(tmp_path) == ["killed", "out"]


def test_worker_killed_every_time_fails_clearly(process_cluster, log_ddf, tmp_path):
    ddf, _ = log_ddf
    out = tmp_path / "out"
    with pytest.raises(JobFailedError, match="nothing was published.*worker died"):
        run_partitioned_job(ddf, _kill_always, str(out), meta=META, job="count", victim="s4")
    assert not out.exists()
    assert _leftovers(tmp_path) == []  # no temporary folder either
    assert read_manifest(str(out)) is None


def test_task_error_retried_then_failing_job_publishes_nothing(process_cluster, log_ddf, tmp_path):
    ddf, _ = log_ddf
    marker = tmp_path / "raised"
    man = run_partitioned_job(
        ddf,
        _raise_once,
        str(tmp_path / "ok"),
        meta=META,
        job="count",
        marker=str(marker),
        victim="s1",
        retries=1,
    )
    assert marker.exists() and man["rows"] == 12
    marker.unlink()
    with pytest.raises(JobFailedError, match="transient storage error"):
        run_partitioned_job(
            ddf,
            _raise_once,
            str(tmp_path / "bad"),
            meta=META,
            job="count",
            marker=str(marker),
            victim="s1",
            retries=0,
        )
    assert not (tmp_path / "bad").exists()
    assert not (tmp_path / "bad" / MANIFEST).exists()
    assert _leftovers(tmp_path) == ["ok", "raised"]

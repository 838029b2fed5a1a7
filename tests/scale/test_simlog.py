"""The simulated benchmark log: seeded, exact sizes, whole students per file."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from edu_recsys.scale.io import MANIFEST, check_student_partitions, read_log
from edu_recsys.scale.simlog import SimLogParams, simulate_chunk, write_simulated_log

P = SimLogParams(n_students=300, n_answers=9_000, n_items=400, n_concepts=20, random_state=5)


def test_same_seed_same_log_other_seed_other_log():
    a = simulate_chunk(P, 0, P.n_students)
    b = simulate_chunk(P, 0, P.n_students)
    assert a.equals(b)
    c = simulate_chunk(SimLogParams(**{**P.__dict__, "random_state": 6}), 0, P.n_students)
    assert not a.equals(c)


def test_sizes_order_and_learning_signal():
    df = simulate_chunk(P, 0, P.n_students).to_pandas()
    assert len(df) == P.n_answers
    assert df["student_id"].nunique() == P.n_students
    same = df["student_id"].to_numpy()[1:] == df["student_id"].to_numpy()[:-1]
    t = df["timestamp"].to_numpy()
    assert (t[1:][same] > t[:-1][same]).all()
    # practice helps: later attempts on a concept succeed more often than first ones
    first = df.groupby(["student_id", df["concept_ids"].map(lambda c: c[0])]).cumcount() == 0
    assert df.loc[~first, "correct"].mean() > df.loc[first, "correct"].mean() + 0.02


def test_written_log_is_partitioned_by_student(dask_threads, tmp_path):
    man = write_simulated_log(str(tmp_path / "sim"), P, rows_per_file=2_000)
    assert man["rows"] == P.n_answers and man["students"] == P.n_students
    assert len(man["files"]) >= 4
    assert json.loads((tmp_path / "sim" / MANIFEST).read_text())["complete"]
    ddf = read_log(str(tmp_path / "sim"))
    assert ddf.npartitions == len(man["files"])
    assert check_student_partitions(ddf) == P.n_students
    # chunking does not change a student's answers' count
    whole = simulate_chunk(P, 0, P.n_students).to_pandas()
    parts = pd.concat(
        [pq.read_table(tmp_path / "sim" / f["path"]).to_pandas() for f in man["files"]]
    )
    np.testing.assert_array_equal(
        whole.groupby("student_id").size().sort_index().to_numpy(),
        parts.groupby("student_id").size().sort_index().to_numpy(),
    )
    items = pq.read_table(tmp_path / "sim" / "_items.parquet").to_pandas()
    assert set(parts["item_id"]) <= set(items["item_id"])

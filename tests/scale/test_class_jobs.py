"""Per-class batch jobs: every class's report and homework, as in memory."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from edu_recsys.classroom import class_report, personal_homework
from edu_recsys.mastery import make_model
from edu_recsys.scale.io import MANIFEST, from_pandas
from edu_recsys.scale.score import _clean, class_homework, class_reports, partition_by_class
from edu_recsys.scale.simlog import (
    SimLogParams,
    curriculum_graph,
    item_bank,
    roster,
    simulate_log,
)

P = SimLogParams(n_students=120, n_answers=4_000, n_items=120, n_concepts=12, random_state=4)


@pytest.fixture(scope="module")
def setup(dask_threads):
    df = simulate_log(P)
    R = roster(P, class_size=30)
    R = R[R["student_id"] != "s005"]  # s005 answered but is in no class
    extra = pd.DataFrame({"student_id": ["new1"], "class_id": ["k00000"]})  # no answers
    R = pd.concat([R, extra], ignore_index=True)
    model = make_model("best_lr").fit(df)
    by_class = partition_by_class(from_pandas(df, 3), R, npartitions=2)
    return df, R, model, curriculum_graph(P), item_bank(P), by_class


def _roundtrip(d):
    return json.loads(json.dumps(_clean(d), ensure_ascii=False, default=str))


def test_classes_are_whole_and_rostered(setup):
    df, R, _, _, _, by_class = setup
    parts = [p.compute() for p in by_class.to_delayed()]
    seen = [set(p["class_id"]) for p in parts]
    assert not seen[0] & seen[1]
    assert set().union(*seen) == set(R["class_id"])
    total = pd.concat(parts)
    assert "s005" not in set(total["student_id"])
    assert len(total) == int((df["student_id"] != "s005").sum())


def test_class_reports_equal_in_memory(setup, tmp_path):
    df, R, model, G, _, by_class = setup
    man = class_reports(by_class, model, G, R, str(tmp_path / "cr"), current_unit="u00")
    assert (tmp_path / "cr" / MANIFEST).exists()
    got = pd.concat(pd.read_parquet(tmp_path / "cr" / f["path"]) for f in man["files"])
    assert sorted(got["class_id"]) == sorted(R["class_id"].unique())
    row = got[got["class_id"] == "k00000"].iloc[0]
    ids = R.loc[R["class_id"] == "k00000", "student_id"].tolist()
    hist = df[df["student_id"].isin(ids)].reset_index(drop=True)
    ref = class_report(model.mastery(hist, students=ids), G, roster=ids, current_unit="u00")
    assert json.loads(row["json"]) == _roundtrip(ref.to_dict())
    assert row["n_students"] == len(ids) == 30  # 29 with answers + one new student


def test_class_homework_within_budget(setup, tmp_path):
    df, R, model, G, items, by_class = setup
    man = class_homework(by_class, model, G, R, items, str(tmp_path / "hw"), grade=8)
    got = pd.concat(pd.read_parquet(tmp_path / "hw" / f["path"]) for f in man["files"])
    row = got[got["class_id"] == "k00002"].iloc[0]
    ids = R.loc[R["class_id"] == "k00002", "student_id"].tolist()
    hist = df[df["student_id"].isin(ids)].reset_index(drop=True)
    ref = personal_homework(
        model.mastery(hist, students=ids), G, items, grade=8, roster=ids, history=hist
    )
    d = json.loads(row["json"])
    assert d == _roundtrip(ref.to_dict())
    assert all(s["minutes"] <= s["budget_minutes"] for s in d["summary"])

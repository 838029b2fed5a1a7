"""The demo data set shipped inside the package (no data directory, no download)."""

from __future__ import annotations

import numpy as np

from edu_recsys.cli import main
from edu_recsys.datasets import load_dataset
from edu_recsys.graph import load_graph


def test_demo_class_loads_without_a_data_directory(monkeypatch, tmp_path):
    monkeypatch.setenv("EDU_RECSYS_DATA", str(tmp_path / "absent"))
    ds = load_dataset("demo_class")
    df = ds.interactions
    assert ds.provenance["synthetic"] is True
    assert df["student_id"].nunique() == 40
    assert len(df) == ds.provenance["counts"]["rows"] > 1000
    # rows of a student in time order (the canonical contract)
    assert (df.groupby("student_id")["timestamp"].diff().dropna() >= np.timedelta64(0)).all()
    # every answered item is in the shipped item bank; every concept is in math-7-9
    items = ds.extras["items"]
    assert set(df["item_id"]) <= set(items["item_id"])
    G = load_graph(ds.provenance["graph"])
    assert {c for cs in df["concept_ids"] for c in cs} <= set(G.nodes)
    truth = ds.extras["true_mastery"]
    assert set(truth.index) == set(df["student_id"])
    assert ((truth.to_numpy() >= 0) & (truth.to_numpy() <= 1)).all()


def test_data_datasets_lists_the_demo_without_a_data_directory(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("EDU_RECSYS_DATA", str(tmp_path / "absent"))
    monkeypatch.chdir(tmp_path)
    assert main(["data", "datasets"]) == 0
    out = capsys.readouterr().out
    demo = next(line for line in out.splitlines() if line.lstrip().startswith("demo_class"))
    assert "ok" in demo and "6199" in demo
    assert "absent" in next(line for line in out.splitlines() if "assist2009_folds" in line)

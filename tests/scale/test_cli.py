"""``edu-recsys batch ...`` and ``edu-recsys bench scale`` on a small log."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from edu_recsys.cli import main

# dask.dataframe.read_parquet itself still calls reset_index(inplace=True) (pandas 3.1)
pytestmark = pytest.mark.filterwarnings("ignore:The inplace keyword in DataFrame.reset_index")


@pytest.fixture
def scheduler(dask_threads):
    return dask_threads.scheduler.address  # the in-process test cluster


def test_batch_jobs_end_to_end(scheduler, tmp_path, capsys):
    sim = tmp_path / "sim"
    opts = ["--scheduler", scheduler]
    assert (
        main(
            [
                "batch",
                "simulate",
                str(sim),
                "--answers",
                "6000",
                "--students",
                "150",
                "--items",
                "150",
                "--concepts",
                "15",
                "--rows-per-file",
                "2000",
                *opts,
            ]
        )
        == 0
    )
    # the same log written without its manifest must be partitioned first
    raw = tmp_path / "raw"
    raw.mkdir()
    for f in sim.glob("part-*.parquet"):
        (raw / f.name).write_bytes(f.read_bytes())
    assert (
        main(["batch", "partition", str(raw), str(tmp_path / "log"), "--partitions", "3", *opts])
        == 0
    )
    man = json.loads((tmp_path / "log" / "_manifest.json").read_text())
    assert man["partitioned_by"] == "student_id" and man["rows"] == 6000
    model = tmp_path / "m.joblib"
    assert (
        main(
            [
                "batch",
                "fit",
                str(tmp_path / "log"),
                "--out",
                str(model),
                "--model",
                "best_lr",
                "--json",
                str(tmp_path / "fit.json"),
                *opts,
            ]
        )
        == 0
    )
    assert json.loads((tmp_path / "fit.json").read_text())["answers"] > 0
    assert (
        main(
            [
                "batch",
                "score",
                str(sim),
                "--model",
                str(model),
                "--out",
                str(tmp_path / "scores"),
                *opts,
            ]
        )
        == 0
    )
    scores = pd.read_parquet(tmp_path / "scores")
    assert len(scores) == 6000 and scores["p_correct"].between(0, 1).all()
    assert (
        main(
            [
                "batch",
                "mastery",
                str(sim),
                "--model",
                str(model),
                "--out",
                str(tmp_path / "mastery"),
                *opts,
            ]
        )
        == 0
    )
    assert pd.read_parquet(tmp_path / "mastery")["student_id"].nunique() == 150
    # an existing output is refused with a one-line error and exit code 2
    assert (
        main(
            [
                "batch",
                "mastery",
                str(sim),
                "--model",
                str(model),
                "--out",
                str(tmp_path / "mastery"),
                *opts,
            ]
        )
        == 2
    )
    assert "exists" in capsys.readouterr().err


def test_batch_run_and_bench_scale(scheduler, tmp_path, capsys):
    sim = tmp_path / "sim"
    opts = ["--scheduler", scheduler]
    assert (
        main(
            [
                "batch",
                "simulate",
                str(sim),
                "--answers",
                "5000",
                "--students",
                "120",
                "--items",
                "120",
                "--concepts",
                "12",
                "--rows-per-file",
                "1500",
                *opts,
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "batch",
                "run",
                str(sim),
                "--out",
                str(tmp_path / "job"),
                "--model",
                "best_lr",
                "--no-mastery",
                "--json",
                str(tmp_path / "run.json"),
                *opts,
            ]
        )
        == 0
    )
    rep = json.loads((tmp_path / "run.json").read_text())
    assert 0.5 < rep["auc"] < 1 and rep["test_answers"] > 0
    assert (tmp_path / "job" / "predictions" / "_manifest.json").exists()
    out = tmp_path / "bench.json"
    assert (
        main(
            [
                "bench",
                "scale",
                "--answers",
                "5000",
                "--students",
                "120",
                "--slice-answers",
                "2500",
                "--rows-per-file",
                "1500",
                "--data",
                str(sim),
                "--model",
                "best_lr",
                "--no-mastery",
                "--parity-tols",
                "1e-6:2.2e-9",
                "--json",
                str(out),
                *opts,
            ]
        )
        == 0
    )
    res = json.loads(out.read_text())
    par = res["parity"]
    assert par["auc_diff"] < 0.002
    # two separate fits (Best-LR, the same solver): the same model
    assert par["pred_abs_diff_max"] < 1e-6
    assert par["memory_model_scored_by_dask_max_diff"] < 1e-12
    assert res["full"]["feature_pass"]["rows"] == 5000
    assert res["full"]["design_pass"]["rows"] == 5000
    assert res["full"]["feature_single_core"]["stages"]["transform_us"] > 0
    assert "AUC memory / Dask" in capsys.readouterr().out
    # the feature passes alone (the quick speed measurement)
    fo = tmp_path / "features.json"
    args = ["bench", "scale", "--answers", "5000", "--students", "120", "--rows-per-file"]
    args += ["1500", "--data", str(sim), "--features-only", "--json", str(fo), *opts]
    assert main(args) == 0
    res = json.loads(fo.read_text())
    assert "full" not in res and "parity" not in res
    fp = res["features_only"]
    assert fp["design_pass"]["rows"] == fp["feature_pass"]["rows"] == 5000
    assert fp["design_pass"]["answers_per_s_per_core"] > 0
    assert "features (design) answers/s/core" in capsys.readouterr().out


def test_batch_class_jobs(scheduler, tmp_path):
    from edu_recsys.graph.io import write_curriculum
    from edu_recsys.scale.simlog import SimLogParams, curriculum_graph, item_bank, roster

    p = SimLogParams(n_students=90, n_answers=3000, n_items=90, n_concepts=9)
    sim = tmp_path / "sim"
    opts = ["--scheduler", scheduler]
    assert (
        main(
            [
                "batch",
                "simulate",
                str(sim),
                "--answers",
                "3000",
                "--students",
                "90",
                "--items",
                "90",
                "--concepts",
                "9",
                "--rows-per-file",
                "1000",
                *opts,
            ]
        )
        == 0
    )
    graph = write_curriculum(curriculum_graph(p), tmp_path / "g.yaml")
    roster(p, class_size=30).to_csv(tmp_path / "roster.csv", index=False)
    bank = item_bank(p)
    bank["concept_ids"] = bank["concept_ids"].map(";".join)
    bank.to_csv(tmp_path / "items.csv", index=False)
    model = tmp_path / "m.joblib"
    assert main(["batch", "fit", str(sim), "--out", str(model), "--model", "best_lr", *opts]) == 0
    common = [
        "--model",
        str(model),
        "--graph",
        str(graph),
        "--roster",
        str(tmp_path / "roster.csv"),
        "--lang",
        "en",
        *opts,
    ]
    assert (
        main(
            [
                "batch",
                "class-reports",
                str(sim),
                "--out",
                str(tmp_path / "cr"),
                "--current-unit",
                "u00",
                *common,
            ]
        )
        == 0
    )
    cr = pd.read_parquet(tmp_path / "cr")
    assert sorted(cr["class_id"]) == ["k00000", "k00001", "k00002"]
    assert json.loads(cr["json"].iloc[0])["summary"]["n_students"] == 30
    assert (
        main(
            [
                "batch",
                "homework",
                str(sim),
                "--out",
                str(tmp_path / "hw"),
                "--items",
                str(tmp_path / "items.csv"),
                "--grade",
                "8",
                *common,
            ]
        )
        == 0
    )
    hw = json.loads(pd.read_parquet(tmp_path / "hw")["json"].iloc[0])
    assert hw["budget"]["budget_minutes"] == 90
    assert {s["student_id"] for s in hw["summary"]} <= {f"s{i:02d}" for i in range(90)}

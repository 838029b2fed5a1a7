"""``edu-recsys bench mastery`` on small fold files (the JSON contract)."""

from __future__ import annotations

import gzip
import json

import pytest

from edu_recsys.cli import main


def _write_folds(sim, folder):
    folder.mkdir()
    students = sim["student_id"].unique()
    for k in range(5):
        lines = []
        for i, sid in enumerate(students[k::5]):
            rows = sim[sim["student_id"] == sid]
            lines.append(f"{i},{sid[1:]}")
            # 4-line format: problems / skills / answers, one row per concept
            items, skills, answers = [], [], []
            for item, cs, y in zip(rows["item_id"], rows["concept_ids"], rows["correct"]):
                for c in cs:
                    items.append(item[1:])
                    skills.append(c[1:])
                    answers.append(str(y))
            lines += [",".join(items), ",".join(skills), ",".join(answers)]
        with gzip.open(folder / f"toy_test{k + 1}.csv.gz", "wt") as fh:
            fh.write("\n".join(lines) + "\n")


def test_bench_writes_the_contract_json(sim, tmp_path, capsys):
    folder = tmp_path / "toy_folds"
    _write_folds(sim, folder)
    out = tmp_path / "res.json"
    code = main(
        [
            "bench",
            "mastery",
            "--folds-dir",
            str(folder),
            "--models",
            "best_lr,bkt",
            "--json",
            str(out),
        ]
    )
    assert code == 0
    res = json.loads(out.read_text())
    assert res["dataset"] == "toy_folds"
    assert res["rows"] > res["answers"] > 0
    assert set(res["models"]) == {"best_lr", "bkt"}
    for r in res["models"].values():
        for key in ("auc", "auc_folds", "rmse", "logloss", "fit_s", "predict_s", "peak_mem_mb"):
            assert key in r, key
        assert len(r["auc_folds"]) == 5
        assert 0.5 < r["auc"] < 1
        assert "auc_rows" in r
    printed = capsys.readouterr().out
    assert "best_lr" in printed and "auc" in printed


def test_bench_rejects_unknown_models(sim, tmp_path, capsys):
    folder = tmp_path / "toy_folds"
    _write_folds(sim, folder)
    assert main(["bench", "mastery", "--folds-dir", str(folder), "--models", "nope"]) == 2
    assert "unknown model(s) nope" in capsys.readouterr().err


def test_bench_bad_folder_is_a_one_line_error(tmp_path, capsys):
    assert main(["bench", "mastery", "--folds-dir", str(tmp_path / "none")]) == 2
    assert "error" in capsys.readouterr().err


@pytest.mark.parametrize("flag", ["--leaky-rows"])
def test_bench_leaky_flag_is_labelled(sim, tmp_path, flag):
    folder = tmp_path / "toy_folds"
    _write_folds(sim, folder)
    out = tmp_path / "res.json"
    main(
        [
            "bench",
            "mastery",
            "--folds-dir",
            str(folder),
            "--models",
            "best_lr",
            "--folds",
            "1",
            "--no-memory",
            flag,
            "--json",
            str(out),
        ]
    )
    res = json.loads(out.read_text())
    assert "LEAKY" in res["protocol"]
    assert len(res["models"]["best_lr"]["auc_folds"]) == 1

"""Metrics, the student-level protocol and segments."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

from edu_recsys.evaluate import (
    StudentKFold,
    accuracy,
    answer_segments,
    auc,
    cross_validate_tracer,
    expected_calibration_error,
    log_loss,
    rmse,
    student_folds,
)
from edu_recsys.mastery import build_answers, make_model


def test_metrics_agree_with_scikit_learn():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 500)
    p = np.clip(rng.random(500) * 0.6 + y * 0.3, 0, 1)
    assert auc(y, p) == pytest.approx(skm.roc_auc_score(y, p))
    assert log_loss(y, p) == pytest.approx(skm.log_loss(y, p))
    assert rmse(y, p) == pytest.approx(np.sqrt(skm.mean_squared_error(y, p)))
    assert accuracy(y, p) == pytest.approx(skm.accuracy_score(y, p >= 0.5))
    assert np.isnan(auc([1, 1], [0.2, 0.3]))
    # perfectly calibrated bins have zero ECE, a constant offset shows up
    assert expected_calibration_error([0, 1] * 50, [0.5] * 100) == pytest.approx(0.0)
    assert expected_calibration_error([1] * 100, [0.7] * 100) == pytest.approx(0.3)


def test_student_folds_are_disjoint_by_student(sim):
    f = student_folds(sim, n_splits=4, random_state=1)
    per_student = pd.Series(f).groupby(sim["student_id"].to_numpy()).nunique()
    assert (per_student == 1).all()
    assert sorted(set(f.tolist())) == [1, 2, 3, 4]
    # the fold column wins when present
    assert (student_folds(sim.assign(fold=3)) == 3).all()
    splits = list(StudentKFold(n_splits=4, random_state=1).split(sim))
    assert len(splits) == 4
    for tr, te in splits:
        assert not set(sim["student_id"].iloc[tr]) & set(sim["student_id"].iloc[te])


def test_cross_validate_tracer_reports_per_answer_and_per_row(sim_expanded):
    res = cross_validate_tracer(
        make_model("best_lr"), sim_expanded, n_splits=3, measure_memory=True, online=True
    )
    assert len(res["folds"]) == 3 and len(res["auc_folds"]) == 3
    for key in ("auc", "auc_rows", "rmse", "logloss", "ece", "fit_s", "predict_s"):
        assert np.isfinite(res[key]), key
    assert res["peak_mem_mb"] > 0
    assert res["online_updates_per_s"] > 0
    f0 = res["folds"][0]
    assert f0["rows"] > f0["answers"]  # expanded rows count once per answer
    assert set(res["segments"]) == {"first_on_concept", "later_on_concept", "first_10", "after_10"}
    assert res["auc"] > 0.6


def test_segments_cover_every_answer(sim):
    ans = build_answers(sim)
    seg = answer_segments(ans)
    assert (seg["first_on_concept"] ^ seg["later_on_concept"]).all()
    assert (seg["first_10"] ^ seg["after_10"]).all()
    assert seg["first_10"].sum() == sum(min(10, n) for n in sim.groupby("student_id").size())

"""Quality estimation: shrinkage on hand cases, learning gain against matched
controls, the prior of new resources, curation verdicts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edu_recsys.resources import (
    QualityEstimator,
    as_catalogue,
    curation_report,
    estimate_quality,
    usage_gains,
)

T0 = pd.Timestamp("2024-03-01", tz="UTC")


def _cat(ratings=None, usage=None, n=3, curated=()):
    res = [
        {
            "resource_id": f"r{i}",
            "type": "video",
            "concept_ids": "k",
            "is_quality": f"r{i}" in curated,
        }
        for i in range(n)
    ]
    return as_catalogue(res, usage, ratings)


def test_bayesian_average_hand_case():
    # r0: ratings 5, 5 ; r1: one rating 1 ; prior = mean of all = 11/3, strength 2
    ratings = pd.DataFrame(
        {"student_id": ["a", "b", "c"], "resource_id": ["r0", "r0", "r1"], "rating": [5, 5, 1]}
    )
    q = QualityEstimator(rating_strength=2).fit(_cat(ratings)).quality_.set_index("resource_id")
    prior = 11 / 3
    assert q.loc["r0", "rating_bayes"] == pytest.approx((2 * prior + 10) / 4)
    assert q.loc["r1", "rating_bayes"] == pytest.approx((2 * prior + 1) / 3)
    assert q.loc["r2", "rating_bayes"] == pytest.approx(prior)
    assert q.loc["r0", "rating_mean"] == 5 and np.isnan(q.loc["r2", "rating_mean"])
    assert q["n_ratings"].tolist() == [2, 1, 0]
    # an explicit prior replaces the data mean
    q2 = QualityEstimator(rating_prior=3, rating_strength=2, group_by=None).fit(_cat(ratings))
    q2 = q2.quality_
    assert q2["rating_bayes"][0] == pytest.approx((6 + 10) / 4)


def test_completion_shrinkage_hand_case():
    usage = pd.DataFrame(
        {
            "student_id": list("abcdef"),
            "resource_id": ["r0"] * 4 + ["r1"] * 2,
            "completed": [1, 1, 1, 0, 0, 0],
        }
    )
    q = QualityEstimator(completion_strength=4).fit(_cat(usage=usage)).quality_
    prior = 3 / 6
    assert q["completion_rate"][0] == pytest.approx((4 * prior + 3) / 8)
    assert q["completion_rate"][1] == pytest.approx((4 * prior + 0) / 6)
    assert q["completion_rate"][2] == pytest.approx(prior)
    assert q["n_uses"].tolist() == [4, 2, 0]


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(1, 5), min_size=1, max_size=30), st.floats(0.5, 50))
def test_shrunk_rating_lies_between_prior_and_raw_mean(values, strength):
    ratings = pd.DataFrame(
        {"student_id": [f"s{i}" for i in range(len(values))], "resource_id": "r0", "rating": values}
    )
    q = (
        QualityEstimator(rating_prior=3.0, rating_strength=strength)
        .fit(_cat(ratings, n=1))
        .quality_
    )
    raw, b = float(np.mean(values)), q["rating_bayes"][0]
    assert min(raw, 3.0) - 1e-9 <= b <= max(raw, 3.0) + 1e-9


def test_new_resources_get_the_documented_prior_and_flag():
    ratings = pd.DataFrame({"student_id": ["a"], "resource_id": "r0", "rating": [4]})
    est = QualityEstimator(curated_bonus=0.1, curated_strength=10).fit(
        _cat(ratings, curated=("r2",))
    )
    q = est.quality_
    assert q["quality_fallback"].tolist() == ["", "new_resource", "new_resource"]
    assert q["quality"][1] == pytest.approx(est.priors_["quality_prior"])
    # documented: 0.25 * (4 - 1) / 4 + 0.25 * 0.7 + 0.5 * 0.5
    assert est.priors_["quality_prior"] == pytest.approx(0.25 * 0.75 + 0.25 * 0.7 + 0.25)
    assert q["quality"][2] == pytest.approx(est.priors_["quality_prior"] + 0.1)
    unknown = est.quality_for(["r1", "zzz"])
    assert unknown["quality_fallback"].tolist() == ["new_resource", "unknown_resource"]


def test_curated_bonus_fades_with_evidence():
    many = pd.DataFrame(
        {"student_id": [f"s{i}" for i in range(90)], "resource_id": "r0", "rating": 3}
    )
    few = many.head(1)
    qa = estimate_quality(_cat(many, n=1, curated=("r0",)), rating_prior=3)
    qb = estimate_quality(_cat(few, n=1, curated=("r0",)), rating_prior=3)
    base = 0.25 * 0.5 + 0.25 * 0.7 + 0.5 * 0.5
    assert qa["quality"][0] - base == pytest.approx(0.1 * 10 / 100)
    assert qb["quality"][0] - base == pytest.approx(0.1 * 10 / 11)


def test_group_prior_pools_resources_of_a_type():
    res = [
        {"resource_id": "v1", "type": "video"},
        {"resource_id": "v2", "type": "video"},
        {"resource_id": "e1", "type": "exercise_set"},
        {"resource_id": "e2", "type": "exercise_set"},
    ]
    ratings = pd.DataFrame(
        {
            "student_id": [f"s{i}" for i in range(8)],
            "resource_id": ["v1"] * 4 + ["e1"] * 4,
            "rating": [5, 5, 5, 5, 1, 1, 1, 1],
        }
    )
    est = QualityEstimator(rating_strength=4).fit(as_catalogue(res, ratings=ratings))
    q = est.quality_.set_index("resource_id")
    # global prior 3; video pool (4 * 3 + 20) / 8 = 4; exercise pool (12 + 4) / 8 = 2
    assert q.loc["v2", "rating_bayes"] == pytest.approx(4.0)
    assert q.loc["e2", "rating_bayes"] == pytest.approx(2.0)
    assert q.loc["v1", "rating_bayes"] == pytest.approx((4 * 4.0 + 20) / 8)
    assert q.loc["v2", "quality_fallback"] == "new_resource"
    assert q.loc["v2", "quality"] > q.loc["e2", "quality"]
    assert est.priors_["by_group"]["video"] == pytest.approx(q.loc["v2", "quality"])
    flat = QualityEstimator(rating_strength=4, group_by=None).fit(
        as_catalogue(res, ratings=ratings)
    )
    assert flat.quality_["rating_bayes"][1] == pytest.approx(3.0)


def _learning_log(effect: float, n_users=30, n_ctrl=30, seed=0):
    """Users of r0 answer concept k after the use with success 0.5 + effect; everybody
    else (and before the use) at 0.5."""
    rng = np.random.default_rng(seed)
    rows, usage = [], []
    for i in range(n_users + n_ctrl):
        sid = f"s{i}"
        user = i < n_users
        for j in range(8):
            p = 0.5 + (effect if user and j >= 3 else 0.0)
            rows.append((sid, f"q{j}", ("k",), int(rng.random() < p), T0 + pd.Timedelta(minutes=j)))
        if user:
            usage.append((sid, "r0", T0 + pd.Timedelta(minutes=2, seconds=30)))
    ia = pd.DataFrame(
        rows, columns=["student_id", "item_id", "concept_ids", "correct", "timestamp"]
    )
    us = pd.DataFrame(usage, columns=["student_id", "resource_id", "timestamp"])
    return ia, us


def test_learning_gain_against_matched_controls():
    ia, us = _learning_log(effect=0.4)
    cat = _cat(usage=us, n=2)
    g = usage_gains(cat, ia, window=5)
    assert len(g) == 30 and (g["resource_id"] == "r0").all()
    est = QualityEstimator(gain_strength=10, group_by=None).fit(cat, ia)
    q = est.quality_.set_index("resource_id")
    assert q.loc["r0", "n_gain"] == 30
    assert 0.25 < q.loc["r0", "gain_raw"] < 0.55
    assert q.loc["r0", "gain_ci_low"] > 0
    assert q.loc["r0", "gain"] == pytest.approx(30 / 40 * q.loc["r0", "gain_raw"])
    assert q.loc["r1", "n_gain"] == 0 and q.loc["r1", "gain"] == 0
    assert q.loc["r0", "quality"] > q.loc["r1", "quality"]
    # no effect: the interval covers 0
    ia0, us0 = _learning_log(effect=0.0, seed=1)
    q0 = QualityEstimator().fit(_cat(usage=us0, n=1), ia0).quality_
    assert q0["gain_ci_low"][0] < 0 < q0["gain_ci_high"][0]


def test_curation_report_verdicts_and_order():
    ia, us = _learning_log(effect=0.4)
    ia_bad, us_bad = _learning_log(effect=-0.35, seed=3)
    us_bad["resource_id"] = "r1"
    ia_bad["student_id"] = "b" + ia_bad["student_id"]
    us_bad["student_id"] = "b" + us_bad["student_id"]
    ia_all = pd.concat([ia, ia_bad], ignore_index=True)
    cat = _cat(usage=pd.concat([us, us_bad]), n=3, curated=("r1",))
    q = QualityEstimator().fit(cat, ia_all).quality_
    rep = curation_report(q, cat, min_evidence=10)
    assert rep["resource_id"].tolist() == ["r0", "r1", "r2"]
    assert rep["verdict"].tolist() == ["select", "weak", "watch"]
    assert rep["verdict_text"][0] == "推荐入选精品课程"
    assert rep["review_selection"].tolist() == [False, True, False]
    assert rep["confidence"][0] == "high" and rep["confidence"][2] == "low"
    assert f"{q.set_index('resource_id').loc['r0', 'gain_raw']:+.3f}" in rep["reason"][0]
    en = curation_report(q, cat, lang="en")
    assert en["verdict_text"][1] == "improve or withdraw" and "learning gain" in en["reason"][0]

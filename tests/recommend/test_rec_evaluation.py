"""Offline evaluation: ranking metrics, the leak-free hold-out protocol, the simulator
protocol (tiny settings), latency helper and the ``bench recommend`` command."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from edu_recsys.recommend import make_recommender
from edu_recsys.recommend.offline import (
    accuracy_mastery,
    holdout_ranking_eval,
    ndcg_at_k,
    recall_at_k,
)
from edu_recsys.resources import as_catalogue

T0 = pd.Timestamp("2024-01-01", tz="UTC")


def test_ndcg_and_recall_hand_cases():
    assert ndcg_at_k(["a", "b"], {"a", "b"}, 2) == pytest.approx(1.0)
    assert ndcg_at_k(["x", "a"], {"a"}, 2) == pytest.approx(1 / np.log2(3))
    assert ndcg_at_k(["x", "y"], {"a"}, 2) == 0.0
    assert recall_at_k(["a", "x", "b"], {"a", "b"}, 1) == 0.5
    assert np.isnan(recall_at_k(["a"], set()))


def test_accuracy_mastery_shrinks_to_prior():
    ia = pd.DataFrame(
        {"student_id": ["s"] * 4, "concept_ids": [("a",)] * 4, "correct": [1, 1, 1, 1]}
    )
    m = accuracy_mastery(ia, prior=0.5, strength=4)
    assert m["mastery"][0] == pytest.approx((4 + 2) / 8) and m["evidence"][0] == 4


def test_holdout_protocol_uses_only_the_past(catalogue, graph):
    # two students watch a0 then later b1; the held-out item is b1 for each
    res = catalogue.resources
    usage = pd.DataFrame(
        {
            "student_id": ["u1", "u1", "u2", "u2"],
            "resource_id": ["a0", "b1", "a0", "b1"],
            "timestamp": [T0, T0 + pd.Timedelta(days=5), T0, T0 + pd.Timedelta(days=6)],
        }
    )
    ia = pd.DataFrame(
        {
            "student_id": ["u1", "u2", "u1"],
            "item_id": ["q1", "q1", "q2"],
            "concept_ids": [("a",), ("a",), ("b",)],
            "correct": [1, 1, 0],
            "timestamp": [T0, T0, T0 + pd.Timedelta(days=10)],
        }
    )
    cat = as_catalogue(res, usage)
    seen_fits = []

    def make(policy):
        rec = make_recommender(policy, graph)
        orig = rec.fit

        def fit(c, m=None, **kw):
            seen_fits.append((c.usage["timestamp"].max(), kw["interactions"]["timestamp"].max()))
            return orig(c, m, **kw)

        rec.fit = fit
        return rec

    out = holdout_ranking_eval(cat, ia, make, ["popularity"], k=5)
    assert out["students"][0] == 2 and out["held_out"][0] == 2
    # each fit saw only rows strictly before its student's split (u1: day 5, u2: day 6)
    for (last_use, last_answer), day in zip(seen_fits, (5, 6)):
        assert last_use < T0 + pd.Timedelta(days=day)
        assert last_answer < T0 + pd.Timedelta(days=day)
    assert seen_fits[1][0] == T0 + pd.Timedelta(days=5)  # u1's later use is u2's past
    assert 0 <= out["ndcg_at_5"][0] <= 1 and 0 < out["coverage"][0] <= 1


@pytest.fixture(scope="module")
def tiny_sim():
    from edu_recsys.recommend.simulation import simulate_policies

    return simulate_policies(
        policies=("default", "random"),
        n_students=12,
        steps=3,
        n_history=30,
        history_steps=3,
        random_state=5,
    )


def test_simulation_protocol_shape_and_sense(tiny_sim):
    r = tiny_sim
    assert r.students == 12 and r.steps == 3 and "math-7-9" in r.env
    for p in ("default", "random"):
        v = r.policies[p]
        lo, hi = v["gain_per_minute_ci"]
        assert lo <= v["gain_per_minute"] <= hi
        assert v["minutes"] > 0 and len(r.per_student[p]) == 12
    assert r.settings["history_uses"] > 0


def test_simulation_is_seeded(tiny_sim):
    from edu_recsys.recommend.simulation import simulate_policies

    again = simulate_policies(
        policies=("default", "random"),
        n_students=12,
        steps=3,
        n_history=30,
        history_steps=3,
        random_state=5,
    )
    for p in ("default", "random"):
        np.testing.assert_array_equal(again.per_student[p], tiny_sim.per_student[p])


def test_bench_recommend_cli_json_shape(tmp_path, monkeypatch):
    from edu_recsys.cli import main
    from edu_recsys.recommend import latency, simulation

    real_sim = simulation.simulate_policies

    def small(*a, **kw):
        kw.update(n_students=6, steps=2, n_history=12, history_steps=2)
        return real_sim(*a, **kw)

    monkeypatch.setattr(simulation, "simulate_policies", small)
    monkeypatch.setattr(
        latency,
        "measure_latency",
        lambda *a, **kw: {"batch_s": 0.5, "one_student_ms": 3.0},
    )
    out = tmp_path / "r.json"
    code = main(
        ["bench", "recommend", "--seeds", "1", "--no-ranking", "--no-progress", "--json", str(out)]
    )
    assert code == 0
    data = json.loads(out.read_text(encoding="utf-8"))
    assert set(data) == {"env", "students", "steps", "policies", "latency"}
    assert set(data["policies"]) == {
        "default",
        "popularity",
        "random",
        "quality-only",
        "mastery-only",
    }
    for v in data["policies"].values():
        assert set(v) == {"gain_per_minute", "gain_per_minute_ci", "ndcg_at_10"}
        assert len(v["gain_per_minute_ci"]) == 2 and v["ndcg_at_10"] is None
    assert data["latency"] == {"batch_1000x10000_s": 0.5, "one_student_ms": 3.0}


@pytest.mark.realdata
def test_ednet_ranking_eval_runs(data_dir):
    from edu_recsys.recommend.offline import ednet_ranking_eval

    out = ednet_ranking_eval(["popularity", "default"], make_recommender, data_dir=data_dir)
    assert out["students"].tolist() == [5, 5]
    assert out["ndcg_at_10"].between(0, 1).all()

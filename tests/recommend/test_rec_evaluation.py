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
        lambda *a, **kw: {
            "batch_s": 0.5,
            "one_student_ms": 3.0,
            "batch_cpu_s": 0.4,
            "one_student_cpu_ms": 2.0,
        },
    )
    out = tmp_path / "r.json"
    code = main(
        ["bench", "recommend", "--seeds", "1", "--no-ranking", "--no-progress", "--json", str(out)]
    )
    assert code == 0
    data = json.loads(out.read_text(encoding="utf-8"))
    # the contract's keys (extra keys: seeds, settings, ratios, CPU times)
    assert {"env", "students", "steps", "policies", "latency"} <= set(data)
    assert data["seeds"] == [100] and data["settings"]["observer_decay"] == 0.5
    assert set(data["policies"]) == {
        "default",
        "popularity",
        "random",
        "quality-only",
        "mastery-only",
    }
    for v in data["policies"].values():
        assert {"gain_per_minute", "gain_per_minute_ci", "ndcg_at_10"} <= set(v)
        assert len(v["gain_per_minute_ci"]) == 2 and v["ndcg_at_10"] is None
        lo, hi = v["x_popularity_ci"]
        assert lo <= v["x_popularity"] <= hi
    assert data["policies"]["popularity"]["x_popularity"] == pytest.approx(1.0)
    lat = data["latency"]
    assert lat["batch_1000x10000_s"] == 0.5 and lat["one_student_ms"] == 3.0
    assert lat["batch_1000x10000_cpu_s"] == 0.4 and len(lat["load_average"]) == 3


@pytest.mark.realdata
def test_ednet_ranking_eval_runs(data_dir):
    from edu_recsys.recommend.offline import ednet_ranking_eval

    out = ednet_ranking_eval(["popularity", "default"], make_recommender, data_dir=data_dir)
    assert out["students"].tolist() == [5, 5]
    assert out["ndcg_at_10"].between(0, 1).all()


def test_observer_recent_answers_weigh_more():
    from edu_recsys.recommend.simulation import _Observer

    # answers 0, 1, 1 on one concept; prior 0.5, strength 2, decay 0.5:
    # n = (1 * 0.5 + 1) * 0.5 + 1 = 1.75, k = (0 * 0.5 + 1) * 0.5 + 1 = 1.5
    # mastery = (1.5 + 2 * 0.5) / (1.75 + 2) = 0.6667 (decay 1: (2 + 1) / (3 + 2) = 0.6)
    for decay, expected in ((0.5, 2.5 / 3.75), (1.0, 0.6)):
        by_step = _Observer(["s"], ["a"], np.array([0.5]), decay=decay)
        for y in (0, 1, 1):
            by_step.add_arrays(np.array([0]), np.array([0]), np.array([float(y)]))
        table = _Observer(["s", "t"], ["a", "b"], np.array([0.5, 0.5]), decay=decay)
        ia = pd.DataFrame(
            {
                "student_id": ["s", "s", "t", "s"],
                "concept_ids": [("a",), ("a",), ("a",), ("a",)],
                "correct": [0, 1, 0, 1],
            }
        )
        table.add_table(ia)
        assert by_step.mastery()[0, 0] == pytest.approx(expected)
        assert table.mastery()[0, 0] == pytest.approx(expected)
        assert table.mastery()[0, 1] == 0.5 and table.mastery()[1, 0] == pytest.approx(1 / 3)


def test_grade_prior_brings_the_estimate_closer_to_the_truth(tiny_sim):
    from edu_recsys.recommend.simulation import simulate_policies

    flat = simulate_policies(
        policies=("default", "random"),
        n_students=12,
        steps=3,
        n_history=30,
        history_steps=3,
        random_state=5,
        grade_prior=None,
        observer_decay=1.0,
    )
    assert tiny_sim.settings["grade_prior"] == [0.85, 0.15]
    assert flat.settings["grade_prior"] is None
    for p in ("default", "random"):
        assert 0 < tiny_sim.policies[p]["mastery_mae"] < flat.policies[p]["mastery_mae"]


def test_ratio_interval_is_paired():
    from edu_recsys.recommend.simulation import ratio_interval

    rng = np.random.default_rng(0)
    base = rng.lognormal(0, 1, 400)  # learners differ a lot ...
    x = 1.5 * base * rng.lognormal(0, 0.05, 400)  # ... a policy 1.5 x on each of them
    r, (lo, hi) = ratio_interval(x, base)
    assert lo < r < hi and lo > 1.4 and hi < 1.6  # pairing removes the learner spread
    x[:10] = np.nan  # idle learners are left out
    assert np.isfinite(ratio_interval(x, base)[0])


def test_ratio_interval_two_level_covers_world_spread():
    from edu_recsys.recommend.simulation import ratio_interval

    rng = np.random.default_rng(1)
    base = rng.lognormal(0, 1, 600)
    worlds = np.repeat(np.arange(3), 200)
    x = base * np.array([1.2, 1.5, 1.8])[worlds]  # the ratio differs by world
    _, (lo1, hi1) = ratio_interval(x, base)
    _, (lo3, hi3) = ratio_interval(x, base, worlds)
    assert hi3 - lo3 > 2 * (hi1 - lo1)  # the world-to-world spread widens it
    assert lo3 < 1.5 < hi3

"""LearnerEnv and simulate_class (the simulator contract)."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from edu_recsys.data import validate_interactions
from edu_recsys.exceptions import UnknownIdError
from edu_recsys.graph import load_graph
from edu_recsys.simulate import GraphLearnerModel, LearnerEnv, make_item_bank, simulate_class


@pytest.fixture(scope="module")
def math79():
    return load_graph("math-7-9")


@pytest.fixture(scope="module")
def sim(math79):
    return simulate_class(math79, n_students=12, weeks=2, random_state=7)


def _env(half_life=None, seed=0):
    G = nx.DiGraph([("a", "b")])
    m = GraphLearnerModel(G)
    res = pd.DataFrame(
        {
            "resource_id": ["r1"],
            "concept_ids": [("a",)],
            "minutes": [10.0],
            "type": ["video"],
            "difficulty": [0.5],
        }
    )
    return LearnerEnv(
        m,
        ["s1", "s2"],
        np.zeros((2, 2)),
        make_item_bank(G, 3, random_state=0),
        resources=res,
        forgetting_half_life_days=half_life,
        random_state=seed,
    )


def test_contract_fields(sim, math79):
    assert list(sim.items.columns[:4]) == ["item_id", "concept_ids", "difficulty", "minutes"]
    assert sim.true_mastery.shape == (12, math79.number_of_nodes())
    assert sim.true_mastery.to_numpy().min() >= 0 and sim.true_mastery.to_numpy().max() <= 1
    assert len(sim.schedule) == 10  # two school weeks, one concept a day
    assert (sim.students.grade == 8).all()
    clean = validate_interactions(sim.interactions)
    assert len(clean) == len(sim.interactions)
    assert set(sim.interactions.item_id) <= set(sim.items.item_id)


def test_logs_are_realistic(sim):
    ia = sim.interactions
    local = ia.timestamp.dt.tz_convert("Asia/Shanghai")
    assert local.dt.hour.between(19, 23).all()  # evening homework
    assert (local.dt.day_of_week < 5).all()
    for _, g in ia.groupby("student_id"):
        assert g.timestamp.is_monotonic_increasing
    assert ia.duration_s.between(10, 3600).all()
    assert 0.4 < ia.correct.mean() < 0.95


def test_taught_concepts_improve(sim):
    taught = list(sim.schedule.concept_id)
    assert sim.true_mastery[taught].mean().mean() > sim.initial_mastery[taught].mean().mean() + 0.1


def test_same_seed_same_class(math79):
    a = simulate_class(math79, n_students=4, weeks=1, random_state=3)
    b = simulate_class(math79, n_students=4, weeks=1, random_state=3)
    c = simulate_class(math79, n_students=4, weeks=1, random_state=4)
    pd.testing.assert_frame_equal(a.interactions, b.interactions)
    pd.testing.assert_frame_equal(a.true_mastery, b.true_mastery)
    assert not a.interactions.correct.equals(c.interactions.correct) or len(a.interactions) != len(
        c.interactions
    )


def test_step_dispatch_and_unknown_ids():
    env = _env()
    r = env.step("s1", "a#1")
    assert r.kind == "item" and r.correct in (0, 1) and r.gains["a"] > 0
    r = env.step("s1", "r1")
    assert r.kind == "resource" and r.correct is None and r.minutes == 10.0
    assert len(env.resource_log) == 1 and len(env.interactions) == 1
    with pytest.raises(UnknownIdError):
        env.step("s1", "nope")
    with pytest.raises(UnknownIdError):
        env.step("ghost", "a#1")
    with pytest.raises(UnknownIdError):
        env.study("s1", ["zzz"], 5)


def test_forgetting_decays_gains():
    keep, forget = _env(None), _env(10.0)
    for env in (keep, forget):
        env.study("s1", ["a"], 30)
    before = forget.true_mastery().loc["s1", "a"]
    for env in (keep, forget):
        env.advance(days=20)
    assert keep.true_mastery().loc["s1", "a"] == pytest.approx(before)
    after = forget.true_mastery().loc["s1", "a"]
    assert 0.5 < after < before  # decays towards the start (0.5), not below


def test_copy_is_independent():
    env = _env()
    twin = env.copy()
    env.study("s1", ["a"], 30)
    assert twin.true_mastery().loc["s1", "a"] < env.true_mastery().loc["s1", "a"]


def test_class_with_a_catalogue(math79):
    G = math79
    concepts = list(G)[:60]
    res = pd.DataFrame(
        {
            "resource_id": [f"r{i}" for i in range(len(concepts))],
            "concept_ids": [(c,) for c in concepts],
            "minutes": 10.0,
            "type": "video",
            "difficulty": 0.5,
            "is_quality": [i % 3 == 0 for i in range(len(concepts))],
        }
    )
    sim = simulate_class(G, n_students=10, weeks=1, random_state=1, resources=res,
                         grade=7, resource_use_rate=0.8)  # fmt: skip
    log = sim.resource_log
    assert len(log) > 0 and set(log.resource_id) <= set(res.resource_id)
    taught = set(sim.schedule.concept_id)
    assert all(cs[0] in taught for cs in log.concept_ids)
    assert log.groupby("student_id").timestamp.apply(lambda t: t.is_monotonic_increasing).all()

"""KSS rules on hand-checked cases, and the environment's determinism."""

from __future__ import annotations

import math

import numpy as np
import pytest

from edu_recsys.simulate.kss import (
    KSS_DIFFICULTY_ORDER,
    KSS_EDGES,
    KSSEnv,
    KSSModel,
    kss_difficulties,
    kss_graph,
)


def test_graph_is_the_published_dag():
    G = kss_graph()
    assert sorted((int(u), int(v)) for u, v in G.edges) == sorted(KSS_EDGES)
    assert all(d["relation"] == "prerequisite" for *_, d in G.edges(data=True))


@pytest.mark.parametrize("seed", range(5))
def test_difficulties_sorted_along_the_published_order(seed):
    d = kss_difficulties(seed)
    along = d[list(KSS_DIFFICULTY_ORDER)]
    assert np.all(np.diff(along) >= 0)
    assert set(np.unique(d)) <= {0, 1, 2, 3, 4, 5}


def test_prior_values():
    m = KSSModel(np.zeros(10))
    th = m.prior_states(2000, np.random.default_rng(0))
    for i in range(10):
        assert set(np.round(th[:, i] + 0.1 * i, 9)) == {-3.0, -2.0, -1.0, 0.0}


def test_discount_hand_checked():
    m = KSSModel(np.zeros(10))
    th = np.full((1, 10), 1.0)
    th[0, [2, 3, 5]] = 4.0  # prerequisites of 4: deficit 1 each
    inc = 0.5 * (5 - 1.0) / math.exp(3.0)
    new, _ = m.study(th, 4)
    assert new[0, 4] == pytest.approx(1.0 + inc)
    # a root has no discount
    new, _ = m.study(np.full((1, 10), -2.0), 6)
    assert new[0, 6] == pytest.approx(-2.0 + 0.5 * 7.0)


def test_propagation_every_path_and_cap():
    m = KSSModel(np.zeros(10))
    th = np.full((1, 10), 5.0)
    th[0, 2] = 1.0
    th[0, 8] = 0.0
    th[0, 9] = 4.9
    inc = 0.5 * (5 - 1.0) / math.exp(0.0)  # prerequisite 0 at the cap
    new, _ = m.study(th, 2)
    assert new[0, 2] == pytest.approx(1.0 + inc)
    assert new[0, 8] == pytest.approx(0.0 + 0.75 * inc)  # 2->8 and 2->4->8
    assert new[0, 9] == 5.0  # capped
    assert new[0, 4] == 5.0  # already at the cap
    assert new[0, 0] == 5.0  # no upward spread


def test_gate_wastes_a_far_jump_previous_step_reference():
    m = KSSModel(np.zeros(10))
    th = np.full((1, 10), -1.0)
    after5, prev = m.study(th, 5)
    wasted, prev2 = m.study(after5, 0, prev)
    np.testing.assert_array_equal(wasted, after5)
    assert prev2[0] == 0  # the previous step moves the gate even when wasted
    effective, _ = m.study(wasted, 0, prev2)
    assert effective[0, 0] > wasted[0, 0]


def test_gate_effective_reference_keeps_blocking():
    m = KSSModel(np.zeros(10), gate_reference="effective")
    th = np.full((1, 10), -1.0)
    after5, prev = m.study(th, 5)
    wasted, prev2 = m.study(after5, 0, prev)
    assert prev2[0] == 5
    again, _ = m.study(wasted, 0, prev2)
    np.testing.assert_array_equal(again, after5)


def test_gate_neighbourhood_of_4():
    m = KSSModel(np.zeros(10))
    allowed = set(np.flatnonzero(m.allowed(np.array([4]))[0]).tolist())
    # itself, successor 8, predecessors 2,3,5, two hops 0,1, siblings via 5 (9) and 2 (8)
    assert allowed == {0, 1, 2, 3, 4, 5, 8, 9}
    assert m.allowed(np.array([-1]))[0].all()


def test_answer_threshold():
    b = np.arange(10, dtype=float) % 6
    m = KSSModel(b)
    cut = math.log(2) / 8.5
    th = np.tile(b, (2, 1))
    th[0] -= cut - 1e-6
    th[1] -= cut + 1e-6
    assert m.answer(th[:1], np.arange(1)).tolist() == [1]
    assert m.mastered(th[:1]).all() and not m.mastered(th[1:]).any()
    assert m.proba_all(th[:1]).min() >= 0.5 > m.proba_all(th[1:]).max()


def test_env_is_deterministic_and_valid():
    a = KSSEnv(random_state=3).episodes(30)
    b = KSSEnv(random_state=3).episodes(30)
    c = KSSEnv(random_state=4).episodes(30)
    assert [e.history for e in a] == [e.history for e in b]
    assert all(np.array_equal(x.theta, y.theta) for x, y in zip(a, b))
    assert [e.history for e in a] != [e.history for e in c]
    env = KSSEnv(random_state=3)
    for e in env.episodes(50):
        assert 3 <= len(e.targets) <= 10 and len(set(e.targets.tolist())) == len(e.targets)
        assert 0 < len(e.history) <= 20
        assert env.exam(e) < len(e.targets)


def test_warm_up_history_ends_in_the_true_state():
    env = KSSEnv(random_state=5)
    m = env.model
    for e in env.episodes(20):
        last, y = e.history[-1]
        # the last answer was given in the state the episode starts from
        assert m.answer(e.theta[None, :], last)[0] == y
        assert e.prev == last


def test_step_is_deterministic_and_returns_answer():
    env = KSSEnv(random_state=0, warmup_steps=0)
    ep = env.episodes(1)[0]
    x, y = ep.fresh(), ep.fresh()
    for k in [0, 0, 1, 3, 4]:
        assert env.step(x, k) == env.step(y, k)
    np.testing.assert_array_equal(x.theta, y.theta)

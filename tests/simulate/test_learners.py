"""The graph learner model, IRT helpers and item banks."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from edu_recsys.simulate import GraphLearnerModel, irt_ability_for, irt_proba, make_item_bank
from edu_recsys.simulate.learners import concept_difficulty_logit


def test_irt_family():
    th = np.linspace(-3, 3, 7)
    p1 = irt_proba(th, 0.0)
    assert np.all(np.diff(p1) > 0) and p1[3] == 0.5
    p3 = irt_proba(th, 0.0, 2.0, 0.25)
    assert p3.min() > 0.25 and np.all(np.diff(p3) > 0)
    back = irt_ability_for(p3, 0.0, 2.0, 0.25)
    np.testing.assert_allclose(back, th, atol=1e-6)


def _chain():
    G = nx.DiGraph()
    for n in "abcd":
        G.add_node(n, difficulty=0.5, grade=8)
    G.add_edge("a", "b")
    G.add_edge("b", "c")
    G.add_edge("x", "d", any_of="g")
    G.add_edge("y", "d", any_of="g")
    for n in "xy":
        G.nodes[n].update(difficulty=0.5, grade=8)
    return G


def test_weak_prerequisites_shrink_gains_and_gains_spread():
    m = GraphLearnerModel(_chain())
    i = {c: k for k, c in enumerate(m.concepts)}
    th = np.zeros((2, m.n_concepts))
    th[0, i["a"]] = -2.0  # weak prerequisite (success 0.12)
    th[1, i["a"]] = 4.0  # mastered prerequisite
    g = m.gain(th, i["b"])
    assert g[1] > 10 * g[0] > 0
    th = np.zeros((1, m.n_concepts))
    new, _ = m.study(th, i["a"])
    assert new[0, i["b"]] > 0 and new[0, i["c"]] > 0  # two hops
    assert new[0, i["b"]] - th[0, i["b"]] > new[0, i["c"]] - th[0, i["c"]]
    assert new[0, i["d"]] == 0  # unrelated


def test_any_of_one_member_suffices():
    m = GraphLearnerModel(_chain())
    i = {c: k for k, c in enumerate(m.concepts)}
    th = np.zeros((3, m.n_concepts))
    th[0, i["x"]] = 4.0  # one alternative mastered
    th[1, [i["x"], i["y"]]] = 4.0  # both
    g = m.gain(th, i["d"])
    assert g[0] == pytest.approx(g[1])
    assert g[2] < 0.5 * g[0]


def test_more_minutes_more_gain_with_diminishing_returns():
    m = GraphLearnerModel(_chain())
    th = np.zeros((1, m.n_concepts))
    g5, g10, g20 = (m.gain(th, 0, minutes)[0] for minutes in (5, 10, 20))
    assert g5 < g10 < g20 and (g20 - g10) < (g10 - g5)


def test_prior_by_grade_and_determinism():
    from edu_recsys.graph import load_graph

    G = load_graph("math-7-9")
    m = GraphLearnerModel(G, grade=8)
    a = m.prior_states(300, np.random.default_rng(1))
    b = m.prior_states(300, np.random.default_rng(1))
    np.testing.assert_array_equal(a, b)
    mast = m.mastered(a)
    assert mast[:, m.grade_of == 7].mean() > 0.6 > mast[:, m.grade_of == 8].mean()
    assert mast[:, m.grade_of == 8].mean() > mast[:, m.grade_of == 9].mean()


def test_restrict_keeps_dynamics():
    G = _chain()
    m = GraphLearnerModel(G)
    sub = m.restrict(["a", "b", "c"])
    th = np.random.default_rng(0).normal(size=(4, m.n_concepts))
    cols = m.index_of(["a", "b", "c"])
    full, _ = m.study(th, m.index_of(["b"])[0])
    part, _ = sub.study(th[:, cols], sub.index_of(["b"])[0])
    np.testing.assert_allclose(full[:, cols], part)


def test_item_bank():
    G = _chain()
    bank = make_item_bank(G, 5, random_state=1)
    assert len(bank) == 5 * G.number_of_nodes()
    assert bank.item_id.is_unique
    assert set(bank.type) <= {"choice", "fill", "problem"}
    assert (bank.minutes > 0).all()
    np.testing.assert_allclose(bank.irt_b, 4 * (bank.difficulty - 0.5), atol=1e-3)
    two = bank[bank.concept_ids.map(len) == 2]
    assert all(G.has_edge(cs[1], cs[0]) for cs in two.concept_ids)
    assert make_item_bank(G, 5, random_state=1).equals(bank)
    assert concept_difficulty_logit(G, ["a"]).tolist() == [0.0]

"""The math7-9 episode generator: the answers-only tutor protocol (``tutor="answers"``)."""

from __future__ import annotations

import numpy as np
import pytest

from edu_recsys.graph import concepts_needed, load_graph
from edu_recsys.simulate.episodes import Episode
from edu_recsys.simulate.graph_env import GraphPathEnv


@pytest.fixture(scope="module")
def graph():
    return load_graph("math-7-9")


def _warm_up_concepts(env, theta, relevant, answers):
    """The warm-up tutor's choices for a learner in state ``theta`` whose answers are
    forced to ``answers`` (one per step), with the same random draws every time."""
    ep = Episode("x", np.array([relevant[-1]]), [], theta.copy(), -1, 0)
    env._rates["x"] = 1.0
    it = iter(answers)
    original = env._answer
    env._answer = lambda th, k, rng: (next(it), int(env._items_of[k][0]))
    try:
        env._warm_up(ep, relevant, np.random.default_rng(7))
    finally:
        env._answer = original
    return [k for k, _ in ep.history]


@pytest.mark.parametrize("tutor", ["truth", "answers"])
def test_the_warm_up_tutor_reads_the_state_only_in_the_truth_protocol(graph, tutor):
    env = GraphPathEnv(graph, random_state=1, tutor=tutor)
    m = env.model
    relevant = np.arange(40)  # a prefix of learning order: closed under prerequisites
    answers = np.random.default_rng(3).integers(0, 2, env.warmup_steps).tolist()
    weak = m.prior_states(1, np.random.default_rng(0))[0] - 3.0
    strong = weak + 6.0
    a = _warm_up_concepts(env, weak, relevant, answers)
    b = _warm_up_concepts(env, strong, relevant, answers)
    if tutor == "answers":
        assert a == b  # same answers, same choices, whatever the hidden state
    else:
        assert a != b  # the session-1 tutor reads the true success probabilities


@pytest.mark.parametrize("tutor", ["truth", "answers"])
def test_the_target_draw_reads_the_state_only_in_the_truth_protocol(graph, tutor):
    env = GraphPathEnv(graph, random_state=1, tutor=tutor)
    m = env.model
    theta = m.prior_states(1, np.random.default_rng(0))[0]
    draws = [
        env._pick_targets(th, np.random.default_rng(5)).tolist() for th in (theta - 3, theta + 3)
    ]
    assert (draws[0] == draws[1]) == (tutor == "answers")


def test_answers_protocol_episodes(graph):
    env = GraphPathEnv(graph, random_state=3, tutor="answers")
    eps = env.episodes(6)
    again = GraphPathEnv(graph, random_state=3, tutor="answers").episodes(6)
    assert [e.history for e in eps] == [e.history for e in again]
    m = env.model
    for e in eps:
        names = [m.concepts[t] for t in e.targets]
        assert 1 <= len(e.targets) <= 3 and len(e.history) == 20
        assert all(m.grade_of[t] >= 8 for t in e.targets)
        # at most max_needed concepts beyond what the population masters on average
        assert len(concepts_needed(graph, names, env._pop_mastered)) <= env.max_needed
        assert env.exam(e) < len(e.targets)  # E_p is defined


def test_unknown_tutor(graph):
    with pytest.raises(ValueError, match="tutor"):
        GraphPathEnv(graph, tutor="psychic")

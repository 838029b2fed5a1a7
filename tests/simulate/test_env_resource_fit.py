"""LearnerEnv's resource difficulty fit follows the catalogue contract (hand-checked)."""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from edu_recsys.constants import PRODUCTIVE_BAND
from edu_recsys.recommend.scorers import predicted_success
from edu_recsys.simulate import GraphLearnerModel, LearnerEnv, make_item_bank
from edu_recsys.simulate.env import RESOURCE_FIT_CENTRE, resource_difficulty_fit

P_WEAK, P_STRONG = 0.3, 0.85


def _logit(p):
    return math.log(p / (1 - p))


def _env():
    G = nx.DiGraph()
    G.add_node("a")  # difficulty 0.5 -> beta 0, so theta = logit(success on a typical item)
    res = pd.DataFrame(
        {
            "resource_id": ["easy", "hard"],
            "concept_ids": [("a",), ("a",)],
            "minutes": [10.0, 10.0],
            "type": ["video", "video"],
            "difficulty": [0.05, 0.7],
        }
    )
    theta = np.array([[_logit(P_WEAK)], [_logit(P_STRONG)]])
    return LearnerEnv(
        GraphLearnerModel(G),
        ["weak", "strong"],
        theta,
        make_item_bank(G, 2, random_state=0),
        resources=res,
        forgetting_half_life_days=None,
        random_state=0,
    )


def _dtheta(resource):
    env = _env()
    before = env.theta[:, 0].copy()
    env.study("weak", resource_id=resource)
    env.study("strong", resource_id=resource)
    return env.theta[:, 0] - before


def test_fit_numbers_by_hand():
    # weak learner (p = 0.3): logit -0.8473
    #   easy (d 0.05): q = sigmoid(-0.8473 + 4 * 0.45) = sigmoid(0.9527) = 0.7217,
    #                  fit = exp(-(0.7217 - 0.725)^2 / 0.18) = 0.99994
    #   hard (d 0.70): q = sigmoid(-0.8473 - 0.8) = 0.1615, fit = exp(-0.5635^2 / 0.18) = 0.1713
    # strong learner (p = 0.85): logit 1.7346
    #   easy: q = sigmoid(3.5346) = 0.9717, fit = exp(-0.2467^2 / 0.18) = 0.7131
    #   hard: q = sigmoid(0.9346) = 0.7180, fit = 0.99973
    assert RESOURCE_FIT_CENTRE == pytest.approx(0.725)
    fit, q = resource_difficulty_fit([_logit(P_WEAK)] * 2 + [_logit(P_STRONG)] * 2,
                                     [0.05, 0.7, 0.05, 0.7])  # fmt: skip
    np.testing.assert_allclose(q, [0.7217, 0.1615, 0.9717, 0.7180], atol=2e-4)
    np.testing.assert_allclose(fit, [0.99994, 0.1713, 0.7131, 0.99973], atol=2e-4)


def test_env_gains_follow_the_fit():
    # the hidden effectiveness of a resource is the same for both learners, so the
    # ratio strong / weak of the ability gains is sqrt(1 - p_s) / sqrt(1 - p_w)
    # (the learner model's room to learn) times the ratio of the fits
    room = math.sqrt(1 - P_STRONG) / math.sqrt(1 - P_WEAK)  # 0.4629
    easy, hard = _dtheta("easy"), _dtheta("hard")
    assert easy[1] / easy[0] == pytest.approx(room * 0.7131 / 0.99994, rel=1e-3)  # 0.330
    assert hard[1] / hard[0] == pytest.approx(room * 0.99973 / 0.1713, rel=1e-3)  # 2.70
    # pedagogically: the strong learner gains more from the hard resource than the weak
    # one does, and the weak learner gains more from the easy one than from the hard one
    # (the first version, which read the level as 1 - difficulty, had both reversed)
    assert hard[1] > hard[0]
    env = _env()
    eff = env._res_effect  # hidden effectiveness, divided out to compare two resources
    assert easy[0] / eff[0] > hard[0] / eff[1]


def test_simulator_and_recommender_read_difficulty_alike():
    # one-concept resources: the recommender's predicted success is the simulator's q
    p = np.array([0.2, 0.5, 0.7, 0.9], np.float32)
    for d in (0.1, 0.5, 0.8):
        _, q = resource_difficulty_fit(np.log(p / (1 - p)), d)
        np.testing.assert_allclose(predicted_success(p, np.full(4, d)), q, atol=1e-5)
    lo, hi = PRODUCTIVE_BAND
    assert lo < RESOURCE_FIT_CENTRE < hi

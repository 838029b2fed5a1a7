"""The answers-only estimator, the policies in the simulators, and ``bench paths``."""

from __future__ import annotations

import json

import numpy as np
import pytest

from edu_recsys.cli import main
from edu_recsys.paths import ParticleEstimator, evaluate_policies, make_policy
from edu_recsys.simulate.kss import KSSEnv


def test_estimator_learns_the_state_from_answers():
    env = KSSEnv(random_state=2)
    m = env.model
    prior = m.mastered(m.prior_states(5000, np.random.default_rng(0))).mean(axis=0)
    hits, prior_hits = [], []
    for ep in env.episodes(40):
        est = ParticleEstimator(m, n_particles=500, random_state=0)
        est.start(ep.history)
        believed = est.belief(8).mastery(m) >= 0.5
        truth = m.mastered(ep.theta[None, :])[0]
        hits.append(np.mean(believed == truth))
        prior_hits.append(np.mean((prior >= 0.5) == truth))
    assert np.mean(hits) > 0.9
    assert np.mean(hits) > np.mean(prior_hits) + 0.05


def test_estimator_is_deterministic_under_a_seed():
    env = KSSEnv(random_state=2)
    ep = env.episodes(1)[0]
    a, b = (ParticleEstimator(env.model, 300, random_state=5) for _ in range(2))
    a.start(ep.history)
    b.start(ep.history)
    np.testing.assert_array_equal(a.belief(8).particles, b.belief(8).particles)


def test_planner_beats_the_baselines_on_kss():
    out = evaluate_policies(KSSEnv(1), ["default", "random", "topological"], 25, 20)
    ep = {k: v["ep"] for k, v in out["policies"].items()}
    assert ep["default"] > ep["random"] + 0.3
    assert ep["default"] > ep["topological"] + 0.3
    for v in out["policies"].values():
        assert v["ep_ci"][0] <= v["ep"] <= v["ep_ci"][1]
        assert len(v["ep_values"]) == 25


def test_graph_episodes():
    from edu_recsys.graph import load_graph
    from edu_recsys.simulate.graph_env import GraphPathEnv

    G = load_graph("math-7-9")
    env = GraphPathEnv(G, random_state=3)
    eps = env.episodes(5)
    again = GraphPathEnv(G, random_state=3).episodes(5)
    assert [e.history for e in eps] == [e.history for e in again]
    for e in eps:
        assert 1 <= len(e.targets) <= 3
        assert len(e.history) == 20
        assert env.exam(e) < len(e.targets)
        assert all(env.model.grade_of[t] >= 8 for t in e.targets)
    out = evaluate_policies(env, ["default", "greedy-weakest", "oracle"], 3, 4)
    assert set(out["policies"]) == {"default", "greedy-weakest", "oracle"}


def test_unknown_policy():
    with pytest.raises(ValueError, match="unknown policy"):
        make_policy("psychic")


def test_bench_paths_cli_json(tmp_path, capsys):
    path = tmp_path / "paths.json"
    code = main(
        ["bench", "paths", "--env", "kss", "--learners", "4", "--steps", "3",
         "--policies", "default,random,oracle", "--json", str(path), "--no-progress"]
    )  # fmt: skip
    assert code == 0
    out = json.loads(path.read_text())
    assert set(out) == {"env", "learners", "steps", "policies"}
    assert (out["env"], out["learners"], out["steps"]) == ("kss", 4, 3)
    assert set(out["policies"]) == {"default", "random", "oracle"}
    for v in out["policies"].values():
        assert set(v) == {"ep", "ep_ci", "promotion", "ms_per_step"}
        assert len(v["ep_ci"]) == 2
    assert "E_p" in capsys.readouterr().out


@pytest.mark.parametrize(
    "args",
    [
        ["--learners", "0"],
        ["--steps", "0"],
        ["--policies", "default,psychic"],
    ],
)
def test_bench_paths_cli_bad_input(args, capsys):
    code = main(["bench", "paths", "--env", "kss", "--no-progress", *args])
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "error" in err[0]


def test_bench_paths_cli_per_learner(tmp_path, capsys):
    path = tmp_path / "paths.json"
    code = main(
        ["bench", "paths", "--env", "kss", "--learners", "5", "--steps", "3", "--per-learner",
         "--policies", "default,oracle", "--json", str(path), "--no-progress"]
    )  # fmt: skip
    assert code == 0
    out = json.loads(path.read_text())
    vals = {k: np.array(v["ep_values"]) for k, v in out["policies"].items()}
    assert all(len(v) == 5 for v in vals.values())
    for k, v in vals.items():
        assert abs(v.mean() - out["policies"][k]["ep"]) < 1e-3
    printed = capsys.readouterr().out
    diff = (vals["oracle"] - vals["default"]).mean()
    assert f"paired oracle - default: {diff:+.4f}" in printed


def test_bench_paths_cli_tutor(capsys):
    code = main(
        ["bench", "paths", "--env", "math7-9", "--learners", "2", "--steps", "2",
         "--policies", "random", "--tutor", "answers", "--no-progress"]
    )  # fmt: skip
    assert code == 0
    assert "tutor=answers" in capsys.readouterr().out
    # KSS keeps its published rules
    code = main(["bench", "paths", "--env", "kss", "--tutor", "answers", "--no-progress"])
    assert code == 2
    assert "math7-9" in capsys.readouterr().err


def test_believed_share_decides_when_an_uncertain_prerequisite_counts():
    import networkx as nx

    from edu_recsys.paths.belief import Belief
    from edu_recsys.paths.search import PrerequisiteIndex, beam_search
    from edu_recsys.simulate.learners import GraphLearnerModel

    G = nx.DiGraph([("a", "b")])
    m = GraphLearnerModel(G)
    theta = np.zeros((10, 2))
    theta[:, 0] = np.log(0.78 / 0.22)  # just short of mastery in 7 particles of 10
    theta[:3, 0] = np.log(0.85 / 0.15)
    theta[:, 1] = np.log(0.2 / 0.8)
    belief = Belief(theta, np.full(10, 0.1))
    idx = PrerequisiteIndex(G, m.concepts)
    strict = beam_search(m, belief, np.array([1]), np.arange(2), 3, idx, believed=0.5)
    loose = beam_search(m, belief, np.array([1]), np.arange(2), 3, idx, believed=0.2)
    assert strict.sequence[0] == 0  # 30% mastered is not enough: the prerequisite first
    assert loose.sequence[0] == 1  # 30% >= 20%: the target is eligible, and gains more


def test_graph_planner_estimates_the_learning_rate():
    from edu_recsys.graph import load_graph
    from edu_recsys.paths.policies import PlannerPolicy, planner_settings
    from edu_recsys.simulate.graph_env import GraphPathEnv

    env = GraphPathEnv(load_graph("math-7-9"), random_state=3)
    assert env.model.rate_sd > 0
    ep = env.episodes(1)[0]
    settings = planner_settings("math7-9")
    default = PlannerPolicy(**settings)
    default.begin(env, ep.fresh(), 5)
    rates = default._belief().rates
    assert rates is not None and rates.std() > 0  # a spread of plausible rates
    oracle = PlannerPolicy(truth=True, **settings)
    oracle.begin(env, ep.fresh(), 5)
    assert oracle._belief().rates.tolist() == [env.true_rate(ep)]  # the oracle's is true


def test_prior_shift_moves_the_prior_and_survives_moves():
    from edu_recsys.graph import load_graph
    from edu_recsys.simulate.learners import GraphLearnerModel

    m = GraphLearnerModel(load_graph("math-7-9"), grade=8)
    sub = m.restrict(m.concepts[:30])
    shift = np.zeros(sub.n_concepts)
    shift[-1] = -1.0
    plain = ParticleEstimator(sub, 400, random_state=0)
    shifted = ParticleEstimator(sub, 400, random_state=0, prior_shift=shift)
    plain.start()
    shifted.start()
    np.testing.assert_allclose(shifted.theta - plain.theta, np.tile(shift, (400, 1)))
    # after answers and resample-moves every particle still carries the shift
    history = [(sub.n_concepts - 1, 1)] * 12
    shifted.start(history)
    replayed, _ = shifted._replay(shifted.init)
    np.testing.assert_allclose(replayed, shifted.theta)
    unshifted = ParticleEstimator(sub, 400, random_state=0)
    unshifted.history = shifted.history
    base, _ = unshifted._replay(shifted.init)
    assert (replayed[:, -1] < base[:, -1]).all()


def test_only_the_answers_only_planner_shifts_its_prior():
    from edu_recsys.paths.policies import planner_settings

    assert planner_settings("math7-9", "default")["target_prior_shift"] < 0
    assert "target_prior_shift" not in planner_settings("math7-9", "oracle")
    assert "target_prior_shift" not in planner_settings("kss", "default")

"""Seeded simulated learners: demo data, offline evaluation and learning-path benchmarks.

* :func:`simulate_class` — a class of simulated students taught on a subject graph for
  a few weeks: canonical interactions, item bank, hidden true mastery, and a
  :class:`LearnerEnv` to continue stepping (the simulator contract).
* :class:`LearnerEnv` — students answer items (``answer``), study resources or lessons
  (``study``), ``step(student, item_or_resource)``; ``true_mastery()``.
* :class:`GraphLearnerModel` — the learning dynamics on any graph (latent ability per
  concept, gains that shrink with weak prerequisites and spread to dependents).
* :func:`make_item_bank` — seeded item banks; :func:`irt_proba` — 1PL to 3PL.
* :class:`KSSEnv`, :class:`KSSModel` — the Knowledge Structure Simulator of the
  learning-path literature, rebuilt from its rules (:mod:`edu_recsys.simulate.kss`).
* :class:`GraphPathEnv` — the same episode protocol on any subject graph
  (``bench paths --env math7-9``).

>>> from edu_recsys.graph import load_graph
>>> sim = simulate_class(load_graph("math-7-9"), n_students=4, weeks=1, random_state=0)
>>> sim.true_mastery.shape[0], bool(sim.interactions.correct.isin([0, 1]).all())
(4, True)
"""

from edu_recsys.simulate.classroom import SimulatedClass, make_learners, simulate_class
from edu_recsys.simulate.env import LearnerEnv, StepResult
from edu_recsys.simulate.episodes import Episode, PathEnvironment
from edu_recsys.simulate.graph_env import GraphPathEnv
from edu_recsys.simulate.irt import irt_ability_for, irt_proba, sample_responses
from edu_recsys.simulate.items import make_item_bank
from edu_recsys.simulate.kss import KSSEnv, KSSModel, kss_graph
from edu_recsys.simulate.learners import GraphLearnerModel
from edu_recsys.simulate.model import LearnerModel

__all__ = [
    "simulate_class",
    "SimulatedClass",
    "make_learners",
    "LearnerEnv",
    "StepResult",
    "GraphLearnerModel",
    "LearnerModel",
    "make_item_bank",
    "irt_proba",
    "irt_ability_for",
    "sample_responses",
    "KSSEnv",
    "KSSModel",
    "kss_graph",
    "Episode",
    "PathEnvironment",
    "GraphPathEnv",
]

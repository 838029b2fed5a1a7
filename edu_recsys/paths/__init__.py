"""Learning paths (学习路径): plan the best route to target concepts, re-planned on evidence.

* :func:`plan_path` — one call: graph + one student's mastery + targets (+ time budget)
  -> :class:`LearningPath` (ordered :class:`PathStep` objects: concept, items,
  resources, expected gain, minutes, reason in Chinese and English).
* :class:`PathPlanner` — the same, kept alive: ``observe(concept, correct)`` takes in
  each answer and re-plans.
* :class:`ParticleEstimator` / :class:`Belief` — the state estimator that only sees
  answers; :func:`beam_search` — the planning engine.
* :mod:`edu_recsys.paths.policies` and :func:`evaluate_policies` — the planner and the
  baselines (``random``, ``topological``, ``greedy-weakest``, ``oracle``) in the
  simulators of :mod:`edu_recsys.simulate` (``edu-recsys bench paths``).

>>> import networkx as nx
>>> G = nx.DiGraph([("fractions", "ratios"), ("ratios", "percent")])
>>> path = plan_path(G, {"fractions": 0.9, "ratios": 0.5, "percent": 0.2}, "percent")
>>> path.concepts
['ratios', 'percent']
"""

from edu_recsys.paths.belief import Belief, ParticleEstimator
from edu_recsys.paths.evaluate import evaluate_policies, summarise
from edu_recsys.paths.path import STATUSES, LearningPath, PathStep
from edu_recsys.paths.planner import PathPlanner, mastery_mapping, plan_path
from edu_recsys.paths.policies import POLICY_NAMES, Policy, make_policy
from edu_recsys.paths.search import PrerequisiteIndex, SearchResult, beam_search

__all__ = [
    "plan_path",
    "PathPlanner",
    "mastery_mapping",
    "LearningPath",
    "PathStep",
    "STATUSES",
    "Belief",
    "ParticleEstimator",
    "beam_search",
    "SearchResult",
    "PrerequisiteIndex",
    "Policy",
    "make_policy",
    "POLICY_NAMES",
    "evaluate_policies",
    "summarise",
]

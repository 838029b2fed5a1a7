"""Simulated learners on any knowledge graph: the graph learner model.

Each learner has a latent ability ``theta_k`` per concept (logit scale). The success
probability on a *typical* item of concept ``k`` is ``sigmoid(theta_k - beta_k)``, with
the concept's difficulty ``beta_k`` taken from the node's ``difficulty`` (0..1, default
0.5) as ``beta_k = 4 * (difficulty - 0.5)``. A concept is *mastered* when that
probability reaches :data:`edu_recsys.constants.MASTERY_THRESHOLD` (0.8).

Learning. Studying concept ``k`` for ``m`` minutes (an item or a resource) adds ::

    gain = base_gain * rate * time_factor(m) * readiness_k * sqrt(1 - p_k)

to ``theta_k``, where

* ``readiness_k`` is the product over ``k``'s required prerequisites ``q`` of
  ``min(1, p_q / 0.8) ** prereq_power`` (for an any-of group: the best member), so
  gains shrink when prerequisites are weak;
* ``time_factor(m) = (1 - exp(-m / 10)) / (1 - exp(-step_minutes / 10))``: diminishing
  returns within one sitting, 1 for a standard step;
* ``sqrt(1 - p_k)``: less to gain on a concept that is already well known;
* ``rate`` is the learner's own learning rate (1 for the population model).

The gain then spreads to dependent concepts (``spread`` per hop, two hops), as
learning a concept also helps what builds on it. Forgetting (optional, in
:class:`~edu_recsys.simulate.env.LearnerEnv`) relaxes ``theta`` towards its starting
value with a half-life in days.

Initial state (the population prior). ``theta_k = beta_k + offset(grade_k) + g + e_k``
with a general ability ``g ~ N(0, ability_sd)``, a concept-level deviation
``e_k ~ N(0, concept_sd)``, and an offset by the concept's grade relative to the
learners' grade: earlier grades mostly mastered, the current grade partly, later
grades hardly (``grade_offsets``). Concepts are then visited in prerequisite order
and pulled down by the mean shortfall of their prerequisites below mastery, so a
learner weak in a prerequisite is weak in what builds on it.
"""

from __future__ import annotations

from collections.abc import Mapping

import networkx as nx
import numpy as np
from scipy.special import expit

from edu_recsys.constants import MASTERY_THRESHOLD
from edu_recsys.graph import learning_order, prerequisite_groups, prerequisite_view
from edu_recsys.simulate.model import LearnerModel, as_index

__all__ = ["GraphLearnerModel", "concept_difficulty_logit"]

_LOGIT_MASTERY = float(np.log(MASTERY_THRESHOLD / (1 - MASTERY_THRESHOLD)))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return expit(x)


def concept_difficulty_logit(G: nx.DiGraph, concepts) -> np.ndarray:
    """``beta_k = 4 * (difficulty - 0.5)`` from the nodes' ``difficulty`` (default 0.5).

    Examples
    --------
    >>> G = nx.DiGraph(); G.add_node("a", difficulty=0.25); G.add_node("b")
    >>> concept_difficulty_logit(G, ["a", "b"]).tolist()
    [-1.0, 0.0]
    """
    out = []
    for c in concepts:
        d = G.nodes[c].get("difficulty")
        d = 0.5 if d is None or (isinstance(d, float) and np.isnan(d)) else float(d)
        out.append(4.0 * (d - 0.5))
    return np.array(out, dtype=float)


class GraphLearnerModel(LearnerModel):
    """Learning dynamics of simulated learners on a knowledge graph.

    Parameters
    ----------
    G : networkx.DiGraph
        Knowledge graph (prerequisite edges, optional ``any_of`` groups).
    grade : int, optional
        The learners' school grade, for the prior (concepts of earlier grades start
        mostly mastered). None: every concept is treated as current.
    base_gain : float, default 0.6
        Gain in ``theta`` of one standard step (``step_minutes``) at full readiness
        on an unknown concept.
    step_minutes : float, default 5.0
        Minutes of one standard study step (an item with its feedback).
    prereq_power : float, default 2.0
    spread : float, default 0.2
        Share of a gain passed to each direct dependent (its square two hops down).
    ability_sd, concept_sd : float, default 0.8 and 0.6
    grade_offsets : mapping, optional
        ``{"earlier": 2.5, "current": 0.0, "later": -2.0}`` by default.
    concepts : sequence of str, optional
        Restrict the model to these concepts (they must be closed under
        prerequisites for the dynamics to be exact); default all nodes.
    rate_sd : float, default 0.0
        Spread (log scale) of learners' own learning rates in the population. With a
        positive value a state estimator also estimates each learner's rate.
    answer_guessing, answer_slope : float, default 0.0 and 1.0
        The answer model a state estimator assumes (:meth:`answer_loglik`): an item
        drawn from a bank with this average guessing and a spread of difficulties
        (flatter slope). Mastery itself is always about the typical item.

    Examples
    --------
    >>> G = nx.DiGraph([("a", "b")])
    >>> m = GraphLearnerModel(G)
    >>> theta = np.zeros((2, 2)); theta[1, 0] = 3.0  # row 1 knows the prerequisite
    >>> new, _ = m.study(theta, 1)
    >>> bool(new[1, 1] - theta[1, 1] > new[0, 1] - theta[0, 1])  # readiness matters
    True
    >>> new, _ = m.study(np.zeros((1, 2)), 0)
    >>> bool(new[0, 1] > 0)  # the gain spreads to the dependent
    True
    """

    def __init__(
        self,
        G: nx.DiGraph,
        grade: int | None = None,
        *,
        base_gain: float = 0.6,
        step_minutes: float = 5.0,
        prereq_power: float = 2.0,
        spread: float = 0.2,
        ability_sd: float = 0.8,
        concept_sd: float = 0.6,
        grade_offsets: Mapping[str, float] | None = None,
        concepts=None,
        answer_guessing: float = 0.0,
        answer_slope: float = 1.0,
        rate_sd: float = 0.0,
    ) -> None:
        self.graph = G
        P = prerequisite_view(G)
        if concepts is None:
            concepts = list(learning_order(G))
        self.concepts = tuple(concepts)
        pos = {c: i for i, c in enumerate(self.concepts)}
        K = len(self.concepts)
        self.grade = grade
        self.answer_guessing = float(answer_guessing)
        self.answer_slope = float(answer_slope)
        self.rate_sd = float(rate_sd)
        self.base_gain = float(base_gain)
        self.step_minutes = float(step_minutes)
        self.prereq_power = float(prereq_power)
        self.spread = float(spread)
        self.ability_sd = float(ability_sd)
        self.concept_sd = float(concept_sd)
        self.grade_offsets = {"earlier": 2.5, "current": 0.0, "later": -2.0}
        self.grade_offsets.update(grade_offsets or {})
        self.beta = concept_difficulty_logit(G, self.concepts)
        self.mastery_ability = self.beta + _LOGIT_MASTERY
        # required prerequisites as a matrix, any-of groups as (target, members) rows
        self.required = np.zeros((K, K), dtype=bool)
        group_rows: list[np.ndarray] = []
        group_target: list[int] = []
        for c in self.concepts:
            req, groups = prerequisite_groups(G, c)
            for q in req:
                if q in pos:
                    self.required[pos[c], pos[q]] = True
            for members in groups.values():
                row = np.zeros(K, dtype=bool)
                row[[pos[q] for q in members if q in pos]] = True
                if row.any():
                    group_rows.append(row)
                    group_target.append(pos[c])
        self.group_members = np.array(group_rows, dtype=bool).reshape(-1, K)
        self.group_of = np.zeros((K, len(group_rows)), dtype=bool)
        for g, t in enumerate(group_target):
            self.group_of[t, g] = True
        # the same as padded index arrays, so that a study step only touches the
        # studied concept's prerequisites
        req_lists = [np.flatnonzero(self.required[k]) for k in range(K)]
        width = max((len(r) for r in req_lists), default=0)
        self._req_idx = np.zeros((K, width), dtype=np.intp)
        self._req_mask = np.zeros((K, width), dtype=bool)
        for k, r in enumerate(req_lists):
            self._req_idx[k, : len(r)] = r
            self._req_mask[k, : len(r)] = True
        per = [[g for g, t in enumerate(group_target) if t == k] for k in range(K)]
        gmax = max((len(x) for x in per), default=0)
        mmax = max((int(r.sum()) for r in group_rows), default=0)
        self._grp_idx = np.zeros((K, gmax, mmax), dtype=np.intp)
        self._grp_mask = np.zeros((K, gmax, mmax), dtype=bool)
        for k, gs in enumerate(per):
            for j, g in enumerate(gs):
                mem = np.flatnonzero(group_rows[g])
                self._grp_idx[k, j, : len(mem)] = mem
                self._grp_mask[k, j, : len(mem)] = True
        pre = self.required | (self.group_members.T @ self.group_of.T).T.astype(bool)
        self._pull = [(k, np.flatnonzero(pre[k])) for k in range(K) if pre[k].any()]
        A = np.zeros((K, K))
        for u, v in P.edges():
            if u in pos and v in pos:
                A[pos[u], pos[v]] = 1.0
        self.adjacency = A.astype(bool)
        self.weights = np.eye(K) + spread * A + spread**2 * (A @ A)
        self.grade_of = np.array([G.nodes[c].get("grade") or 0 for c in self.concepts])

    # ------------------------------------------------------------------ protocol
    def restrict(self, concepts) -> GraphLearnerModel:
        """The same model on a subset of concepts (closed under prerequisites)."""
        return GraphLearnerModel(
            self.graph,
            self.grade,
            base_gain=self.base_gain,
            step_minutes=self.step_minutes,
            prereq_power=self.prereq_power,
            spread=self.spread,
            ability_sd=self.ability_sd,
            concept_sd=self.concept_sd,
            grade_offsets=self.grade_offsets,
            concepts=[c for c in self.concepts if c in set(concepts)],
            answer_guessing=self.answer_guessing,
            answer_slope=self.answer_slope,
            rate_sd=self.rate_sd,
        )

    def offsets(self) -> np.ndarray:
        """The prior's mean ``theta - beta`` of each concept (by grade)."""
        if self.grade is None:
            return np.full(self.n_concepts, self.grade_offsets["current"])
        g = self.grade_of
        o = self.grade_offsets
        return np.where(
            g < self.grade, o["earlier"], np.where(g == self.grade, o["current"], o["later"])
        )

    def prior_latent(self, n: int, random_state: np.random.Generator) -> np.ndarray:
        """Independent standard-normal latents: the general ability, then one per concept."""
        return random_state.standard_normal(size=(n, self.n_concepts + 1))

    def from_latent(self, z: np.ndarray) -> np.ndarray:
        """States from latents (see the module docstring for the prior)."""
        z = np.atleast_2d(z)
        general = self.ability_sd * z[:, :1]
        own = self.concept_sd * z[:, 1:]
        theta = self.beta + self.offsets() + general + own
        # concepts are in prerequisite order: pull each one down by the mean shortfall
        # of its prerequisites (required ones and any-of members alike)
        for k, qs in self._pull:
            short = np.maximum(0.0, self.mastery_ability[qs] - theta[:, qs]).mean(axis=1)
            theta[:, k] -= 0.5 * short
        return theta

    def prior_states(self, n: int, random_state: np.random.Generator) -> np.ndarray:
        return self.from_latent(self.prior_latent(n, random_state))

    def states_from_mastery(
        self, mastery, n: int, random_state: np.random.Generator, spread: float = 0.4
    ) -> tuple[np.ndarray, list[str]]:
        """``n`` states around given mastery values (success probabilities on typical items).

        ``theta_k = beta_k + logit(p_k) + N(0, spread)`` (``p`` clipped to [0.02, 0.98]).
        **Fallback**: concepts missing from ``mastery`` are drawn from the prior; they
        are returned as the second element so that callers can flag them.

        Examples
        --------
        >>> m = GraphLearnerModel(nx.DiGraph([("a", "b")]))
        >>> th, missing = m.states_from_mastery({"a": 0.9}, 200, np.random.default_rng(0))
        >>> round(float(np.median(m.proba_all(th)[:, 0])), 1), missing
        (0.9, ['b'])
        """
        theta = self.prior_states(n, random_state)
        missing = []
        for k, c in enumerate(self.concepts):
            p = mastery.get(c) if hasattr(mastery, "get") else None
            if p is None or not np.isfinite(p):
                missing.append(c)
                continue
            p = float(np.clip(p, 0.02, 0.98))
            noise = random_state.normal(0.0, spread, n)
            theta[:, k] = self.beta[k] + np.log(p / (1 - p)) + noise
        return theta, missing

    def proba_all(self, theta: np.ndarray) -> np.ndarray:
        """Success probability on a typical item of every concept, ``(B, K)``."""
        return _sigmoid(np.atleast_2d(theta) - self.beta)

    def success_proba(self, theta: np.ndarray, concept: int | np.ndarray) -> np.ndarray:
        theta = np.atleast_2d(theta)
        k = as_index(theta.shape[0], concept)
        return _sigmoid(theta[np.arange(theta.shape[0]), k] - self.beta[k])

    def mastered(self, theta: np.ndarray) -> np.ndarray:
        return np.atleast_2d(theta) >= self.mastery_ability

    def answer_loglik(self, theta, concept, correct, item=None) -> np.ndarray:
        """log P(answer), for estimation.

        With ``item = (concept indices, difficulty offset, discrimination, guessing)``
        (a calibrated bank item): its 3PL on the mean ``theta - beta`` of its concepts.
        Without: an item of the concept drawn from a bank,
        ``answer_guessing + (1 - answer_guessing) * sigmoid(answer_slope * (theta - beta))``
        (the bank's average guessing, and a flatter slope for its spread of difficulty).
        """
        theta = np.atleast_2d(theta)
        if item is not None:
            cols, delta, a, c = item
            cols = np.asarray(cols, dtype=np.intp)
            z = a * ((theta[:, cols] - self.beta[cols]).mean(axis=1) - delta)
            p = np.clip(c + (1 - c) * expit(z), 1e-6, 1 - 1e-6)
            return np.where(np.asarray(correct) == 1, np.log(p), np.log1p(-p))
        k = as_index(theta.shape[0], concept)
        z = self.answer_slope * (theta[np.arange(theta.shape[0]), k] - self.beta[k])
        c = self.answer_guessing
        p = np.clip(c + (1 - c) * expit(z), 1e-6, 1 - 1e-6)
        return np.where(np.asarray(correct) == 1, np.log(p), np.log1p(-p))

    def progress(self, theta: np.ndarray) -> np.ndarray:
        """Progress of each concept in [0, 1]: ``theta - beta`` from -3 (success 0.05) up
        to mastery, linearly. It stops at mastery because readiness does: a prerequisite
        known beyond mastery does not speed up its dependents in this model."""
        return np.clip((np.asarray(theta) - self.beta + 3.0) / (3.0 + _LOGIT_MASTERY), 0.0, 1.0)

    def readiness(self, theta: np.ndarray) -> np.ndarray:
        """``(B, K)``: how ready each row is to learn each concept (0..1)."""
        theta = np.atleast_2d(theta)
        p = self.proba_all(theta)
        r = np.minimum(1.0, p / MASTERY_THRESHOLD) ** self.prereq_power
        logr = np.log(np.maximum(r, 1e-12))
        out = logr @ self.required.T.astype(float)
        if self.group_members.shape[0]:
            best = np.where(self.group_members[None, :, :], logr[:, None, :], -np.inf).max(axis=2)
            out = out + best @ self.group_of.T.astype(float)
        return np.exp(out)

    def gain(
        self,
        theta: np.ndarray,
        concept: int | np.ndarray,
        minutes: float | np.ndarray | None = None,
        rate: float | np.ndarray = 1.0,
    ) -> np.ndarray:
        """Gain in ``theta_k`` of studying ``concept`` (before spreading), per row."""
        theta = np.atleast_2d(theta)
        B = theta.shape[0]
        k = as_index(B, concept)
        rows = np.arange(B)

        def logr(cols: np.ndarray) -> np.ndarray:  # log readiness of prerequisite columns
            p = expit(theta[rows.reshape((-1,) + (1,) * (cols.ndim - 1)), cols] - self.beta[cols])
            return self.prereq_power * np.log(np.minimum(1.0, p / MASTERY_THRESHOLD) + 1e-300)

        # padded prerequisite lists: only the studied concept's prerequisites are touched
        lr = np.where(self._req_mask[k], logr(self._req_idx[k]), 0.0).sum(axis=1)
        if self._grp_idx.shape[1]:
            member = np.where(self._grp_mask[k], logr(self._grp_idx[k]), -np.inf).max(axis=2)
            lr += np.where(self._grp_mask[k].any(axis=2), member, 0.0).sum(axis=1)
        if minutes is None:
            tf = 1.0
        else:
            m = np.asarray(minutes, dtype=float)
            tf = (1 - np.exp(-m / 10.0)) / (1 - np.exp(-self.step_minutes / 10.0))
        pk = expit(theta[rows, k] - self.beta[k])
        return self.base_gain * rate * tf * np.exp(lr) * np.sqrt(1.0 - pk)

    def study(self, theta, concept, prev=None, minutes=None, rate=1.0):
        theta = np.atleast_2d(theta)
        k = as_index(theta.shape[0], concept)
        g = self.gain(theta, k, minutes, rate)
        return theta + g[:, None] * self.weights[k], k.copy()

"""Beam search over study sequences on a particle belief (the planner's engine).

Every node of the search is a sequence of study steps applied to all particles of the
belief at once. Nodes are scored by the expected number of targets mastered plus a
small reward for progress on the relevant concepts (strong prerequisites multiply
later gains, and that is what a short horizon would otherwise miss). The best
``beam_width`` nodes are expanded at each depth up to the horizon (the steps left),
and the first step of the best complete sequence is the one to take now. All nodes
and particles of one depth go through the learner model in one vectorised call.

Pruning comes from the graph, in two ways. Only *relevant* concepts are candidates
(the targets and their prerequisite closure), and a candidate is *eligible* at a node
only when its prerequisites are mastered there (any-of groups: one member suffices):
mastered at the start, or studied earlier in the node's sequence and believed mastered
now (at least half of the belief's weight). So the search only ever expands
the frontier, and a path never puts a concept before an unmastered prerequisite. A
node whose targets are all mastered with high probability (``confident``), or that
has no eligible concept left, stops (its sequence ends early). The one exception is a
model with a gate (KSS): the concepts the gate allows are candidates too, as moves
towards eligible concepts the gate would otherwise keep out of reach.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np

from edu_recsys.graph import prerequisite_groups
from edu_recsys.paths.belief import Belief
from edu_recsys.simulate.model import LearnerModel

__all__ = ["SearchResult", "PrerequisiteIndex", "beam_search"]

_STOP = -1


@dataclass
class SearchResult:
    """The best study sequence found.

    Attributes
    ----------
    sequence : ndarray of int
        Concept indices in study order (may be shorter than the horizon).
    expected_mastered : ndarray of float
        Expected number of targets mastered after each step.
    mastery : ndarray of float, shape (len(sequence) + 1, K)
        Believed probability that each concept is mastered before the first step
        (row 0) and after each step.
    success : ndarray of float, shape (len(sequence) + 1, K)
        Expected success probability on each concept's typical item at the same moments.
    """

    sequence: np.ndarray
    expected_mastered: np.ndarray
    mastery: np.ndarray
    success: np.ndarray


class PrerequisiteIndex:
    """The prerequisite structure of the model's concepts as matrices (any-of aware).

    Examples
    --------
    >>> G = nx.DiGraph([("a", "c")])
    >>> G.add_edge("x", "c", any_of="g"); G.add_edge("y", "c", any_of="g")
    >>> idx = PrerequisiteIndex(G, ["a", "x", "y", "c"])
    >>> ok = np.array([[True, True, False, False], [True, False, False, False]])
    >>> idx.eligible(ok).tolist()
    [[True, True, True, True], [True, True, True, False]]
    """

    def __init__(self, G: nx.DiGraph, concepts) -> None:
        concepts = list(concepts)
        pos = {c: i for i, c in enumerate(concepts)}
        K = len(concepts)
        self.required = np.zeros((K, K))
        rows, targets = [], []
        for c in concepts:
            req, groups = prerequisite_groups(G, c)
            for q in req:
                if q in pos:
                    self.required[pos[c], pos[q]] = 1.0
            for members in groups.values():
                r = np.zeros(K)
                r[[pos[q] for q in members if q in pos]] = 1.0
                if r.any():
                    rows.append(r)
                    targets.append(pos[c])
        self.members = np.array(rows).reshape(-1, K)
        # direct[v, q] = 1 when q is a direct prerequisite of v (any kind)
        self.direct = self.required.copy()
        for r, t in zip(rows, targets):
            self.direct[t] = np.maximum(self.direct[t], r)
        self.group_of = np.zeros((K, len(rows)))
        self.group_of[targets, np.arange(len(rows))] = 1.0

    def eligible(self, ok: np.ndarray) -> np.ndarray:
        """``(N, K)``: prerequisites met, given ``ok`` (N, K) = which concepts count as mastered."""
        missing = (~ok).astype(float) @ self.required.T > 0
        if self.members.shape[0]:
            group_met = ok.astype(float) @ self.members.T > 0
            missing |= (~group_met).astype(float) @ self.group_of.T > 0
        return ~missing


def beam_search(
    model: LearnerModel,
    belief: Belief,
    targets: np.ndarray,
    relevant: np.ndarray,
    horizon: int,
    prereqs: PrerequisiteIndex,
    *,
    beam_width: int = 16,
    progress_weight: float = 0.2,
    confident: float = 0.95,
    switch_penalty: float = 0.01,
    start_mastered: np.ndarray | None = None,
    valued: np.ndarray | None = None,
    max_candidates: int | None = None,
    believed: float = 0.5,
) -> SearchResult:
    """Find a good study sequence of at most ``horizon`` steps for the believed learner.

    Parameters
    ----------
    model : LearnerModel
    belief : Belief
        ``P`` weighted particles over the model's ``K`` concepts.
    targets : array of int
    relevant : array of int
        Candidate concepts (the targets and their prerequisites).
    horizon : int
    prereqs : PrerequisiteIndex
        Of the model's concepts.
    beam_width : int, default 16
    progress_weight : float, default 0.2
        Weight of the progress term (per relevant concept, progress in [0, 1]).
    confident : float, default 0.95
        A node stops once every target is mastered with at least this probability.
    switch_penalty : float, default 0.01
        Subtracted per change of concept between consecutive steps: among nearly equal
        sequences, the one that finishes a concept before moving on (easier to follow).
    valued : array of int, optional
        Concepts whose progress counts (default: ``relevant``). Leave out the
        alternatives of an any-of group that the route does not need.
    max_candidates : int, optional
        Expand at most this many eligible concepts per node: those with the largest
        quick gain (``model.gain`` on the node's mean state) times the chance that the
        concept is not mastered yet. Default: all eligible concepts.
    believed : float, default 0.5
        A concept counts as mastered (for its dependents' eligibility) when at least
        this share of the belief's weight masters it.
    start_mastered : array of bool, shape (K,), optional
        Concepts mastered at the start (default: believed mastered, see ``believed``).

    Returns
    -------
    SearchResult
    """
    targets = np.asarray(targets, dtype=np.intp)
    relevant = np.asarray(relevant, dtype=np.intp)
    valued = relevant if valued is None else np.asarray(valued, dtype=np.intp)
    P, K = belief.particles.shape
    w = belief.weights
    horizon = max(int(horizon), 0)
    is_cand = np.zeros(K, dtype=bool)
    is_cand[relevant] = True
    gated = not model.allowed(np.arange(-1, K)).all()

    def mastery_of(th: np.ndarray) -> np.ndarray:  # (N, P, K) -> (N, K)
        N = th.shape[0]
        return np.einsum("npk,p->nk", model.mastered(th.reshape(N * P, K)).reshape(N, P, K), w)

    theta = belief.particles[None, :, :]
    prev = np.full((1, P), belief.prev, dtype=np.intp)
    if start_mastered is None:
        start_mastered = mastery_of(theta)[0] >= believed
    start_mastered = np.asarray(start_mastered, dtype=bool)
    studied = np.zeros((1, K), dtype=bool)
    mast = mastery_of(theta)
    seqs = np.zeros((1, 0), dtype=np.intp)
    # a fixed random projection hashes a node's (mean state, gate) to one float
    mix = np.random.default_rng(12345).random(K) + 0.5
    score = np.zeros(1)
    switches = np.zeros(1)
    mean_now = w @ belief.particles[None, :, :][0]  # (K,) -> broadcast below
    mean_now = mean_now[None, :]
    for _depth in range(horizon):
        believed_now = mast >= believed
        done = (mast[:, targets] >= confident).all(axis=1)
        ok = start_mastered | (believed_now & studied)
        # a concept already mastered with confidence is only worth studying again when
        # it is a direct prerequisite of a relevant concept not yet mastered
        firm = mast >= confident
        useful = ~firm | ((~firm).astype(float) @ prereqs.direct > 0)
        elig = prereqs.eligible(ok) & is_cand & useful & ~done[:, None]
        if gated:
            # a gate (KSS) can put the eligible concepts out of reach: the concepts it
            # allows are candidates too, as moves towards them
            elig |= model.allowed(prev[:, 0]) & is_cand & ~done[:, None]
        stop = ~elig.any(axis=1)  # finished, or nothing eligible: the sequence ends
        node_idx, act = np.nonzero(elig)
        if len(node_idx) == 0:
            break
        if max_candidates is not None and (elig.sum(axis=1) > max_candidates).any():
            # keep each node's most promising candidates: quick gain on the node's
            # mean state, times the chance that the concept is not yet mastered
            quick = model.gain(mean_now[node_idx], act) * (1.0 - mast[node_idx, act])
            order = np.lexsort((-quick, node_idx))
            node_idx, act = node_idx[order], act[order]
            starts = np.searchsorted(node_idx, node_idx, side="left")
            rank = np.arange(len(node_idx)) - starts
            node_idx, act = node_idx[rank < max_candidates], act[rank < max_candidates]
        M = len(node_idx)
        th = theta[node_idx].reshape(M * P, K)
        pv = prev[node_idx].reshape(M * P)
        th, pv = model.study(th, np.repeat(act, P), pv, **belief.study_kwargs(M))
        th = th.reshape(M, P, K)
        pv = pv.reshape(M, P)
        new_mast = mastery_of(th)
        # progress of the believed mean state (progress is nearly linear in the state)
        mean_th = np.einsum("mpk,p->mk", th, w)
        prog = model.progress(mean_th)[:, valued].sum(axis=1)
        last = seqs[node_idx, -1] if seqs.shape[1] else np.full(M, -2)
        new_switches = switches[node_idx] + (act != last)
        new_score = (
            new_mast[:, targets].sum(axis=1)
            + progress_weight * prog
            - switch_penalty * new_switches
        )
        new_studied = studied[node_idx].copy()
        new_studied[np.arange(M), act] = True
        new_seqs = np.concatenate([seqs[node_idx], act[:, None]], axis=1)
        # stopped nodes carry over unchanged (their sequence padded with STOP)
        s = np.flatnonzero(stop)
        if len(s):
            mean_th = np.concatenate([mean_th, np.einsum("mpk,p->mk", theta[s], w)])
            th = np.concatenate([th, theta[s]])
            pv = np.concatenate([pv, prev[s]])
            new_mast = np.concatenate([new_mast, mast[s]])
            new_score = np.concatenate([new_score, score[s]])
            new_switches = np.concatenate([new_switches, switches[s]])
            new_studied = np.concatenate([new_studied, studied[s]])
            pad = np.full((len(s), 1), _STOP, dtype=np.intp)
            new_seqs = np.concatenate([new_seqs, np.concatenate([seqs[s], pad], axis=1)])
        total = len(new_score)
        top = min(total, 4 * beam_width)
        order = np.argpartition(-new_score, top - 1)[:top] if top < total else np.arange(total)
        order = order[np.argsort(-new_score[order], kind="stable")]
        # drop duplicate states (many sequences reach the same one), keep the best
        key = np.round(mean_th[order], 9) @ mix
        key = key + 1e-3 * np.pi * pv[order, 0]
        _, first = np.unique(key, return_index=True)
        keep = order[np.sort(first)][:beam_width]
        theta, prev, mast = th[keep], pv[keep], new_mast[keep]
        mean_now = mean_th[keep]
        score, studied, seqs = new_score[keep], new_studied[keep], new_seqs[keep]
        switches = new_switches[keep]
    final = mast[:, targets].sum(axis=1)
    best = int(np.argmax(final + 1e-3 * score)) if len(final) else 0
    seq = seqs[best] if len(seqs) else np.zeros(0, np.intp)
    seq = seq[: np.argmax(seq == _STOP)] if (seq == _STOP).any() else seq
    # replay the winning sequence to report expectations per step
    th = belief.particles.copy()
    pv = np.full(P, belief.prev, dtype=np.intp)
    mastery = np.zeros((len(seq) + 1, K))
    success = np.zeros((len(seq) + 1, K))
    mastery[0] = w @ model.mastered(th).astype(float)
    success[0] = w @ model.proba_all(th)
    for i, c in enumerate(seq):
        th, pv = model.study(th, c, pv, **belief.study_kwargs())
        mastery[i + 1] = w @ model.mastered(th).astype(float)
        success[i + 1] = w @ model.proba_all(th)
    return SearchResult(seq, mastery[1:, targets].sum(axis=1), mastery, success)

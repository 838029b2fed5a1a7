"""Stage 1 — candidate concepts: what each student should work on now.

Four sources, each with a documented relevance weight (the best one counts when a
concept qualifies several times):

==========  ======  ================================================================
source      weight  rule (``m`` = mastery, ``thr`` = MASTERY_THRESHOLD)
==========  ======  ================================================================
target      1.0     on the path to a requested target (``concepts_needed``) and its
                    prerequisites are met
weak        1.0     practised (evidence > 0) and ``m < thr``; 0.5 x when its own
                    prerequisites are not yet met (fix those first)
frontier    0.8     ``m < thr`` and prerequisites met (any-of groups honoured), times
                    ``1 + unlock_bonus * log1p(direct dependents)``, times
                    ``untaught_weight`` (0.5) when no student in the fitted data has
                    answered on it (the class has not reached it yet)
review      0.6     mastered, but the estimated mastery now,
                    ``m * 0.5 ** (days since last practice / half-life)`` with
                    half-life ``review_half_life_days * sqrt(1 + evidence)``, has
                    fallen below ``thr`` (needs last-practice times)
==========  ======  ================================================================

At most ``max_concepts`` concepts per student are kept (the highest relevance x gap).
Resources are then candidates when they teach a candidate concept; their relevance is
the mean relevance over the concepts they teach.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator

from edu_recsys.constants import MASTERY_THRESHOLD
from edu_recsys.recommend.space import ConceptSpace, ResourceSpace

__all__ = [
    "CandidateSelector",
    "candidate_pairs",
    "SOURCES",
    "DEFAULT_SOURCE_WEIGHTS",
    "SOURCE_NAMES",
]

SOURCES = ("target", "weak", "frontier", "review")
#: code (as stored in the ``src`` matrix) -> source name; 0 = not a candidate
SOURCE_NAMES = ("", "target", "weak", "frontier", "review")
DEFAULT_SOURCE_WEIGHTS = {"target": 1.0, "weak": 1.0, "frontier": 0.8, "review": 0.6}


class CandidateSelector(BaseEstimator):
    """Select candidate concepts per student (vectorised over students).

    Parameters
    ----------
    sources : tuple of str
        Which of ``target, weak, frontier, review`` to use.
    weights : dict, optional
        Relevance per source (default :data:`DEFAULT_SOURCE_WEIGHTS`).
    threshold : float
        Mastery threshold (default :data:`~edu_recsys.constants.MASTERY_THRESHOLD`).
    review_half_life_days : float, default 30
        Base half-life of the forgetting model used for review.
    unlock_bonus : float, default 0.1
        Extra relevance of frontier concepts that unlock many others.
    max_concepts : int or None, default 30
        Keep at most this many candidate concepts per student, the highest
        ``relevance x (1 - mastery)`` first (None: all). Bounds the work per student
        whatever the size of the graph.
    untaught_weight : float, default 0.5
        Relevance factor of frontier concepts nobody has practised yet (``taught``
        in :meth:`select`).

    Examples
    --------
    >>> import networkx as nx, numpy as np
    >>> from edu_recsys.recommend.space import ConceptSpace, ResourceSpace
    >>> G = nx.DiGraph([("a", "b"), ("b", "c")])
    >>> sel = CandidateSelector(unlock_bonus=0).fit(ConceptSpace.build(G, []))
    >>> rel, src, m_now = sel.select(np.array([[0.9, 0.5, 0.2]]), np.array([[5, 2, 0]]))
    >>> rel.round(2).tolist(), [SOURCE_NAMES[s] for s in src[0]]
    ([[0.0, 1.0, 0.0]], ['', 'weak', ''])
    """

    def __init__(
        self,
        sources: tuple[str, ...] = SOURCES,
        weights: dict[str, float] | None = None,
        threshold: float = MASTERY_THRESHOLD,
        review_half_life_days: float = 30.0,
        unlock_bonus: float = 0.1,
        max_concepts: int | None = 30,
        untaught_weight: float = 0.5,
    ) -> None:
        self.sources = sources
        self.weights = weights
        self.threshold = threshold
        self.review_half_life_days = review_half_life_days
        self.unlock_bonus = unlock_bonus
        self.max_concepts = max_concepts
        self.untaught_weight = untaught_weight

    def fit(self, space: ConceptSpace, y=None) -> CandidateSelector:
        unknown = set(self.sources) - set(SOURCES)
        if unknown:
            raise ValueError(f"unknown candidate sources {sorted(unknown)}; known: {SOURCES}")
        self.weights_ = {**DEFAULT_SOURCE_WEIGHTS, **(self.weights or {})}
        self.space_ = space
        self.unlock_ = (1 + self.unlock_bonus * np.log1p(space.dependents)).astype(np.float32)
        return self

    def mastery_now(self, M: np.ndarray, E: np.ndarray, days: np.ndarray | None) -> np.ndarray:
        """Mastered concepts decayed by the time since last practice (others as given)."""
        if days is None:
            return M
        hl = self.review_half_life_days * np.sqrt(1 + E)
        decayed = M * np.power(0.5, np.nan_to_num(days, nan=0.0) / hl)
        return np.where(M >= self.threshold, decayed, M).astype(np.float32)

    def select(
        self,
        M: np.ndarray,
        E: np.ndarray,
        days: np.ndarray | None = None,
        target: np.ndarray | None = None,
        taught: np.ndarray | None = None,
    ):
        """Relevance, source code and current mastery, each S x C.

        Parameters
        ----------
        M, E : ndarray S x C
            Mastery and evidence (no NaN).
        days : ndarray S x C, optional
            Days since last practice (NaN = unknown).
        target : bool ndarray S x C, optional
            Concepts needed for the students' targets.
        taught : bool ndarray C, optional
            Concepts somebody has practised (default: all).
        """
        thr = self.threshold
        w = self.weights_
        mastered = M >= thr
        met = self.space_.prerequisites_met(mastered)
        rel = np.zeros(M.shape, np.float32)
        src = np.zeros(M.shape, np.int8)
        m_now = self.mastery_now(M, E, days)

        def offer(mask: np.ndarray, weight, code: int) -> None:
            wv = np.broadcast_to(np.asarray(weight, np.float32), M.shape)
            better = mask & (wv >= rel)
            rel[better] = wv[better]
            src[better] = code

        # lower-priority sources first, so that on ties the higher priority wins
        if "review" in self.sources and days is not None:
            offer(mastered & (m_now < thr), w["review"], 4)
        if "frontier" in self.sources:
            fw = w["frontier"] * self.unlock_
            if taught is not None:
                fw = fw * np.where(taught, 1.0, self.untaught_weight).astype(np.float32)
            offer(~mastered & met, fw[None, :], 3)
        if "weak" in self.sources:
            offer((E > 0) & ~mastered, np.where(met, w["weak"], 0.5 * w["weak"]), 2)
        if "target" in self.sources and target is not None:
            offer(target & ~mastered & met, w["target"], 1)
        mc = self.max_concepts
        if mc is not None and M.shape[1] > mc and ((rel > 0).sum(axis=1) > mc).any():
            key = np.where(rel > 0, rel * (1 - m_now) + 1e-6, -1.0)
            drop = np.argpartition(-key, mc - 1, axis=1)[:, mc:]
            rows = np.arange(M.shape[0])[:, None]
            rel[rows, drop] = 0
            src[rows, drop] = 0
        return rel, src, m_now


def candidate_pairs(rel: np.ndarray, res: ResourceSpace) -> tuple[np.ndarray, np.ndarray]:
    """The (student, resource) pairs where the resource teaches a candidate concept.

    Each pair appears once (a resource on several candidate concepts is listed
    under the first of them) and pairs are grouped by student.

    Examples
    --------
    >>> import pandas as pd
    >>> res = ResourceSpace.build(pd.DataFrame({"resource_id": ["x", "y", "z"],
    ...     "title": "", "type": "video", "concept_ids": [("a",), ("a", "b"), ("b",)],
    ...     "minutes": 5.0, "difficulty": 0.5, "is_quality": False}), pd.Index(["a", "b"]))
    >>> s, r = candidate_pairs(np.array([[1.0, 0.8], [0.0, 0.8]]), res)
    >>> s.tolist(), r.tolist()
    ([0, 0, 0, 1, 1], [0, 1, 2, 1, 2])
    """
    ps, pc = np.nonzero(rel > 0)
    idx = res.by_concept
    counts = np.diff(idx.indptr)[pc]
    total = int(counts.sum())
    if total == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    rep = np.repeat(np.arange(len(pc), dtype=np.int32), counts)
    offs = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
    r = idx.indices[idx.indptr[pc][rep] + offs].astype(np.int32)
    s = ps.astype(np.int32)[rep]
    multi = np.flatnonzero((res.pad[:, 1:] >= 0).any(axis=1)) if res.pad.shape[1] > 1 else []
    if len(multi):
        # a resource on several candidate concepts: keep it under the first of them
        is_multi = np.zeros(len(res.ids), bool)
        is_multi[multi] = True
        m = np.flatnonzero(is_multi[r])
        padr = res.pad[r[m]]
        is_cand = (padr >= 0) & (rel[s[m, None], np.maximum(padr, 0)] > 0)
        first = padr[np.arange(len(m)), is_cand.argmax(axis=1)]
        drop = m[first != pc[rep[m]]]
        if len(drop):
            keep = np.ones(total, bool)
            keep[drop] = False
            s, r = s[keep], r[keep]
    return s, r

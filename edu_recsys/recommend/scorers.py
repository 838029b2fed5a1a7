"""Stage 2 — scorers: how good each candidate resource is for each student.

Every scorer is a small estimator with ``fit(train)`` (a :class:`TrainData`) and
``score(batch) -> ndarray`` (S x N, float32, finite, higher is better). The pipeline
masks non-candidates, seen resources and filters afterwards, so a scorer only ranks.
All scorers must pass the shared suite in ``tests/recommend/test_scorer_suite.py``.

The default :class:`GainScorer` scores the **expected learning gain per unit of time**::

    expected_gain = mean over the resource's concepts of (relevance x (1 - mastery))
                    x readiness x quality ** quality_power x difficulty_fit
    score         = expected_gain x (1 + cf_weight x tanh(cf_gain / 0.1))
                    / (minutes / 10) ** time_weight

- ``relevance`` from the candidate stage; ``mastery`` the current mastery;
- ``readiness``: gains shrink when prerequisites are weak: the product over the
  concept's required prerequisites of ``min(1, m_q / threshold) ** prereq_power``
  (any-of groups: the best member), averaged over the resource's concepts;
- ``quality`` from :class:`~edu_recsys.resources.QualityEstimator` (0..1);
- ``difficulty_fit``: the predicted success ``p = sigmoid(logit(m) - slope x
  (difficulty - 0.5))`` (``m`` the product of the masteries of the resource's
  concepts; difficulty 0.5 = a typical item) is 1 inside :data:`~edu_recsys.constants.
  PRODUCTIVE_BAND` and falls off as ``1 / (1 + (d / fit_width)**2)`` with the
  distance ``d`` to the band (``fit_width`` 0.3);
- ``cf_gain``: the collaborative signal (:mod:`~edu_recsys.recommend.collaborative`).

Baselines (same candidates and reranking, only the score differs):
``popularity`` (number of uses), ``random`` (seeded per student), ``quality-only``
(quality), ``mastery-only`` (relevance x gap, the weakest concepts first).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from sklearn.base import BaseEstimator

from edu_recsys.constants import PRODUCTIVE_BAND
from edu_recsys.recommend.space import ResourceSpace

__all__ = [
    "TrainData",
    "Batch",
    "Scorer",
    "GainScorer",
    "MasteryScorer",
    "QualityScorer",
    "PopularityScorer",
    "RandomScorer",
    "CollaborativeScorer",
    "SCORERS",
    "make_scorer",
    "predicted_success",
    "difficulty_fit",
]

_EPS = np.float32(1e-6)


def _odds_factor(difficulty: np.ndarray, slope: float) -> np.ndarray:
    return np.exp(-np.float32(slope) * (difficulty.astype(np.float32) - 0.5)).astype(np.float32)


def predicted_success(m: np.ndarray, difficulty: np.ndarray, slope: float = 4.0) -> np.ndarray:
    """P(success) on a resource of given difficulty for mastery ``m`` (0.5 = typical).

    ``logit(p) = logit(m) - slope x (difficulty - 0.5)``, computed as odds
    ``m b / (m b + 1 - m)`` with ``b = exp(-slope (difficulty - 0.5))`` per resource.

    Examples
    --------
    >>> predicted_success(np.array([0.7, 0.7]), np.array([0.5, 0.75])).round(3).tolist()
    [0.7, 0.462]
    """
    m = np.asarray(m, np.float32)
    b = _odds_factor(np.asarray(difficulty), slope)
    mb = m * b
    return (mb / (mb + (1 - m) + np.float32(1e-12))).astype(np.float32)


def difficulty_fit(p: np.ndarray, band: tuple[float, float] = PRODUCTIVE_BAND, width=0.3):
    """1 inside the productive band, ``1 / (1 + (d / width)**2)`` at distance ``d``.

    Examples
    --------
    >>> difficulty_fit(np.array([0.7, 0.5, 0.95]), width=0.1).round(3).tolist()
    [1.0, 0.5, 0.5]
    >>> difficulty_fit(np.array([0.2])).round(3).tolist()  # default width 0.3
    [0.36]
    """
    lo, hi = band
    d = np.maximum(np.float32(lo) - p, 0) + np.maximum(p - np.float32(hi), 0)
    d *= np.float32(1 / width)
    d *= d
    d += 1
    return np.reciprocal(d, out=d).astype(np.float32, copy=False)


@dataclass
class TrainData:
    """What scorers may learn from at fit time."""

    resources: ResourceSpace
    quality: np.ndarray  # N, 0..1
    n_uses: np.ndarray  # N
    random_state: int | None = 0
    extra: dict = field(default_factory=dict)


@dataclass
class Batch:
    """One batch of students as the scorers see it.

    Students' matrices are S x C; the candidate (student, resource) pairs are flat
    arrays ``s`` and ``r`` of length n (grouped by student). The per-pair features
    are computed lazily and cached, so a scorer pays only for what it uses.
    """

    student_ids: list[str]
    M: np.ndarray  # S x C current mastery
    rel: np.ndarray  # S x C candidate relevance
    res: ResourceSpace
    quality: np.ndarray  # N
    s: np.ndarray  # n, student position of each pair
    r: np.ndarray  # n, resource position of each pair
    band: tuple[float, float] = PRODUCTIVE_BAND
    slope: float = 4.0
    fit_width: float = 0.3
    quality_power: float = 2.0
    ready: np.ndarray | None = None  # S x C soft prerequisite readiness (None: 1)
    cf_gain: np.ndarray | None = None  # n
    cf_n: np.ndarray | None = None  # n

    @property
    def n_pairs(self) -> int:
        return len(self.s)

    @cached_property
    def rel_r(self) -> np.ndarray:
        """Relevance of the resource (mean over its concepts)."""
        return self.res.pair_values(self.rel, self.s, self.r)

    @cached_property
    def gap_r(self) -> np.ndarray:
        """Mean over the resource's concepts of relevance x (1 - mastery)."""
        return self.res.pair_values(self.rel * (1 - self.M), self.s, self.r)

    @cached_property
    def m_r(self) -> np.ndarray:
        """Mastery of all the resource's concepts together (product: success on a
        multi-concept resource needs each of them)."""
        return self.res.pair_values(self.M, self.s, self.r, how="prod")

    @cached_property
    def p_success(self) -> np.ndarray:
        return predicted_success(self.m_r, self.res.difficulty[self.r], self.slope)

    @cached_property
    def dfit(self) -> np.ndarray:
        """Difficulty fit of the predicted success to the productive band."""
        return difficulty_fit(self.p_success, self.band, self.fit_width)

    @cached_property
    def ready_r(self) -> np.ndarray:
        """Mean soft prerequisite readiness over the resource's concepts."""
        if self.ready is None:
            return np.ones(self.n_pairs, np.float32)
        return self.res.pair_values(self.ready, self.s, self.r)

    @cached_property
    def expected_gain(self) -> np.ndarray:
        q = self.quality[self.r]
        if self.quality_power != 1.0:
            q = np.power(q, np.float32(self.quality_power))
        return self.gap_r * self.ready_r * q * self.dfit


class Scorer(BaseEstimator):
    """Base class: ``fit(train) -> self``; ``score(batch) -> float32 array`` with one
    finite value per candidate pair (``batch.s``, ``batch.r``), higher is better."""

    #: policy name of this scorer
    name = "base"

    def fit(self, train: TrainData, y=None):
        self.n_resources_ = len(train.resources.ids)
        return self

    def score(self, batch: Batch) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError


class GainScorer(Scorer):
    """Expected learning gain per unit of time, with the collaborative boost.

    Parameters
    ----------
    time_weight : float, default 1
        Exponent of the time penalty ``(minutes / 10) ** time_weight`` (1: expected gain
        per minute; 0: ignore time).
    cf_weight : float, default 0.25
        Weight of the collaborative signal (0 switches it off).
    """

    name = "default"

    def __init__(self, time_weight: float = 1.0, cf_weight: float = 0.25) -> None:
        self.time_weight = time_weight
        self.cf_weight = cf_weight

    def score(self, batch: Batch) -> np.ndarray:
        s = batch.expected_gain.copy()
        if self.time_weight:
            t = np.power(batch.res.minutes / np.float32(10), np.float32(self.time_weight))
            s /= t[batch.r]
        if self.cf_weight and batch.cf_gain is not None:
            s *= 1 + np.float32(self.cf_weight) * np.tanh(batch.cf_gain / np.float32(0.1))
        return s


class MasteryScorer(Scorer):
    """``mastery-only``: relevance x mastery gap (weakest concepts first)."""

    name = "mastery-only"

    def score(self, batch: Batch) -> np.ndarray:
        return batch.gap_r.copy()


class QualityScorer(Scorer):
    """``quality-only``: the resource's quality score."""

    name = "quality-only"

    def score(self, batch: Batch) -> np.ndarray:
        return batch.quality[batch.r].astype(np.float32)


class PopularityScorer(Scorer):
    """``popularity``: how often the resource was used (log scale)."""

    name = "popularity"

    def fit(self, train: TrainData, y=None):
        super().fit(train)
        self.popularity_ = np.log1p(np.asarray(train.n_uses, np.float32))
        return self

    def score(self, batch: Batch) -> np.ndarray:
        pop = self.popularity_
        if len(pop) != len(batch.res.ids):
            return np.zeros(batch.n_pairs, np.float32)
        return pop[batch.r]


def _mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser (vectorised integer hash)."""
    x = x.astype(np.uint64)
    with np.errstate(over="ignore"):
        x ^= x >> np.uint64(30)
        x *= np.uint64(0xBF58476D1CE4E5B9)
        x ^= x >> np.uint64(27)
        x *= np.uint64(0x94D049BB133111EB)
        x ^= x >> np.uint64(31)
    return x


class RandomScorer(Scorer):
    """``random``: uniform scores from a hash of (seed, student id, resource), so the
    same student gets the same draw whatever the batch (reproducible in parallel)."""

    name = "random"

    def __init__(self, random_state: int | None = 0) -> None:
        self.random_state = random_state

    def score(self, batch: Batch) -> np.ndarray:
        seed = 0 if self.random_state is None else int(self.random_state)
        sh = np.array([zlib.crc32(str(x).encode()) for x in batch.student_ids], np.uint64)
        key = _mix64(np.uint64(seed) * np.uint64(1_000_003) + sh)[batch.s]
        with np.errstate(over="ignore"):
            h = _mix64(key + batch.r.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15))
        return ((h >> np.uint64(40)).astype(np.float64) / float(1 << 24)).astype(np.float32)


class CollaborativeScorer(Scorer):
    """``collaborative``: what helped similar students (neighbours' mean gain)."""

    name = "collaborative"

    def score(self, batch: Batch) -> np.ndarray:
        if batch.cf_gain is None:
            return np.zeros(batch.n_pairs, np.float32)
        return batch.cf_gain.astype(np.float32)


SCORERS: dict[str, type[Scorer]] = {
    "default": GainScorer,
    "gain": GainScorer,
    "mastery-only": MasteryScorer,
    "quality-only": QualityScorer,
    "popularity": PopularityScorer,
    "random": RandomScorer,
    "collaborative": CollaborativeScorer,
}


def make_scorer(name: str, random_state: int | None = 0) -> Scorer:
    """A scorer by policy name (``gain`` is ``default`` without the collaborative boost).

    Examples
    --------
    >>> make_scorer("gain")
    GainScorer(cf_weight=0)
    """
    if name not in SCORERS:
        raise ValueError(f"unknown scorer {name!r}; known: {', '.join(SCORERS)}")
    if name == "gain":
        return GainScorer(cf_weight=0)
    if name == "random":
        return RandomScorer(random_state=random_state)
    return SCORERS[name]()

"""The recommendation pipeline: candidates -> scorer -> reranker, with reasons.

:class:`Recommender` consumes a **mastery table** (the mastery contract's long table
``student_id, concept_id, mastery, evidence, fallback``, or a wide student x concept
table) and a **concept graph**, so it works with any tracer; a fitted tracer plus the
interactions can be given instead of the table.

Fallbacks (documented, and flagged in the ``fallback`` column of every output row
that used them, ``;``-separated):

- ``cold_start_student``: a student without mastery data (unknown id, or only usage
  records). Their mastery is the population mean per concept (the typical student of
  the class), so the result is the typical student's next steps; nothing is excluded
  as seen unless ``seen=`` is passed; the collaborative signal uses the neighbours of
  that average profile.
- ``unseen_concept``: the row's concept had no mastery value for the student (or the
  tracer flagged it); the population mean is used, or
  :data:`~edu_recsys.recommend.space.DEFAULT_MASTERY` when nobody has a value. With
  ``grade=`` (the students' grade) and concept grades in the graph, a concept of an
  earlier grade falls back to ``grade_prior[0]`` (0.85: taught before, mostly mastered)
  and one of a later grade to ``grade_prior[1]`` (0.15: not taught yet), for cold-start
  students too. A value given by the tracer (even its own fallback) is kept, unless
  ``calibrate=True`` (below).
- ``calibrated``: with ``calibrate=True`` and a tracer's long table (with
  ``evidence``), the cells the tracer could not know from the student's own answers
  were recalibrated by :mod:`edu_recsys.mastery.calibrate` (no answer on a concept of
  an earlier grade: the student's earlier-grade level; of the students' grade or
  later: at most 0.5; answers on a concept the tracer lacks: Beta-binomial on them);
  a reason says which rule set the row's mastery.
- ``new_resource``: the resource has no usage or rating evidence; its quality is the
  documented prior (:class:`~edu_recsys.resources.QualityEstimator`).
- ``unknown_resource`` (only in :meth:`Recommender.score`): an id not in the
  catalogue; its score is NaN.

When every candidate has been used and ``exclude_seen`` is on, the result is shorter
than ``k`` (possibly empty): seen resources come back only for concepts due for review.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator, clone
from sklearn.utils.validation import check_is_fitted

from edu_recsys.constants import MASTERY_THRESHOLD, PRODUCTIVE_BAND
from edu_recsys.exceptions import UnknownIdError
from edu_recsys.mastery.calibrate import SOURCES as CALIBRATION_SOURCES
from edu_recsys.mastery.calibrate import calibrate_mastery_table
from edu_recsys.recommend.candidates import (
    SOURCE_NAMES,
    SOURCES,
    CandidateSelector,
    candidate_pairs,
)
from edu_recsys.recommend.collaborative import NeighbourSignal
from edu_recsys.recommend.reasons import reasons_for
from edu_recsys.recommend.rerank import DiversityReranker
from edu_recsys.recommend.scorers import (
    Batch,
    CollaborativeScorer,
    GainScorer,
    Scorer,
    TrainData,
    make_scorer,
)
from edu_recsys.recommend.space import (
    DEFAULT_MASTERY,
    ConceptSpace,
    ResourceSpace,
    last_practiced,
    mastery_matrix,
)
from edu_recsys.resources.catalogue import Catalogue, as_catalogue
from edu_recsys.resources.quality import QualityEstimator

__all__ = ["Recommender", "RECOMMENDATION_COLUMNS", "SCORE_COLUMNS", "POLICIES", "make_recommender"]

log = logging.getLogger(__name__)

RECOMMENDATION_COLUMNS = (
    "student_id",
    "rank",
    "resource_id",
    "title",
    "type",
    "concept_id",
    "concept_name",
    "source",
    "score",
    "expected_gain",
    "mastery",
    "p_success",
    "quality",
    "cf_gain",
    "cf_n",
    "minutes",
    "is_quality",
    "seen",
    "reasons",
    "fallback",
)
SCORE_COLUMNS = (
    "student_id",
    "resource_id",
    "candidate",
    "seen",
    "score",
    "expected_gain",
    "p_success",
    "quality",
    "fallback",
)

#: Policy names accepted by :func:`make_recommender` / ``Recommender(scorer=...)``.
POLICIES = ("default", "popularity", "random", "quality-only", "mastery-only")

_NS_PER_DAY = 86400 * 10**9
_NO_TIME = np.iinfo(np.int64).min


def _sample(m: sp.spmatrix, s: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Values of a sparse S x N matrix at (s, r) pairs (0 where absent).

    Densified per chunk of students and gathered: faster than sparse sampling for
    the millions of pairs of a batch, and bounded by the chunk size.
    """
    if len(s) == 0 or m.nnz == 0:
        return np.zeros(len(s), np.float32)
    dense = m.toarray()
    return dense.ravel()[s.astype(np.int64) * m.shape[1] + r]


def _latest(*frames: pd.DataFrame | None) -> int | None:
    best = None
    for f in frames:
        if f is not None and "timestamp" in f.columns and len(f):
            t = pd.to_datetime(f["timestamp"], utc=True).max()
            if pd.notna(t):
                v = pd.Timestamp(t).as_unit("ns").value
                best = v if best is None else max(best, v)
    return best


class Recommender(BaseEstimator):
    """Recommend learning resources to students, with reasons (LensKit-style stages).

    Parameters
    ----------
    graph : networkx.DiGraph, optional
        Concept graph (prerequisites, any-of groups, names). Without one every
        concept is a root.
    scorer : str or Scorer, default "default"
        ``"default"`` (expected gain per time with the collaborative boost), a
        baseline (``"popularity"``, ``"random"``, ``"quality-only"``,
        ``"mastery-only"``), ``"gain"``, ``"collaborative"``, or a
        :class:`~edu_recsys.recommend.scorers.Scorer` instance.
    k : int, default 10
        Default list length.
    exclude_seen : bool, default True
        Leave out resources the student already used, except for concepts due for
        review (review brings seen resources back).
    sources : tuple of str
        Candidate sources (``target, weak, frontier, review``).
    source_weights : dict, optional
        Relevance per source (see :mod:`~edu_recsys.recommend.candidates`).
    threshold : float
        Mastery threshold (default ``MASTERY_THRESHOLD``).
    band : (float, float)
        Productive band of predicted success (default ``PRODUCTIVE_BAND``).
    difficulty_slope : float, default 4
        Log-odds lost per unit of resource difficulty above 0.5.
    fit_width : float, default 0.3
        Fall-off of the difficulty fit outside the band: ``1 / (1 + (d / fit_width)**2)``
        at distance ``d`` from it.
    prereq_power : float, default 1
        Exponent of the soft prerequisite readiness in the expected gain (0: off).
    quality_power : float, default 2
        Exponent of the quality score in the expected gain (quality scores are shrunk
        toward their prior, so the square spreads them again).
    time_weight, cf_weight : float
        Passed to :class:`~edu_recsys.recommend.scorers.GainScorer` for the named
        ``default``/``gain`` scorers.
    n_neighbors : int, default 20
        Neighbours of the collaborative signal.
    diversity, type_penalty, type_quotas
        Reranker settings (:class:`~edu_recsys.recommend.rerank.DiversityReranker`).
    review_half_life_days, unlock_bonus, max_concepts, untaught_weight
        Candidate-stage settings (:class:`~edu_recsys.recommend.CandidateSelector`).
    quality : QualityEstimator, optional
        Quality estimator (cloned; default ``QualityEstimator()``).
    pool_size : int, default 50
        Candidates per student passed from the scorer to the reranker.
    batch_size : int, default 500
        Students processed together by :meth:`recommend_batch` (bounds memory).
    grade : int, optional
        The students' school grade: concepts of other grades (graph node ``grade``)
        without a mastery value fall back to ``grade_prior`` instead of the population
        mean (module docstring).
    grade_prior : (float, float), default (0.85, 0.15)
        Fallback mastery of concepts of earlier and of later grades (with ``grade``).
    calibrate : bool, default False
        Calibrate a tracer's long mastery table (it needs ``evidence``) before use with
        :func:`edu_recsys.mastery.calibrate.calibrate_mastery_table`, with ``grade``
        and the graph's concept grades (without ``grade`` every concept counts as
        current); ``interactions`` enable the rule for concepts the tracer lacks.
        Cells it changed are flagged ``calibrated``. Use it with the library's
        tracers: their value for a concept the student never answered is a
        population fallback, about 0.9 for concepts of any grade in the learner
        simulator (``docs/recommend.md``). A wide table is used as it is.
    lang : {"zh", "en"}
        Language of the reasons.
    random_state : int, optional
        Seed of every random choice (the ``random`` baseline, PCA).

    Attributes
    ----------
    concepts_, students_ : pandas.Index
    quality_ : DataFrame
        The quality table (:data:`~edu_recsys.resources.QUALITY_COLUMNS`).
    fit_report_ : dict
        Counts of what was used and which fallbacks apply.

    Examples
    --------
    >>> import networkx as nx, pandas as pd
    >>> G = nx.DiGraph([("add", "mul")])
    >>> G.nodes["add"]["name"], G.nodes["mul"]["name"] = "加法", "乘法"
    >>> cat = pd.DataFrame({"resource_id": ["v1", "v2"], "type": "video",
    ...                     "concept_ids": ["add", "mul"], "minutes": 8})
    >>> mastery = pd.DataFrame({"student_id": ["s1", "s1"], "concept_id": ["add", "mul"],
    ...                         "mastery": [0.9, 0.4], "evidence": [5, 0]})
    >>> rec = Recommender(G).fit(cat, mastery)
    >>> rec.recommend("s1")[["resource_id", "concept_id", "source", "mastery", "fallback"]]
      resource_id concept_id    source  mastery      fallback
    0          v2        mul  frontier      0.4  new_resource
    >>> rec.recommend("s1")["reasons"][0][0]
    '「乘法」的前置知识已掌握，当前掌握度 0.40，可以开始学习'
    >>> rec.recommend("nobody")["fallback"][0]
    'cold_start_student;new_resource'
    """

    def __init__(
        self,
        graph=None,
        scorer: str | Scorer = "default",
        *,
        k: int = 10,
        exclude_seen: bool = True,
        sources: tuple[str, ...] = SOURCES,
        source_weights: dict[str, float] | None = None,
        threshold: float = MASTERY_THRESHOLD,
        band: tuple[float, float] = PRODUCTIVE_BAND,
        difficulty_slope: float = 4.0,
        fit_width: float = 0.3,
        prereq_power: float = 1.0,
        quality_power: float = 2.0,
        time_weight: float = 1.0,
        cf_weight: float = 0.25,
        n_neighbors: int = 20,
        diversity: float = 0.3,
        type_penalty: float = 0.15,
        type_quotas: dict[str, int] | None = None,
        review_half_life_days: float = 30.0,
        unlock_bonus: float = 0.1,
        max_concepts: int | None = 30,
        untaught_weight: float = 0.5,
        quality: QualityEstimator | None = None,
        pool_size: int = 50,
        batch_size: int = 500,
        grade: int | None = None,
        grade_prior: tuple[float, float] = (0.85, 0.15),
        calibrate: bool = False,
        lang: str = "zh",
        random_state: int | None = 0,
    ) -> None:
        self.graph = graph
        self.scorer = scorer
        self.k = k
        self.exclude_seen = exclude_seen
        self.sources = sources
        self.source_weights = source_weights
        self.threshold = threshold
        self.band = band
        self.difficulty_slope = difficulty_slope
        self.fit_width = fit_width
        self.prereq_power = prereq_power
        self.quality_power = quality_power
        self.time_weight = time_weight
        self.cf_weight = cf_weight
        self.n_neighbors = n_neighbors
        self.diversity = diversity
        self.type_penalty = type_penalty
        self.type_quotas = type_quotas
        self.review_half_life_days = review_half_life_days
        self.unlock_bonus = unlock_bonus
        self.max_concepts = max_concepts
        self.untaught_weight = untaught_weight
        self.quality = quality
        self.pool_size = pool_size
        self.batch_size = batch_size
        self.grade = grade
        self.grade_prior = grade_prior
        self.calibrate = calibrate
        self.lang = lang
        self.random_state = random_state

    # ------------------------------------------------------------------ fit
    def _make_scorer(self) -> Scorer:
        if isinstance(self.scorer, Scorer):
            return clone(self.scorer)
        if self.scorer in ("default", "gain"):
            cf = self.cf_weight if self.scorer == "default" else 0.0
            return GainScorer(time_weight=self.time_weight, cf_weight=cf)
        return make_scorer(str(self.scorer), random_state=self.random_state)

    def fit(
        self,
        catalogue: Catalogue | pd.DataFrame,
        mastery: pd.DataFrame | None = None,
        *,
        interactions: pd.DataFrame | None = None,
        tracer=None,
        now=None,
    ) -> Recommender:
        """Fit on a catalogue (with its usage/ratings) and the students' mastery.

        Parameters
        ----------
        catalogue : Catalogue or DataFrame
            Resources (+ usage and ratings when a :class:`Catalogue`).
        mastery : DataFrame, optional
            Mastery long table (or wide student x concept table). Students without
            a row are cold-start students.
        interactions : DataFrame, optional
            Canonical answers: used for the learning-gain quality signal, the
            last-practice times (review), and with ``tracer`` to compute mastery.
        tracer : fitted mastery estimator, optional
            When ``mastery`` is None: ``mastery = tracer.mastery(interactions)``.
        now : timestamp, optional
            Reference time for review (default: the latest timestamp seen).
        """
        if self.lang not in ("zh", "en"):
            raise ValueError("lang must be 'zh' or 'en'")
        lo, hi = self.band
        if not 0 <= lo < hi <= 1:
            raise ValueError("band must be (lo, hi) with 0 <= lo < hi <= 1")
        cat = catalogue if isinstance(catalogue, Catalogue) else as_catalogue(catalogue)
        if mastery is None and tracer is not None:
            if interactions is None:
                raise ValueError("tracer= needs interactions= to compute mastery")
            mastery = tracer.mastery(interactions)
        g = self.graph
        calibrated = None
        if self.calibrate:
            if mastery is not None and {"concept_id", "evidence"} <= set(mastery.columns):
                mastery = calibrate_mastery_table(
                    mastery, g, grade=self.grade, history=interactions
                )
                calibrated = mastery[mastery["calibration"] != ""]
            else:
                log.warning("calibrate=True needs a long mastery table with evidence: not applied")
        extra = cat.concepts()
        if mastery is not None and "concept_id" in getattr(mastery, "columns", []):
            extra += pd.unique(mastery["concept_id"].astype(str)).tolist()
        elif mastery is not None:
            extra += [str(c) for c in mastery.columns]
        self.concepts_space_ = ConceptSpace.build(g, extra)
        self.concepts_ = self.concepts_space_.concepts
        self.resources_space_ = ResourceSpace.build(cat.resources, self.concepts_)
        C, N = len(self.concepts_), len(cat)

        # quality
        est = clone(self.quality) if self.quality is not None else QualityEstimator()
        est.fit(cat, interactions)
        self.quality_estimator_ = est
        self.quality_ = est.quality_
        self.quality_arr_ = self.quality_["quality"].to_numpy(np.float32)
        self.quality_new_ = (self.quality_["quality_fallback"] == "new_resource").to_numpy()
        self.quality_ev_ = self.quality_["evidence"].to_numpy(int)
        self.n_uses_ = self.quality_["n_uses"].to_numpy(float)

        # mastery matrices; students = mastery students, then usage-only students
        md = mastery_matrix(mastery, self.concepts_)
        usage_students = pd.unique(cat.usage["student_id"].astype(str)) if len(cat.usage) else []
        extra_students = [s for s in usage_students if s not in set(md.students)]
        self.students_ = md.students.append(pd.Index(extra_students, dtype=object))
        S_m = len(md.students)
        S = len(self.students_)
        M = np.full((S, C), np.nan, np.float32)
        M[:S_m] = md.mastery
        E = np.zeros((S, C), np.float32)
        E[:S_m] = md.evidence
        self.has_mastery_ = np.r_[np.ones(S_m, bool), np.zeros(len(extra_students), bool)]
        have = ~np.isnan(md.mastery)
        n_have = have.sum(axis=0)
        tot = np.where(have, md.mastery, 0).sum(axis=0)
        pop = np.where(n_have > 0, tot / np.maximum(n_have, 1), DEFAULT_MASTERY)
        if self.grade is not None and g is not None:
            # the school knows the students' grade: earlier grades' concepts were taught
            cg = np.array(
                [
                    float(g.nodes[c].get("grade") or np.nan) if c in g else np.nan
                    for c in self.concepts_
                ]
            )
            early, late = self.grade_prior
            pop = np.where(cg < self.grade, early, np.where(cg > self.grade, late, pop))
        self.pop_mastery_ = pop.astype(np.float32)
        self.unseen_ = np.isnan(M) | ((E == 0) & False)
        if mastery is not None and "fallback" in getattr(mastery, "columns", []):
            flagged = mastery[mastery["fallback"].fillna("").astype(str) != ""]
            si = self.students_.get_indexer(flagged["student_id"].astype(str))
            ci = self.concepts_.get_indexer(flagged["concept_id"].astype(str))
            ok = (si >= 0) & (ci >= 0)
            self.unseen_[si[ok], ci[ok]] = True
        self.mastery_ = np.where(np.isnan(M), self.pop_mastery_[None, :], M).astype(np.float32)
        # which calibration rule set each cell (index into CALIBRATION_SOURCES; 0 = none)
        self.calib_ = np.zeros((S, C), np.int8)
        if calibrated is not None and len(calibrated):
            si = self.students_.get_indexer(calibrated["student_id"].astype(str))
            ci = self.concepts_.get_indexer(calibrated["concept_id"].astype(str))
            code = pd.Index(CALIBRATION_SOURCES).get_indexer(calibrated["calibration"])
            ok = (si >= 0) & (ci >= 0) & (code > 0)
            self.calib_[si[ok], ci[ok]] = code[ok]
        # concepts somebody practised (None: no evidence at all, so no schedule signal)
        taught = (E > 0).any(axis=0)
        if interactions is not None and len(interactions):
            seen_c = {c for t in interactions["concept_ids"] for c in t}
            taught |= np.asarray(self.concepts_.isin(list(seen_c)))
        self.taught_ = taught if taught.any() else None
        self.evidence_ = E
        if md.last_ns is not None:
            last = np.full((S, C), _NO_TIME, np.int64)
            last[:S_m] = md.last_ns
        else:
            last = last_practiced(interactions, self.students_, self.concepts_)
        self.last_ns_ = last
        if now is not None:
            self.now_ns_ = (
                pd.Timestamp(now).tz_localize("UTC").value
                if pd.Timestamp(now).tzinfo is None
                else pd.Timestamp(now).as_unit("ns").value
            )
        else:
            self.now_ns_ = _latest(interactions, cat.usage)

        # seen resources (usage records and answers linked to a resource)
        pairs = [cat.usage[["student_id", "resource_id"]]] if len(cat.usage) else []
        if interactions is not None and "resource_id" in interactions.columns:
            pairs.append(interactions[["student_id", "resource_id"]].dropna())
        self.seen_ = self._pairs_matrix(pairs, S, N)

        # collaborative signal
        self.scorer_ = self._make_scorer()
        self.uses_cf_ = isinstance(self.scorer_, CollaborativeScorer) or (
            isinstance(self.scorer_, GainScorer) and bool(self.scorer_.cf_weight)
        )
        self.cf_ = None
        self.cf_mode_ = ""
        if self.uses_cf_ and len(cat.usage) and N:
            gains = est.usage_gains_
            if len(gains):
                self.cf_mode_ = "gain"
                tab = gains.rename(columns={"gain": "value"})
            else:
                self.cf_mode_ = "usage"
                tab = cat.usage[["student_id", "resource_id"]].drop_duplicates().assign(value=1.0)
            si = self.students_.get_indexer(tab["student_id"].astype(str))
            ri = self.resources_space_.ids.get_indexer(tab["resource_id"].astype(str))
            ok = (si >= 0) & (ri >= 0)
            train_rows = np.unique(si[ok])
            pos = np.full(S, -1, np.int64)
            pos[train_rows] = np.arange(len(train_rows))
            H = sp.csr_matrix(
                (tab["value"].to_numpy(np.float32)[ok], (pos[si[ok]], ri[ok])),
                shape=(len(train_rows), N),
            )
            U = H.copy()
            U.data = np.ones_like(U.data)
            self.cf_ = NeighbourSignal(
                n_neighbors=self.n_neighbors, random_state=self.random_state
            ).fit(self.mastery_[train_rows], H, U, mode=self.cf_mode_)
            self.cf_train_pos_ = pos

        self.candidates_ = CandidateSelector(
            sources=self.sources,
            weights=self.source_weights,
            threshold=self.threshold,
            review_half_life_days=self.review_half_life_days,
            unlock_bonus=self.unlock_bonus,
            max_concepts=self.max_concepts,
            untaught_weight=self.untaught_weight,
        ).fit(self.concepts_space_)
        self.scorer_.fit(
            TrainData(
                resources=self.resources_space_,
                quality=self.quality_arr_,
                n_uses=self.n_uses_,
                random_state=self.random_state,
            )
        )
        self.reranker_ = DiversityReranker(
            diversity=self.diversity, type_penalty=self.type_penalty, type_quotas=self.type_quotas
        )
        self.catalogue_ = cat
        # object arrays for fast row building (pandas string Indexes convert slowly)
        self.resource_ids_arr_ = np.asarray(self.resources_space_.ids.tolist(), dtype=object)
        self.type_names_arr_ = np.asarray(self.resources_space_.types.tolist(), dtype=object)
        self.concept_ids_arr_ = np.asarray(self.concepts_.tolist(), dtype=object)
        self.fit_report_ = {
            "resources": N,
            "concepts": C,
            "students_with_mastery": int(S_m),
            "students_usage_only": len(extra_students),
            "new_resources": int(self.quality_new_.sum()),
            "usage_rows": int(len(cat.usage)),
            "rating_rows": int(len(cat.ratings)),
            "collaborative": self.cf_mode_ or "off",
            "review": self.now_ns_ is not None and bool((last != _NO_TIME).any()),
            "calibrated_cells": int((self.calib_ > 0).sum()),
        }
        return self

    def _pairs_matrix(self, frames, S: int, N: int) -> sp.csr_matrix:
        if not frames:
            return sp.csr_matrix((S, N), dtype=bool)
        tab = pd.concat(frames, ignore_index=True)
        si = self.students_.get_indexer(tab["student_id"].astype(str))
        ri = self.resources_space_.ids.get_indexer(tab["resource_id"].astype(str))
        ok = (si >= 0) & (ri >= 0)
        m = sp.csr_matrix((np.ones(int(ok.sum()), bool), (si[ok], ri[ok])), shape=(S, N))
        m.sum_duplicates()
        return m

    # ------------------------------------------------------- online updates
    def update_mastery(
        self,
        student_id: str,
        mastery: Mapping[str, float],
        evidence: Mapping[str, float] | None = None,
    ) -> Recommender:
        """Replace a student's mastery (e.g. from a tracer's online state), no refit.

        A new student is added. Concepts unknown to the recommender are ignored.
        """
        check_is_fitted(self, "mastery_")
        sid = str(student_id)
        row = self.students_.get_indexer([sid])[0]
        if row < 0:
            self.students_ = self.students_.append(pd.Index([sid], dtype=object))
            C = len(self.concepts_)
            self.mastery_ = np.vstack([self.mastery_, self.pop_mastery_[None, :]])
            self.evidence_ = np.vstack([self.evidence_, np.zeros((1, C), np.float32)])
            self.unseen_ = np.vstack([self.unseen_, np.ones((1, C), bool)])
            self.calib_ = np.vstack([self.calib_, np.zeros((1, C), np.int8)])
            self.last_ns_ = np.vstack([self.last_ns_, np.full((1, C), _NO_TIME, np.int64)])
            self.has_mastery_ = np.r_[self.has_mastery_, True]
            self.seen_ = sp.vstack(
                [self.seen_, sp.csr_matrix((1, self.seen_.shape[1]), dtype=bool)]
            )
            self.seen_ = self.seen_.tocsr()
            if getattr(self, "cf_", None) is not None:
                self.cf_train_pos_ = np.r_[self.cf_train_pos_, -1]
            row = len(self.students_) - 1
        self.has_mastery_[row] = True
        ci = self.concepts_.get_indexer([str(c) for c in mastery])
        vals = np.asarray(list(mastery.values()), np.float32)
        ok = ci >= 0
        self.mastery_[row, ci[ok]] = vals[ok]
        self.unseen_[row, ci[ok]] = False
        self.calib_[row, ci[ok]] = 0
        if evidence:
            ce = self.concepts_.get_indexer([str(c) for c in evidence])
            ev = np.asarray(list(evidence.values()), np.float32)
            self.evidence_[row, ce[ce >= 0]] = ev[ce >= 0]
        return self

    def mark_seen(self, student_id: str, resource_ids: Iterable[str]) -> Recommender:
        """Record that a known student used these resources (no refit)."""
        check_is_fitted(self, "seen_")
        row = self.students_.get_indexer([str(student_id)])[0]
        if row < 0:
            raise UnknownIdError("student", str(student_id), "call update_mastery first")
        ri = self.resources_space_.ids.get_indexer([str(r) for r in resource_ids])
        seen = self.seen_.tolil()
        seen[row, ri[ri >= 0]] = True
        self.seen_ = seen.tocsr()
        return self

    # ------------------------------------------------------------ batches
    def _student_arrays(self, ids: list[str], mastery_override, seen_override):
        rows = self.students_.get_indexer(ids) if len(ids) else np.zeros(0, np.int64)
        known = rows >= 0
        cold = ~known.copy()
        cold[known] = ~self.has_mastery_[rows[known]]
        S, C = len(ids), len(self.concepts_)
        M = np.empty((S, C), np.float32)
        M[:] = self.pop_mastery_[None, :]
        M[known] = self.mastery_[rows[known]]
        E = np.zeros((S, C), np.float32)
        E[known] = self.evidence_[rows[known]]
        unseen = np.ones((S, C), bool)
        unseen[known] = self.unseen_[rows[known]]
        calib = np.zeros((S, C), np.int8)
        calib[known] = self.calib_[rows[known]]
        last = np.full((S, C), _NO_TIME, np.int64)
        last[known] = self.last_ns_[rows[known]]
        seen = sp.csr_matrix((S, self.seen_.shape[1]), dtype=bool)
        if known.any():
            rr = np.where(known, rows, 0)
            seen = self.seen_[rr].tocsr()
            seen = sp.diags(known.astype(np.float32)) @ seen.astype(np.float32)
            seen = seen.astype(bool).tocsr()
        if mastery_override is not None and len(mastery_override):
            self._apply_mastery_override(ids, mastery_override, M, unseen, cold, calib)
        if seen_override:
            pairs = [(i, str(r)) for i, sid in enumerate(ids) for r in seen_override.get(sid, ())]
            if pairs:
                ri = self.resources_space_.ids.get_indexer([r for _, r in pairs])
                si = np.array([i for i, _ in pairs])
                ok = ri >= 0
                add = sp.csr_matrix(
                    (np.ones(int(ok.sum()), bool), (si[ok], ri[ok])), shape=seen.shape
                )
                seen = (seen + add).astype(bool).tocsr()
        if self.now_ns_ is not None:
            with np.errstate(invalid="ignore"):
                days = np.where(
                    last == _NO_TIME, np.nan, (self.now_ns_ - last) / _NS_PER_DAY
                ).astype(np.float32)
        else:
            days = None
        return rows, cold, M, E, unseen, calib, days, seen

    def _apply_mastery_override(self, ids, override, M, unseen, cold, calib) -> None:
        """Per-call mastery: a mapping ``student -> {concept: p}`` or a wide DataFrame
        (index: students, columns: concepts)."""
        pos = {sid: i for i, sid in enumerate(ids)}
        if isinstance(override, pd.DataFrame):
            rows = [pos.get(str(s), -1) for s in override.index]
            ci = self.concepts_.get_indexer([str(c) for c in override.columns])
            vals = override.to_numpy(np.float32)
            for n, i in enumerate(rows):
                if i < 0:
                    continue
                ok = (ci >= 0) & ~np.isnan(vals[n])
                M[i, ci[ok]] = vals[n, ok]
                unseen[i, ci[ok]] = False
                calib[i, ci[ok]] = 0
                cold[i] = False
            return
        cache: dict[tuple, np.ndarray] = {}
        for sid, mp in override.items():
            i = pos.get(str(sid))
            if i is None or not mp:
                continue
            keys = tuple(mp)
            ci = cache.get(keys)
            if ci is None:
                ci = cache[keys] = self.concepts_.get_indexer([str(c) for c in keys])
            vals = np.fromiter(mp.values(), np.float32, count=len(keys))
            ok = ci >= 0
            M[i, ci[ok]] = vals[ok]
            unseen[i, ci[ok]] = False
            calib[i, ci[ok]] = 0
            cold[i] = False

    def _targets(self, ids, M, targets) -> np.ndarray | None:
        if not targets:
            return None
        if self.graph is None:
            raise ValueError("targets need a graph")
        from edu_recsys.graph import concepts_needed

        mask = np.zeros(M.shape, bool)
        for i, sid in enumerate(ids):
            t = targets.get(sid) if isinstance(targets, Mapping) else targets
            if not t:
                continue
            mdict = dict(zip(self.concepts_, M[i].tolist()))
            need = concepts_needed(self.graph, t, mdict, threshold=self.threshold)
            ci = self.concepts_.get_indexer(need)
            mask[i, ci[ci >= 0]] = True
        return mask

    def _batch(self, ids, *, targets=None, mastery=None, seen=None, pairs=None, filt=None):
        """Candidate stage for a batch: the scorers' :class:`Batch` and the context."""
        rows, cold, M, E, unseen, calib, days, seen_m = self._student_arrays(ids, mastery, seen)
        target = self._targets(ids, M, targets)
        rel, src, m_now = self.candidates_.select(M, E, days, target, self.taught_)
        res = self.resources_space_
        if pairs is None:
            ps, pr = candidate_pairs(rel, res)
            if filt is not None:
                keep = filt[pr]
                ps, pr = ps[keep], pr[keep]
        else:
            ps, pr = pairs
        batch = Batch(
            student_ids=list(ids),
            M=m_now,
            rel=rel,
            res=res,
            quality=self.quality_arr_,
            s=ps,
            r=pr,
            band=tuple(self.band),
            slope=self.difficulty_slope,
            fit_width=self.fit_width,
            quality_power=self.quality_power,
            ready=(
                self.concepts_space_.readiness(M, self.threshold, self.prereq_power)
                if self.prereq_power
                else None
            ),
        )
        seen_p = _sample(seen_m, ps, pr).astype(bool)
        if self.cf_ is not None:
            excl = np.where(rows >= 0, self.cf_train_pos_[np.maximum(rows, 0)], -1)
            g, n = self.cf_.signal(M, exclude=excl)
            batch.cf_gain = _sample(g, ps, pr).astype(np.float32)
            batch.cf_n = _sample(n, ps, pr).astype(np.float32)
        ctx = dict(
            rows=rows,
            cold=cold,
            M=M,
            E=E,
            unseen=unseen,
            calib=calib,
            days=days,
            src=src,
            seen=seen_p,
        )
        return batch, ctx

    def _review_back(self, src: np.ndarray, s: np.ndarray, r: np.ndarray, which) -> np.ndarray:
        """For the pairs ``which``: does the resource teach a concept due for review?"""
        out = np.zeros(len(s), bool)
        w = np.flatnonzero(which)
        if len(w) == 0:
            return out
        pad = self.resources_space_.pad[r[w]]
        vals = np.where(pad >= 0, src[s[w, None], np.maximum(pad, 0)], 0)
        out[w] = (vals == 4).any(axis=1)
        return out

    def recommend_batch(
        self,
        student_ids: Sequence[str],
        k: int | None = None,
        *,
        exclude_seen: bool | None = None,
        targets: Mapping[str, str | list[str]] | str | list[str] | None = None,
        types: Iterable[str] | None = None,
        max_minutes: float | None = None,
        mastery: Mapping[str, Mapping[str, float]] | None = None,
        seen: Mapping[str, Iterable[str]] | None = None,
        lang: str | None = None,
        reasons: bool = True,
    ) -> pd.DataFrame:
        """Top-``k`` resources for many students at once (vectorised).

        Parameters
        ----------
        student_ids : sequence of str
        k : int, optional
            List length (default ``self.k``).
        exclude_seen : bool, optional
            Override the estimator's setting.
        targets : mapping or str or list, optional
            Target concept(s) per student (a mapping) or for everyone.
        types : iterable of str, optional
            Only these resource types.
        max_minutes : float, optional
            Only resources at most this long.
        mastery : mapping or DataFrame, optional
            ``student -> {concept: p}`` overrides (e.g. an online state), or a wide
            table (index: students, columns: concepts) of overrides.
        seen : mapping, optional
            ``student -> resource ids`` also counted as seen.
        lang : {"zh", "en"}, optional
        reasons : bool, default True
            Build the ``reasons`` column (False is faster).

        Returns
        -------
        DataFrame
            :data:`RECOMMENDATION_COLUMNS`, students in the given order, ``rank``
            from 1.
        """
        check_is_fitted(self, "scorer_")
        ids = [str(s) for s in student_ids]
        k = self.k if k is None else int(k)
        excl = self.exclude_seen if exclude_seen is None else exclude_seen
        lang = lang or self.lang
        if lang not in ("zh", "en"):
            raise ValueError("lang must be 'zh' or 'en'")
        res = self.resources_space_
        N = len(res.ids)
        if not ids or N == 0 or k <= 0:
            return self._empty()
        filt = None
        if types is not None or max_minutes is not None:
            filt = np.ones(N, bool)
            if types is not None:
                codes = res.types.get_indexer([str(t) for t in types])
                filt &= np.isin(res.type_codes, codes[codes >= 0])
            if max_minutes is not None:
                filt &= res.minutes <= max_minutes
        bs = max(1, int(self.batch_size))
        if len(ids) > bs:
            parts = [
                self._recommend_chunk(
                    ids[i : i + bs], k, excl, targets, mastery, seen, filt, lang, reasons
                )
                for i in range(0, len(ids), bs)
            ]
            parts = [p for p in parts if len(p)]
            return pd.concat(parts, ignore_index=True) if parts else self._empty()
        return self._recommend_chunk(ids, k, excl, targets, mastery, seen, filt, lang, reasons)

    def _recommend_chunk(self, ids, k, excl, targets, mastery, seen, filt, lang, reasons):
        res = self.resources_space_
        N = len(res.ids)
        batch, ctx = self._batch(ids, targets=targets, mastery=mastery, seen=seen, filt=filt)
        scores = np.asarray(self.scorer_.score(batch), dtype=np.float32)
        ok = np.isfinite(scores)
        if excl:
            seen_p = ctx["seen"]
            ok &= ~seen_p | self._review_back(ctx["src"], batch.s, batch.r, seen_p)
        pidx = np.flatnonzero(ok)
        S = len(ids)
        if len(pidx) == 0:
            return self._empty()
        # top pool per student from the flat pairs (grouped by student)
        ps = batch.s[pidx]
        counts = np.bincount(ps, minlength=S)
        starts = np.cumsum(counts) - counts
        L = int(counts.max())
        within = np.arange(len(pidx)) - starts[ps]
        grid = np.full((S, L), -np.inf, np.float32)
        grid[ps, within] = scores[pidx]
        gidx = np.full((S, L), -1, np.int64)
        gidx[ps, within] = pidx
        P = int(min(L, max(self.pool_size, 3 * k)))
        if P < L:
            part = np.argpartition(grid, L - P, axis=1)[:, L - P :]
            grid = np.take_along_axis(grid, part, axis=1)
            gidx = np.take_along_axis(gidx, part, axis=1)
        # best first; ties broken by catalogue order (deterministic)
        rkey = np.where(gidx >= 0, batch.r[np.maximum(gidx, 0)], N)
        order = np.lexsort((rkey, -grid), axis=1)
        grid = np.take_along_axis(grid, order, axis=1)
        gidx = np.take_along_axis(gidx, order, axis=1)
        prim = self._primary_concepts(batch, gidx)
        tpool = np.where(gidx >= 0, res.type_codes[batch.r[np.maximum(gidx, 0)]], 0)
        picks = self.reranker_.rerank(grid, prim, tpool, k, list(res.types))
        srow, rank0 = np.nonzero(picks >= 0)
        pos = picks[srow, rank0]
        pair = gidx[srow, pos]
        c = prim[srow, pos]
        return self._frame(ids, batch, ctx, pair, rank0, c, scores[pair], lang, reasons)

    def _primary_concepts(self, batch: Batch, gidx: np.ndarray) -> np.ndarray:
        """The concept each pooled pair is recommended for (its most relevant one)."""
        g = np.maximum(gidx, 0)
        s, r = batch.s[g], batch.r[g]
        pad = self.resources_space_.pad[r]  # S x P x K
        cidx = np.maximum(pad, 0)
        val = batch.rel[s[..., None], cidx] * np.maximum(1 - batch.M[s[..., None], cidx], 0.05)
        val = np.where(pad >= 0, val, -1)
        best = np.argmax(val, axis=2)
        out = np.take_along_axis(pad, best[..., None], axis=2)[..., 0]
        return np.where(gidx >= 0, out, -1)

    def _empty(self) -> pd.DataFrame:
        return pd.DataFrame({c: pd.Series([], dtype=object) for c in RECOMMENDATION_COLUMNS})

    def _frame(self, ids, batch, ctx, pair, rank0, c, score, lang, with_reasons):
        res = self.resources_space_
        if len(pair) == 0:
            return self._empty()
        srow, r = batch.s[pair], batch.r[pair]
        cc = np.maximum(c, 0)
        m_now = batch.M[srow, cc]
        m_stored = ctx["M"][srow, cc]
        evidence = ctx["E"][srow, cc]
        days = ctx["days"][srow, cc] if ctx["days"] is not None else np.full(len(r), np.nan)
        src = ctx["src"][srow, cc]
        cold = ctx["cold"][srow]
        unseen = ctx["unseen"][srow, cc]
        calib = np.where(cold, 0, ctx["calib"][srow, cc])
        new_res = self.quality_new_[r]
        seen = ctx["seen"][pair]
        p = batch.p_success[pair]
        eg = batch.expected_gain[pair]
        if batch.cf_gain is not None:
            cfg, cfn = batch.cf_gain[pair], batch.cf_n[pair]
        else:
            cfg = cfn = np.zeros(len(r), np.float32)
        fb = np.full(len(r), "", dtype=object)
        for flag, mask in (
            ("cold_start_student", cold),
            ("unseen_concept", unseen & ~cold),
            ("calibrated", calib > 0),
            ("new_resource", new_res),
        ):
            fb[mask] = np.where(fb[mask] == "", flag, fb[mask] + ";" + flag)
        met = self.concepts_space_.prerequisites_met(ctx["M"] >= self.threshold)[srow, cc]
        src_names = np.asarray(SOURCE_NAMES, dtype=object)[src]
        cnames = self.concepts_space_.names[cc]
        m_out = m_now.astype(float).round(4)
        p_out = p.astype(float).round(4)
        q_out = self.quality_arr_[r].astype(float).round(4)
        cfg_out = np.asarray(cfg, float).round(4)
        minutes = res.minutes[r].astype(float)
        is_q = res.is_quality[r]
        reasons = None
        if with_reasons:
            thr, band, mode = self.threshold, tuple(self.band), self.cf_mode_
            qev = self.quality_ev_[r]
            reasons = [
                reasons_for(
                    {
                        "source": src_names[i],
                        "concept_name": cnames[i],
                        "mastery": m_out[i],
                        "mastery_stored": float(m_stored[i]),
                        "evidence": float(evidence[i]),
                        "days_since": float(days[i]),
                        "prereq_met": bool(met[i]),
                        "target_name": "",
                        "p_success": p_out[i],
                        "quality": q_out[i],
                        "quality_evidence": int(qev[i]),
                        "new_resource": bool(new_res[i]),
                        "is_quality": bool(is_q[i]),
                        "cf_gain": cfg_out[i],
                        "cf_n": int(cfn[i]),
                        "cf_mode": mode,
                        "minutes": minutes[i],
                        "seen": bool(seen[i]),
                        "cold_start": bool(cold[i]),
                        "calibration": CALIBRATION_SOURCES[int(calib[i])],
                        "threshold": thr,
                        "band": band,
                    },
                    lang,
                )
                for i in range(len(r))
            ]
        df = pd.DataFrame(
            {
                "student_id": np.asarray(ids, dtype=object)[srow],
                "rank": rank0 + 1,
                "resource_id": self.resource_ids_arr_[r],
                "title": res.titles[r],
                "type": self.type_names_arr_[res.type_codes[r]],
                "concept_id": self.concept_ids_arr_[cc],
                "concept_name": cnames,
                "source": src_names,
                "score": score.astype(float),
                "expected_gain": eg.astype(float),
                "mastery": m_out,
                "p_success": p_out,
                "quality": q_out,
                "cf_gain": cfg_out,
                "cf_n": np.asarray(cfn).astype(int),
                "minutes": minutes,
                "is_quality": is_q,
                "seen": seen,
                "reasons": reasons,
                "fallback": fb,
            }
        )
        return df

    def recommend(
        self,
        student_id: str,
        k: int | None = None,
        *,
        exclude_seen: bool | None = None,
        target: str | list[str] | None = None,
        types: Iterable[str] | None = None,
        max_minutes: float | None = None,
        mastery: Mapping[str, float] | None = None,
        seen: Iterable[str] | None = None,
        lang: str | None = None,
        reasons: bool = True,
    ) -> pd.DataFrame:
        """Top-``k`` resources for one student, best first, with reasons.

        ``mastery`` (concept -> p) and ``seen`` (resource ids) apply to this call only,
        e.g. fresh values from a tracer's online state. Unknown students get the
        documented cold start (flagged). See :meth:`recommend_batch` for the rest.
        """
        sid = str(student_id)
        return self.recommend_batch(
            [sid],
            k,
            exclude_seen=exclude_seen,
            targets={sid: target} if target else None,
            types=types,
            max_minutes=max_minutes,
            mastery={sid: mastery} if mastery else None,
            seen={sid: list(seen)} if seen else None,
            lang=lang,
            reasons=reasons,
        ).reset_index(drop=True)

    def score(self, student_id: str, resource_ids: Sequence[str]) -> pd.DataFrame:
        """Scores of the given resources for one student (no filtering or reranking).

        Unknown resource ids get ``score`` NaN and the flag ``unknown_resource``;
        non-candidates (not teaching a current candidate concept) get
        ``candidate=False`` and their raw score.
        """
        check_is_fitted(self, "scorer_")
        sid = str(student_id)
        ids = [str(r) for r in resource_ids]
        ri = self.resources_space_.ids.get_indexer(ids) if ids else np.zeros(0, int)
        out = pd.DataFrame({"student_id": sid, "resource_id": pd.Series(ids, dtype=object)})
        for col in SCORE_COLUMNS[2:]:
            out[col] = np.nan
        if not ids:
            return out[list(SCORE_COLUMNS)]
        known = ri >= 0
        j = ri[known].astype(np.int64)
        batch, ctx = self._batch([sid], pairs=(np.zeros(len(j), np.int64), j))
        s = np.full(len(ids), np.nan)
        s[known] = np.asarray(self.scorer_.score(batch), np.float32)
        out["score"] = s
        out.loc[known, "expected_gain"] = batch.expected_gain
        out.loc[known, "p_success"] = batch.p_success
        out.loc[known, "quality"] = self.quality_arr_[j]
        out["candidate"] = False
        out.loc[known, "candidate"] = batch.rel_r > 0
        out["seen"] = False
        out.loc[known, "seen"] = ctx["seen"]
        fb = np.where(known, "", "unknown_resource").astype(object)
        if ctx["cold"][0]:
            fb = np.where(fb == "", "cold_start_student", fb + ";cold_start_student")
        new = np.zeros(len(ids), bool)
        new[known] = self.quality_new_[j]
        fb[new] = np.where(fb[new] == "", "new_resource", fb[new] + ";new_resource")
        out["fallback"] = fb
        return out[list(SCORE_COLUMNS)]


def make_recommender(policy: str = "default", graph=None, **params) -> Recommender:
    """A :class:`Recommender` for a named policy (:data:`POLICIES`).

    Examples
    --------
    >>> make_recommender("popularity").scorer
    'popularity'
    """
    if policy not in POLICIES and policy not in ("gain", "collaborative"):
        raise ValueError(f"unknown policy {policy!r}; known: {', '.join(POLICIES)}")
    return Recommender(graph, scorer=policy, **params)

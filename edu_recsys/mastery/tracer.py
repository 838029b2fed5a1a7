"""The tracer API shared by every mastery model, and the feature-based tracer.

Every tracer is a scikit-learn classifier over interactions tables:

* ``fit(interactions)`` (labels from ``correct``, or ``y``);
* ``predict_proba(interactions)``: P(correct) of every row from that student's strictly
  earlier answers in the table (a 1-D array: the probability of the positive class;
  rows of one multi-concept answer share it);
* ``mastery(history, students=None, concepts=None)``: long table ``student_id,
  concept_id, mastery, evidence, fallback``;
* ``predict_next(history, candidates)``: P(correct) if each candidate item were the
  student's next answer;
* ``online_state(history)``: a state that folds in one answer in O(1).

**Mastery** of a concept (contract, see :data:`edu_recsys.constants.MASTERY_THRESHOLD`)
is the predicted probability that the student answers a *typical item* of that concept
correctly *now*, given everything answered so far. A typical item is a new item (never
answered by the student) with the concept's average difficulty. ``evidence`` is the
number of the student's earlier answers on the concept.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from scipy.special import expit, logit
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.utils.validation import check_is_fitted

from edu_recsys.data.schema import CONCEPTS, ITEM, STUDENT
from edu_recsys.exceptions import InvalidDataError
from edu_recsys.mastery.answers import Answers, check_interactions
from edu_recsys.mastery.features import HistoryFeatures, QueryBatch
from edu_recsys.mastery.linear import SparseDenseLogisticRegression, single_blas_thread
from edu_recsys.mastery.state import build_state, join_flags, query_batch

__all__ = ["BaseTracer", "FeatureTracer", "MASTERY_COLUMNS"]

log = logging.getLogger(__name__)

# queries per batch in mastery() (memory stays bounded for large cohorts)
_QUERY_CHUNK = 200_000

#: columns of :meth:`BaseTracer.mastery`
MASTERY_COLUMNS = ["student_id", "concept_id", "mastery", "evidence", "fallback"]


def _as_concept_tuple(c) -> tuple[str, ...]:
    if c is None:
        return ()
    if isinstance(c, str):
        return (c,)
    return tuple(str(x) for x in c)


class BaseTracer(ClassifierMixin, BaseEstimator):
    """Shared tracer API; subclasses implement ``fit``, ``_answer_proba``, ``_state``
    and ``_query``."""

    # -- hooks ---------------------------------------------------------------
    def _answer_proba(self, X: pd.DataFrame) -> tuple[np.ndarray, Answers]:
        raise NotImplementedError

    def _state(self, history: pd.DataFrame):
        raise NotImplementedError

    def _query(self, state, students, items, concepts) -> tuple[np.ndarray, dict, np.ndarray]:
        raise NotImplementedError

    def _fitted_concepts(self) -> np.ndarray:
        raise NotImplementedError

    # -- predictions ---------------------------------------------------------
    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """P(correct) of every row of ``X`` from the student's earlier answers in ``X``.

        Returns a 1-D array (the positive class) aligned with the rows of ``X``.
        """
        check_is_fitted(self)
        check_interactions(X)
        p, ans = self._answer_proba(X)
        return p[ans.row_answer]

    def predict_proba_answers(self, X: pd.DataFrame) -> tuple[np.ndarray, Answers]:
        """P(correct) per *answer* and the :class:`Answers` (for per-answer metrics)."""
        check_is_fitted(self)
        check_interactions(X)
        return self._answer_proba(X)

    def decision_function(self, X: pd.DataFrame) -> np.ndarray:
        """Log-odds of :meth:`predict_proba` (lets scikit-learn's ``roc_auc`` scorer work)."""
        p = np.clip(self.predict_proba(X), 1e-12, 1 - 1e-12)
        return logit(p)

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """0/1 prediction of every row (P(correct) >= 0.5)."""
        return (self.predict_proba(X) >= 0.5).astype(np.int64)

    # -- mastery ---------------------------------------------------------------
    @property
    def concepts_(self) -> np.ndarray:
        """Concept ids known to the fitted model."""
        check_is_fitted(self)
        return self._fitted_concepts()

    def mastery(
        self,
        history: pd.DataFrame,
        students=None,
        concepts=None,
    ) -> pd.DataFrame:
        """Mastery of every (student, concept) after ``history``.

        Parameters
        ----------
        history : DataFrame
            Canonical interactions (the students' answers so far).
        students : sequence of str, optional
            Default: the students of ``history`` (order of first appearance). Students
            without history get the new-student prior, flagged ``unseen_student``.
        concepts : sequence of str, optional
            Default: the concepts known to the model. Unknown ones are flagged
            ``unseen_concept``.

        Returns
        -------
        DataFrame
            Columns ``student_id, concept_id, mastery, evidence, fallback`` (one row
            per student and concept; see the module docstring for the meaning).
        """
        check_is_fitted(self)
        check_interactions(history, what="history")
        state = self._state(history)
        if students is None:
            students = pd.unique(history[STUDENT].astype(str)) if len(history) else []
        students = np.asarray([str(s) for s in students], dtype=object)
        if concepts is None:
            concepts = self._fitted_concepts()
        concepts = np.asarray([str(c) for c in concepts], dtype=object)
        # students in chunks of about _QUERY_CHUNK queries (bounded memory)
        per = max(1, _QUERY_CHUNK // max(len(concepts), 1))
        parts = []
        for lo in range(0, max(len(students), 1), per):
            chunk = students[lo : lo + per]
            qs = np.repeat(chunk, len(concepts))
            qc = np.tile(concepts, len(chunk))
            p, flags, evidence = self._query(state, qs, None, [(c,) for c in qc])
            parts.append(
                pd.DataFrame(
                    {
                        "student_id": pd.Series(qs, dtype=object),
                        "concept_id": pd.Series(qc, dtype=object),
                        "mastery": p,
                        "evidence": evidence,
                        "fallback": join_flags(*flags.items()),
                    },
                    columns=MASTERY_COLUMNS,
                )
            )
        return parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)

    def predict_next(
        self,
        history: pd.DataFrame,
        candidates: pd.DataFrame,
        return_fallback: bool = False,
    ):
        """P(correct) if each candidate were its student's next answer.

        Parameters
        ----------
        history : DataFrame
            Canonical interactions so far.
        candidates : DataFrame
            Columns ``student_id, item_id, concept_ids`` (one row per candidate; each
            candidate is scored independently, as if it were the only next answer).
        return_fallback : bool, default False
            Also return the per-candidate fallback flags (``""``, ``unseen_student``,
            ``unseen_item``, ``unseen_concept``, joined by ``|``).

        Returns
        -------
        ndarray (and ndarray of str when ``return_fallback``)
        """
        check_is_fitted(self)
        check_interactions(history, what="history")
        check_interactions(candidates, need_correct=False, what="candidates")
        state = self._state(history)
        qs = candidates[STUDENT].astype(str).to_numpy(dtype=object)
        qi = candidates[ITEM].astype(str).to_numpy(dtype=object)
        qc = [_as_concept_tuple(c) for c in candidates[CONCEPTS]]
        p, flags, _ = self._query(state, qs, qi, qc)
        if return_fallback:
            return p, join_flags(*flags.items())
        return p

    def online_state(self, history: pd.DataFrame | None = None):
        """A state seeded with ``history`` that takes one answer at a time (O(1) each)."""
        raise NotImplementedError


class FeatureTracer(BaseTracer):
    """A classifier on leak-free history features (the IRT / PFA / DAS3H / Best-LR /
    default presets are instances with different features).

    Parameters
    ----------
    features : HistoryFeatures, optional
        The feature transformer (cloned in ``fit``; default Best-LR's blocks).
    classifier : estimator, optional
        A binary classifier on the sparse design matrix (cloned in ``fit``; default
        :class:`~edu_recsys.mastery.linear.SparseDenseLogisticRegression`). Linear
        models with ``coef_`` get a faster prediction path and typical-item offsets.

    Examples
    --------
    >>> df = pd.DataFrame({"student_id": list("aaabbb"), "item_id": list("xyxyxy"),
    ...                    "concept_ids": [("c",)] * 6, "correct": [0, 1, 1, 1, 1, 1]})
    >>> tr = FeatureTracer().fit(df)
    >>> tr.predict_proba(df).shape
    (6,)
    >>> tr.mastery(df).columns.tolist()
    ['student_id', 'concept_id', 'mastery', 'evidence', 'fallback']
    """

    def __init__(self, features: HistoryFeatures | None = None, classifier=None) -> None:
        self.features = features
        self.classifier = classifier

    def fit(self, X: pd.DataFrame, y=None):
        """Fit features and classifier on ``X`` (one training example per answer)."""
        feats = clone(self.features) if self.features is not None else HistoryFeatures()
        clf = (
            clone(self.classifier)
            if self.classifier is not None
            else (SparseDenseLogisticRegression())
        )
        # our own solver takes the sparse and dense parts as they are (less memory)
        Xa, ans = feats._fit_answers(X, y, split=isinstance(clf, SparseDenseLogisticRegression))
        if len(np.unique(ans.y)) < 2:
            raise InvalidDataError(
                "the training answers are all correct or all wrong", column="correct"
            )
        clf = (
            clone(self.classifier)
            if self.classifier is not None
            else (SparseDenseLogisticRegression())
        )
        clf.fit(Xa, ans.y.astype(int))
        self.features_ = feats
        self.classifier_ = clf
        self.classes_ = np.array([0, 1])
        self.n_answers_fit_ = ans.n_answers
        self._fit_typical_offsets(ans)
        return self

    def _linear(self) -> bool:
        c = getattr(self.classifier_, "coef_", None)
        return c is not None and np.ndim(c) == 2 and c.shape[1] == self.features_.n_features_out_

    def _fit_typical_offsets(self, ans: Answers) -> None:
        """Answer-weighted mean item parameter of each concept ("typical item")."""
        nC = len(self.features_.concepts_)
        self.concept_item_offset_ = np.zeros(nC)
        sl = getattr(self.features_, "block_slices_", {}).get("item")
        if sl is None or not self._linear():
            return
        w_item = self.classifier_.coef_[0, sl]
        item_idx, pair_cidx, _ = self.features_._local_maps(ans)
        wa = np.where(item_idx >= 0, w_item[np.maximum(item_idx, 0)], 0.0)
        ok = pair_cidx >= 0
        s = np.bincount(pair_cidx[ok], weights=wa[ans.pair_answer[ok]], minlength=nC)
        c = np.bincount(pair_cidx[ok], minlength=nC)
        self.concept_item_offset_ = np.divide(s, c, out=np.zeros(nC), where=c > 0)

    def _margin(self, q: QueryBatch) -> np.ndarray:
        if q.n >= 5000:  # see SparseDenseLogisticRegression.fit: threaded BLAS hurts here
            with single_blas_thread():
                return self._margin_impl(q)
        return self._margin_impl(q)

    def _margin_impl(self, q: QueryBatch) -> np.ndarray:
        f = self.features_
        if self._linear():
            S, Z = f.encode_split(q)
            w = self.classifier_.coef_[0]
            m = S @ w[: S.shape[1]] + np.asarray(self.classifier_.intercept_).ravel()[0]
            if Z.shape[1]:
                m = m + Z @ w[S.shape[1] :]
            return np.asarray(m).ravel()
        X = f.encode(q)
        if hasattr(self.classifier_, "decision_function"):
            return np.asarray(self.classifier_.decision_function(X)).ravel()
        p = self.classifier_.predict_proba(X)[:, 1]
        return logit(np.clip(p, 1e-12, 1 - 1e-12))

    def _typical_offset(self, q: QueryBatch) -> np.ndarray:
        ok = q.pair_concept_idx >= 0
        n = q.n
        s = np.bincount(
            q.pair_row[ok], weights=self.concept_item_offset_[q.pair_concept_idx[ok]], minlength=n
        )
        c = np.bincount(q.pair_row, minlength=n)
        return np.divide(s, c, out=np.zeros(n), where=c > 0)

    def _answer_proba(self, X: pd.DataFrame) -> tuple[np.ndarray, Answers]:
        from edu_recsys.mastery.answers import build_answers

        ans = build_answers(X, merge_expanded=self.features_.merge_expanded)
        # range by range of whole students: each range's design stays in cache
        m = np.empty(ans.n_answers)
        for a, b, q in self.features_.iter_batches(ans):
            m[a:b] = self._margin(q)
        return expit(m), ans

    def _fitted_concepts(self) -> np.ndarray:
        return self.features_.concepts_.copy()

    def _state(self, history: pd.DataFrame):
        return build_state(self.features_, history)

    def _query(self, state, students, items, concepts):
        q, flags, evidence = query_batch(self.features_, state, students, items, concepts)
        m = self._margin(q)
        if items is None:
            m = m + self._typical_offset(q)
        return expit(m), flags, evidence

    def online_state(self, history: pd.DataFrame | None = None):
        """An :class:`~edu_recsys.mastery.online.FeatureOnlineState` seeded with ``history``."""
        from edu_recsys.mastery.online import FeatureOnlineState

        check_is_fitted(self)
        if history is not None:
            check_interactions(history, what="history")
        return FeatureOnlineState(self, history)

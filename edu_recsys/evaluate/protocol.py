"""The student-level k-fold protocol for mastery models.

For each fold k: fit on the students of the other folds, then predict every answer of
fold k's students from *their own earlier answers* (the students of fold k are never
seen in training). Metrics are computed

* **per answer** (the headline): an answer to an item with several concepts that a
  fold file expands into several rows counts once;
* **per row**: every expanded row gets its answer's prediction and counts, which is
  what most published tables report on the expanded files (comparable, still
  leak-free; a model that looked at sibling rows would be leaky, ours do not).

Folds come from the table's ``fold`` column (public fold files), or from a seeded
assignment of students to ``n_splits`` folds. :class:`StudentKFold` is the same split
as a scikit-learn splitter, so ``cross_validate(model, X, cv=StudentKFold(),
scoring=TRACER_SCORERS)`` works too.
"""

from __future__ import annotations

import logging
import time
import tracemalloc
from collections.abc import Iterator, Sequence

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.model_selection import BaseCrossValidator

from edu_recsys.data.schema import CORRECT, FOLD, STUDENT
from edu_recsys.evaluate.metrics import METRICS, auc, log_loss, rmse, score_all
from edu_recsys.evaluate.segments import answer_segments, segment_scores

__all__ = [
    "StudentKFold",
    "student_folds",
    "cross_validate_tracer",
    "TRACER_SCORERS",
    "evaluate_predictions",
]

log = logging.getLogger(__name__)


def student_folds(
    interactions: pd.DataFrame,
    n_splits: int = 5,
    random_state=0,
    use_fold_column: bool = True,
) -> np.ndarray:
    """Fold number (1..k) of every row: the ``fold`` column, or seeded by student.

    Examples
    --------
    >>> df = pd.DataFrame({"student_id": ["a", "a", "b", "c"]})
    >>> f = student_folds(df, n_splits=2, random_state=0)
    >>> bool(f[0] == f[1]), sorted(set(f.tolist())) == [1, 2]
    (True, True)
    """
    if use_fold_column and FOLD in interactions.columns:
        return interactions[FOLD].to_numpy().astype(np.int64)
    codes, uniq = pd.factorize(interactions[STUDENT])
    rng = np.random.default_rng(random_state)
    fold_of_student = rng.permutation(len(uniq)) % int(n_splits) + 1
    return fold_of_student[codes]


class StudentKFold(BaseCrossValidator):
    """K folds by student (a scikit-learn splitter over interactions tables).

    Uses the table's ``fold`` column when present (``use_fold_column``), otherwise a
    seeded assignment of students to folds. ``groups`` is ignored: the groups are the
    ``student_id`` column.

    Examples
    --------
    >>> df = pd.DataFrame({"student_id": list("aabbccdd")})
    >>> [len(te) for _, te in StudentKFold(n_splits=2).split(df)]
    [4, 4]
    """

    def __init__(self, n_splits: int = 5, random_state=0, use_fold_column: bool = True):
        self.n_splits = n_splits
        self.random_state = random_state
        self.use_fold_column = use_fold_column

    def _folds(self, X) -> np.ndarray:
        return student_folds(X, self.n_splits, self.random_state, self.use_fold_column)

    def split(self, X, y=None, groups=None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        f = self._folds(X)
        for k in np.unique(f):
            yield np.flatnonzero(f != k), np.flatnonzero(f == k)

    def get_n_splits(self, X=None, y=None, groups=None) -> int:
        if X is not None:
            return len(np.unique(self._folds(X)))
        return int(self.n_splits)

    def _iter_test_indices(self, X=None, y=None, groups=None):  # pragma: no cover
        for _, te in self.split(X, y, groups):
            yield te


def _scorer(metric: str, sign: float):
    f = METRICS[metric]

    def score(estimator, X, y=None) -> float:
        p, ans = estimator.predict_proba_answers(X)
        yy = ans.y if y is None else np.asarray(y, dtype=float)[ans.first_row]
        return sign * f(yy, p)

    score.__name__ = f"{'neg_' if sign < 0 else ''}{metric}_per_answer"
    return score


#: scikit-learn scorers (``scoring=TRACER_SCORERS``) computed per answer
TRACER_SCORERS = {
    "auc": _scorer("auc", 1.0),
    "neg_rmse": _scorer("rmse", -1.0),
    "neg_logloss": _scorer("logloss", -1.0),
    "accuracy": _scorer("accuracy", 1.0),
}


def evaluate_predictions(test: pd.DataFrame, p_answers: np.ndarray, ans) -> dict:
    """Per-answer metrics, per-row metrics and segments of one fold's predictions."""
    out = score_all(ans.y, p_answers)
    out["answers"] = int(ans.n_answers)
    rows_y = test[CORRECT].to_numpy(dtype=float)
    p_rows = p_answers[ans.row_answer]
    out["rows"] = int(len(test))
    out["auc_rows"] = auc(rows_y, p_rows)
    out["rmse_rows"] = rmse(rows_y, p_rows)
    out["logloss_rows"] = log_loss(rows_y, p_rows)
    out["segments"] = segment_scores(ans.y, p_answers, answer_segments(ans))
    return out


def cross_validate_tracer(
    estimator,
    interactions: pd.DataFrame,
    *,
    folds: Sequence[int] | None = None,
    n_splits: int = 5,
    random_state=0,
    measure_memory: bool = False,
    online: bool = False,
) -> dict:
    """Run the student-level k-fold protocol for one estimator.

    Parameters
    ----------
    estimator : tracer
        Any estimator of :mod:`edu_recsys.mastery` (cloned for every fold).
    interactions : DataFrame
        Canonical interactions, with a ``fold`` column or not.
    folds : sequence of int, optional
        Only these test folds (default all).
    n_splits, random_state
        Used when the table has no ``fold`` column.
    measure_memory : bool
        Also record the peak of traced memory (tracemalloc) during fit + predict, in an
        extra untimed run of the first fold (tracemalloc slows numpy-heavy code, so the
        timed runs go without it). Reported as ``peak_mem_mb``.
    online : bool
        Also time the online state: seed with the first half of the test fold, then
        fold in the second half one answer at a time.

    Returns
    -------
    dict
        ``folds``: one dict per fold (metrics, ``fit_s``, ``predict_s`` wall seconds,
        ``fit_cpu_s``, ``predict_cpu_s`` CPU seconds of this process, ...) and the
        means over folds of every number (``auc`` is per answer).
    """
    fold_of_row = student_folds(interactions, n_splits, random_state)
    ks = [int(k) for k in np.unique(fold_of_row)]
    if folds is not None:
        ks = [k for k in ks if k in set(int(f) for f in folds)]
    results = []
    for k in ks:
        train = interactions.loc[fold_of_row != k].reset_index(drop=True)
        test = interactions.loc[fold_of_row == k].reset_index(drop=True)
        t0, c0 = time.perf_counter(), time.process_time()
        model = clone(estimator).fit(train)
        t1, c1 = time.perf_counter(), time.process_time()
        p, ans = model.predict_proba_answers(test)
        t2, c2 = time.perf_counter(), time.process_time()
        res = evaluate_predictions(test, p, ans)
        res.update(
            fold=k,
            fit_s=t1 - t0,
            predict_s=t2 - t1,
            fit_cpu_s=c1 - c0,
            predict_cpu_s=c2 - c1,
            predict_answers_per_s=ans.n_answers / max(t2 - t1, 1e-9),
            predict_answers_per_cpu_s=ans.n_answers / max(c2 - c1, 1e-9),
            train_rows=int(len(train)),
        )
        if online and hasattr(model, "online_state"):
            res.update(_time_online(model, test))
        log.info(
            "fold %d: auc %.4f (rows %.4f) fit %.2fs predict %.2fs",
            k,
            res["auc"],
            res["auc_rows"],
            res["fit_s"],
            res["predict_s"],
        )
        results.append(res)
    out = {"folds": results, **_means(results)}
    out["peak_mem_mb"] = (
        _peak_memory(estimator, interactions, fold_of_row, ks[0])
        if (measure_memory and ks)
        else None
    )
    return out


def _peak_memory(estimator, interactions, fold_of_row, k) -> float:
    """Peak traced memory (MiB) of fit + predict on fold ``k`` (tracemalloc)."""
    train = interactions.loc[fold_of_row != k].reset_index(drop=True)
    test = interactions.loc[fold_of_row == k].reset_index(drop=True)
    tracemalloc.start()
    try:
        clone(estimator).fit(train).predict_proba_answers(test)
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def _time_online(model, test: pd.DataFrame) -> dict:
    """Updates per second of the online state on the second half of a test fold."""
    half = len(test) // 2
    state = model.online_state(test.iloc[:half])
    rest = test.iloc[half:]
    cols = [rest[c].to_numpy() for c in ("student_id", "item_id", "concept_ids", "correct")]
    t0, c0 = time.perf_counter(), time.process_time()
    for s, i, c, y in zip(*cols):
        state.update(s, i, c, y)
    dt, dc = time.perf_counter() - t0, time.process_time() - c0
    return {
        "online_updates_per_s": len(rest) / max(dt, 1e-9),
        # per CPU second of the process: what an idle machine's wall time would show
        "online_updates_per_cpu_s": len(rest) / max(dc, 1e-9),
    }


def _means(results: list[dict]) -> dict:
    out: dict = {}
    if not results:
        return out
    keys = [k for k, v in results[0].items() if isinstance(v, (int, float)) and k != "fold"]
    for k in keys:
        vals = [r[k] for r in results if r.get(k) is not None]
        out[k] = float(np.mean(vals)) if vals else None
        if k in ("auc", "auc_rows"):
            out[f"{k}_folds"] = [r[k] for r in results]
            out[f"{k}_std"] = float(np.std(vals)) if vals else None
    segs = [r["segments"] for r in results]
    out["segments"] = {
        name: {m: float(np.nanmean([s[name][m] for s in segs if name in s])) for m in segs[0][name]}
        for name in segs[0]
    }
    return out

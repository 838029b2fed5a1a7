"""Metrics of predicted probabilities against 0/1 outcomes.

All functions take ``y_true`` (0/1) and ``p`` (predicted P(correct)) and return a
float; :func:`score_all` returns them together. AUC is NaN when only one class is
present (instead of raising), so that small segments can be reported.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import roc_auc_score

__all__ = [
    "auc",
    "rmse",
    "log_loss",
    "accuracy",
    "expected_calibration_error",
    "score_all",
    "METRICS",
]

_EPS = 1e-15


def _arrays(y_true, p) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y_true, dtype=float).ravel()
    q = np.asarray(p, dtype=float).ravel()
    if y.shape != q.shape:
        raise ValueError(f"y_true has {y.size} values, p has {q.size}")
    return y, q


def auc(y_true, p) -> float:
    """Area under the ROC curve (NaN when one class is missing).

    Examples
    --------
    >>> auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    0.75
    """
    y, q = _arrays(y_true, p)
    if len(np.unique(y)) < 2:
        return float("nan")
    return float(roc_auc_score(y, q))


def rmse(y_true, p) -> float:
    """Root mean squared error of the probabilities.

    >>> rmse([0, 1], [0.0, 0.5])
    0.3535...
    """
    y, q = _arrays(y_true, p)
    return float(np.sqrt(np.mean((y - q) ** 2))) if y.size else float("nan")


def log_loss(y_true, p) -> float:
    """Mean negative log-likelihood (probabilities clipped to [1e-15, 1 - 1e-15]).

    >>> round(log_loss([1, 0], [0.9, 0.2]), 4)
    0.1643
    """
    y, q = _arrays(y_true, p)
    q = np.clip(q, _EPS, 1 - _EPS)
    if not y.size:
        return float("nan")
    return float(-np.mean(y * np.log(q) + (1 - y) * np.log(1 - q)))


def accuracy(y_true, p, threshold: float = 0.5) -> float:
    """Share of outcomes on the right side of ``threshold``.

    >>> accuracy([1, 0, 1], [0.7, 0.6, 0.2])
    0.3333...
    """
    y, q = _arrays(y_true, p)
    return float(np.mean((q >= threshold) == (y > 0.5))) if y.size else float("nan")


def expected_calibration_error(y_true, p, n_bins: int = 10) -> float:
    """Expected calibration error over ``n_bins`` equal-width probability bins.

    The mean over bins of |observed rate - mean prediction|, weighted by the share of
    predictions in each bin.

    >>> expected_calibration_error([0, 1, 1, 1], [0.2, 0.8, 0.8, 0.8], n_bins=5)
    0.1...
    """
    y, q = _arrays(y_true, p)
    if not y.size:
        return float("nan")
    b = np.minimum((q * n_bins).astype(int), n_bins - 1)
    cnt = np.bincount(b, minlength=n_bins)
    sy = np.bincount(b, weights=y, minlength=n_bins)
    sq = np.bincount(b, weights=q, minlength=n_bins)
    ok = cnt > 0
    return float(np.sum(np.abs(sy[ok] - sq[ok])) / y.size)


#: name -> metric function
METRICS = {
    "auc": auc,
    "rmse": rmse,
    "logloss": log_loss,
    "accuracy": accuracy,
    "ece": expected_calibration_error,
}


def score_all(y_true, p) -> dict[str, float]:
    """Every metric of :data:`METRICS` plus the number of outcomes ``n``.

    >>> sorted(score_all([0, 1], [0.2, 0.9]))
    ['accuracy', 'auc', 'ece', 'logloss', 'n', 'rmse']
    """
    out = {name: f(y_true, p) for name, f in METRICS.items()}
    out["n"] = int(np.asarray(y_true).size)
    return out

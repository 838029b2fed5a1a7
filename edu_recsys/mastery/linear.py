"""L2-penalised logistic regression for wide sparse + narrow dense design matrices.

History feature matrices mix a few thousand one-hot columns (items, concepts) with a
few dozen dense columns (rates, counts). scikit-learn's ``LogisticRegression`` stores
them all in one CSR matrix, where each dense column costs a sparse multiply-add per
row. :class:`SparseDenseLogisticRegression` minimises the same objective (``0.5 *
||w||^2 + C * sum of log losses``, intercept not penalised) with the same L-BFGS
solver, but keeps the mostly-nonzero columns in a dense block, which makes each
iteration several times cheaper. Predictions match scikit-learn's at convergence.
"""

from __future__ import annotations

import logging
import warnings

import numpy as np
import scipy.sparse as sp
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import ThreadpoolController

__all__ = ["SparseDenseLogisticRegression", "single_blas_thread", "minimize_lbfgs", "log_loss_sum"]

log = logging.getLogger(__name__)


_CONTROLLER = None


def single_blas_thread():
    """A context that runs BLAS on one thread (threadpoolctl)."""
    global _CONTROLLER
    if _CONTROLLER is None:
        _CONTROLLER = ThreadpoolController()
    return _CONTROLLER.limit(limits=1, user_api="blas")


def _as_parts(X, threshold: float):
    """(sparse CSR or None, dense array or None, column index of each part)."""
    if hasattr(X, "sparse") and hasattr(X, "dense"):  # SplitDesign
        S = sp.csr_matrix(X.sparse)
        D = np.asarray(X.dense, dtype=float)
        ns = S.shape[1]
        return (
            S if ns else None,
            D if D.shape[1] else None,
            np.arange(ns),
            np.arange(ns, ns + D.shape[1]),
        )
    Xs = sp.csr_matrix(X) if not sp.issparse(X) else X.tocsr()
    n, p = Xs.shape
    nnz_col = np.bincount(Xs.indices, minlength=p)
    dense_cols = np.flatnonzero(nnz_col >= threshold * max(n, 1))
    S, D, sparse_cols = _split(Xs, dense_cols)
    return S, D, sparse_cols, dense_cols


def _split(X, dense_cols: np.ndarray):
    X = sp.csr_matrix(X) if not sp.issparse(X) else X.tocsr()
    n_cols = X.shape[1]
    sparse_cols = np.setdiff1d(np.arange(n_cols), dense_cols)
    S = X[:, sparse_cols].tocsr() if len(sparse_cols) else None
    D = X[:, dense_cols].toarray() if len(dense_cols) else None
    return S, D, sparse_cols


def log_loss_sum(z: np.ndarray, y: np.ndarray, sw: np.ndarray | None = None) -> float:
    """Sum of (weighted) log losses ``log(1 + e^z) - y z``, computed stably.

    The one formula of every solver here (in memory and per partition), so that the
    same weights give the same objective whichever way the rows are split.
    """
    v = np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z))) - y * z
    return float(np.sum(v if sw is None else sw * v))


def minimize_lbfgs(fun, x0, max_iter: int, gtol: float, m: int = 20, ftol: float = 2.2e-9):
    """Minimise ``fun`` (returning value and gradient) by L-BFGS with Armijo steps.

    scipy's L-BFGS-B spends ~25 ms per iteration on bookkeeping for 20k unbounded
    variables; this two-loop recursion costs a few vector operations. Stops like
    scipy: max |gradient| <= gtol, or relative decrease of f <= ftol.
    Returns (x, iterations, converged). Used by
    :class:`SparseDenseLogisticRegression` and by the distributed solver of
    :mod:`edu_recsys.scale`, so that both take the same steps on the same objective.
    """
    x = x0.copy()
    f, g = fun(x)
    S: list[np.ndarray] = []
    Y: list[np.ndarray] = []
    rho: list[float] = []
    for it in range(1, max_iter + 1):
        if np.max(np.abs(g)) <= gtol:
            return x, it - 1, True
        # two-loop recursion: d = -H g
        q = g.copy()
        alphas = []
        for s_, y_, r_ in zip(reversed(S), reversed(Y), reversed(rho)):
            a = r_ * (s_ @ q)
            alphas.append(a)
            q -= a * y_
        if S:
            q *= (S[-1] @ Y[-1]) / (Y[-1] @ Y[-1])
        else:  # first step (or restart): unit length, as scipy does
            q /= max(float(np.linalg.norm(g)), 1e-300)
        for (s_, y_, r_), a in zip(zip(S, Y, rho), reversed(alphas)):
            b = r_ * (y_ @ q)
            q += (a - b) * s_
        d = -q
        gd = g @ d
        if gd >= 0:  # not a descent direction: restart from steepest descent
            S.clear(), Y.clear(), rho.clear()
            d = -g / max(float(np.linalg.norm(g)), 1e-300)
            gd = g @ d
        step = 1.0
        for _ in range(40):
            x_new = x + step * d
            f_new, g_new = fun(x_new)
            if f_new <= f + 1e-4 * step * gd:
                break
            step *= 0.5
        else:
            return x, it, False
        s_ = x_new - x
        y_ = g_new - g
        sy = s_ @ y_
        # keep the pair when the curvature is positive (relative test: the objective
        # is a mean, so absolute values are small)
        if sy > 1e-10 * float(np.linalg.norm(s_) * np.linalg.norm(y_)):
            S.append(s_)
            Y.append(y_)
            rho.append(1.0 / sy)
            if len(S) > m:
                S.pop(0), Y.pop(0), rho.pop(0)
        done = (f - f_new) <= ftol * max(abs(f), abs(f_new), 1.0)
        x, f, g = x_new, f_new, g_new
        if done:
            return x, it, True
    return x, max_iter, np.max(np.abs(g)) <= gtol


class SparseDenseLogisticRegression(ClassifierMixin, BaseEstimator):
    """Binary logistic regression (L2, L-BFGS) that splits dense from sparse columns.

    Parameters
    ----------
    C : float
        Inverse regularisation strength (as in scikit-learn).
    tol : float
        Gradient tolerance of L-BFGS (max |gradient| of the preconditioned, mean-scaled
        objective).
    ftol : float
        L-BFGS also stops when an iteration lowers the objective by less than this
        share. The objective is flat along collinear columns, so two fits that stop
        here can differ in a few predictions by 1e-3 or more; lower ``ftol`` (and
        ``tol``) when two fits must agree closely (e.g. a distributed and an
        in-memory fit).
    max_iter : int
        Maximum L-BFGS iterations.
    dense_threshold : float
        Columns with at least this share of non-zeros are kept dense.
    fit_intercept : bool
        Fit an unpenalised intercept.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 3)); y = (X[:, 0] + rng.normal(size=200) > 0).astype(int)
    >>> clf = SparseDenseLogisticRegression(C=1.0).fit(X, y)
    >>> bool(clf.coef_[0, 0] > 0.5), clf.predict_proba(X[:2]).shape
    (True, (2, 2))
    """

    def __init__(
        self,
        C: float = 1.0,
        tol: float = 1e-6,
        max_iter: int = 1000,
        dense_threshold: float = 0.3,
        fit_intercept: bool = True,
        ftol: float = 2.2e-9,
    ) -> None:
        self.C = C
        self.tol = tol
        self.ftol = ftol
        self.max_iter = max_iter
        self.dense_threshold = dense_threshold
        self.fit_intercept = fit_intercept

    def fit(self, X, y, sample_weight=None):
        # The vector operations here are too small to gain from BLAS threads, and
        # threaded OpenBLAS slows down 100-fold on a busy machine: one thread.
        with single_blas_thread():
            return self._fit(X, y, sample_weight)

    def _fit(self, X, y, sample_weight=None):
        y = np.asarray(y)
        classes = np.unique(y)
        if len(classes) != 2:
            raise ValueError(f"need exactly two classes, got {classes.tolist()}")
        self.classes_ = classes
        yy = (y == classes[1]).astype(float)
        n, p = X.shape
        self.n_features_in_ = p
        S, D, sparse_cols, dense_cols = _as_parts(X, self.dense_threshold)
        sw = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=float)
        C = float(self.C)
        ps = len(sparse_cols)
        pd_ = len(dense_cols)
        fi = self.fit_intercept
        ST = S.T.tocsr() if S is not None else None

        # Diagonal preconditioning: optimise u = sqrt(h) * theta, where h bounds the
        # curvature of each coordinate. Same minimiser, far fewer L-BFGS iterations
        # (one-hot columns of rare and frequent items differ in curvature by 1000x).
        h_s = (
            0.25 * C * np.asarray(S.multiply(S).T @ sw).ravel() + 1.0
            if S is not None
            else np.zeros(0)
        )
        h_d = 0.25 * C * ((D * D).T @ sw) + 1.0 if D is not None else np.zeros(0)
        h = np.r_[h_s, h_d, [0.25 * C * sw.sum() + 1.0] if fi else []]
        pre = 1.0 / np.sqrt(h)
        scale = 1.0 / (C * sw.sum())

        def fun(u):
            theta = u * pre
            ws = theta[:ps]
            wd = theta[ps : ps + pd_]
            b = theta[-1] if fi else 0.0
            z = np.full(n, b)
            if S is not None:
                z += S @ ws
            if D is not None:
                z += D @ wd
            # log(1 + e^z) - y z, stably
            loss = log_loss_sum(z, yy, sw)
            r = sw * (expit(z) - yy)
            g = np.empty_like(theta)
            if S is not None:
                g[:ps] = C * (ST @ r) + ws
            if D is not None:
                g[ps : ps + pd_] = C * (D.T @ r) + wd
            if fi:
                g[-1] = C * r.sum()
            obj = C * loss + 0.5 * (ws @ ws + wd @ wd)
            # scaled like scikit-learn's objective (mean loss) so tol means the same
            return obj * scale, g * pre * scale

        theta0 = np.zeros(ps + pd_ + (1 if fi else 0))
        if fi:
            m = np.clip(np.average(yy, weights=sw), 1e-6, 1 - 1e-6)
            theta0[-1] = np.log(m / (1 - m))
        x, nit, converged = minimize_lbfgs(
            fun, theta0 / pre, self.max_iter, self.tol, ftol=self.ftol
        )
        if not converged:
            warnings.warn(
                f"L-BFGS did not converge in {self.max_iter} iterations",
                ConvergenceWarning,
                stacklevel=2,
            )
        x = x * pre
        coef = np.zeros(p)
        coef[sparse_cols] = x[:ps]
        coef[dense_cols] = x[ps : ps + pd_]
        self.coef_ = coef[None, :]
        self.intercept_ = np.array([x[-1] if fi else 0.0])
        self.n_iter_ = np.array([nit])
        return self

    def decision_function(self, X) -> np.ndarray:
        check_is_fitted(self, "coef_")
        w = self.coef_[0]
        if hasattr(X, "sparse") and hasattr(X, "dense"):  # SplitDesign
            ns = X.sparse.shape[1]
            z = X.sparse @ w[:ns] + X.dense @ w[ns:]
            return np.asarray(z).ravel() + self.intercept_[0]
        Xs = X if sp.issparse(X) else np.asarray(X, dtype=float)
        return np.asarray(Xs @ w).ravel() + self.intercept_[0]

    def predict_proba(self, X) -> np.ndarray:
        p = expit(self.decision_function(X))
        return np.stack([1 - p, p], axis=1)

    def predict(self, X) -> np.ndarray:
        return self.classes_[(self.decision_function(X) > 0).astype(int)]

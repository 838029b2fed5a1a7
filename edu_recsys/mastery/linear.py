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
from scipy.optimize import minimize
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import check_is_fitted

__all__ = ["SparseDenseLogisticRegression"]

log = logging.getLogger(__name__)


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


class SparseDenseLogisticRegression(ClassifierMixin, BaseEstimator):
    """Binary logistic regression (L2, L-BFGS) that splits dense from sparse columns.

    Parameters
    ----------
    C : float
        Inverse regularisation strength (as in scikit-learn).
    tol : float
        Gradient tolerance of L-BFGS.
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
    ) -> None:
        self.C = C
        self.tol = tol
        self.max_iter = max_iter
        self.dense_threshold = dense_threshold
        self.fit_intercept = fit_intercept

    def fit(self, X, y, sample_weight=None):
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
            loss = np.sum(sw * (np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z))) - yy * z))
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
        res = minimize(
            fun,
            theta0 / pre,
            jac=True,
            method="L-BFGS-B",
            options={"maxiter": self.max_iter, "gtol": self.tol, "maxcor": 20},
        )
        if not res.success and res.nit >= self.max_iter:
            warnings.warn(
                f"L-BFGS did not converge in {self.max_iter} iterations",
                ConvergenceWarning,
                stacklevel=2,
            )
        res.x = res.x * pre
        coef = np.zeros(p)
        coef[sparse_cols] = res.x[:ps]
        coef[dense_cols] = res.x[ps : ps + pd_]
        self.coef_ = coef[None, :]
        self.intercept_ = np.array([res.x[-1] if fi else 0.0])
        self.n_iter_ = np.array([res.nit])
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

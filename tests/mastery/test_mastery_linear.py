"""SparseDenseLogisticRegression minimises scikit-learn's objective."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression

from edu_recsys.mastery.features import SplitDesign
from edu_recsys.mastery.linear import SparseDenseLogisticRegression


def _data(seed=0, n=3000):
    rng = np.random.default_rng(seed)
    onehot = sp.csr_matrix((np.ones(n), (np.arange(n), rng.integers(0, 200, n))), shape=(n, 200))
    dense = rng.normal(size=(n, 4))
    w = rng.normal(size=200)
    z = onehot @ w + dense @ np.array([1.0, -0.5, 0.2, 0.0])
    y = (rng.random(n) < 1 / (1 + np.exp(-z))).astype(int)
    return onehot, dense, y


def test_same_solution_as_scikit_learn():
    S, D, y = _data()
    X = sp.hstack([S, sp.csr_matrix(D)], format="csr")
    ours = SparseDenseLogisticRegression(C=0.5, tol=1e-8, max_iter=5000).fit(X, y)
    ref = LogisticRegression(C=0.5, tol=1e-10, max_iter=10000).fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=2e-3)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=2e-3)
    np.testing.assert_allclose(ours.predict_proba(X)[:, 1], ref.predict_proba(X)[:, 1], atol=1e-3)
    assert ours.predict(X).shape == (len(y),)


def test_split_design_equals_csr_input():
    S, D, y = _data(1)
    a = SparseDenseLogisticRegression().fit(SplitDesign(S, D), y)
    b = SparseDenseLogisticRegression().fit(sp.hstack([S, sp.csr_matrix(D)], format="csr"), y)
    np.testing.assert_allclose(a.coef_, b.coef_, atol=1e-6)
    np.testing.assert_allclose(
        a.decision_function(SplitDesign(S, D)), b.decision_function(SplitDesign(S, D).tocsr())
    )


def test_converges_when_the_mean_gradient_is_tiny():
    """Raw counts on many rows (PFA on ASSISTments 2015 once stalled here)."""
    rng = np.random.default_rng(3)
    n = 40_000
    counts = rng.poisson(30, size=(n, 3)).astype(float)
    z = 0.02 * counts[:, 0] - 0.03 * counts[:, 1] + 0.3
    y = (rng.random(n) < 1 / (1 + np.exp(-z))).astype(int)
    ours = SparseDenseLogisticRegression(C=1.0).fit(counts, y)
    ref = LogisticRegression(C=1.0, tol=1e-10, max_iter=10000).fit(counts, y)
    assert ours.n_iter_[0] < 200
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-3)

"""Distributed logistic regression: the same model as scikit-learn in memory."""

from __future__ import annotations

import dask
import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from edu_recsys.scale.solvers import (
    as_logistic_regression,
    lbfgs_logistic,
    partition_loss_grad,
    sgd_logistic,
)


@pytest.fixture(scope="module")
def problem():
    rng = np.random.default_rng(0)
    n = 6_000
    X = sp.hstack(
        [
            sp.random(n, 80, density=0.05, format="csr", random_state=1),
            sp.csr_matrix(rng.normal(size=(n, 5))),
        ],
        format="csr",
    )
    w = rng.normal(size=X.shape[1])
    y = (rng.random(n) < 1 / (1 + np.exp(-(X @ w) + 0.3))).astype(float)
    return X, y


def _parts(X, y, k):
    cuts = np.linspace(0, X.shape[0], k + 1).astype(int)
    return [(X[a:b], y[a:b]) for a, b in zip(cuts[:-1], cuts[1:])]


def test_partition_sums_equal_whole(problem):
    X, y = problem
    coef = np.linspace(-1, 1, X.shape[1] + 1)
    whole = partition_loss_grad((X, y), coef)
    parts = [partition_loss_grad(p, coef) for p in _parts(X, y, 4)]
    assert np.isclose(sum(p[0] for p in parts), whole[0])
    np.testing.assert_allclose(sum(p[1] for p in parts), whole[1], rtol=1e-10)
    assert sum(p[2] for p in parts) == X.shape[0]


@pytest.mark.parametrize("C", [0.05, 1.0])
def test_lbfgs_reaches_sklearns_optimum(dask_threads, problem, C):
    X, y = problem
    ref = LogisticRegression(C=C, tol=1e-10, max_iter=5000).fit(X, y)
    futs = dask_threads.scatter(_parts(X, y, 5))
    # ftol=0: stop on the gradient only (the default also stops when progress stalls)
    coef, b, info = lbfgs_logistic(futs, C=C, tol=1e-10, ftol=0.0)
    assert info["converged"] and info["rows"] == X.shape[0]
    model = as_logistic_regression(coef, b, C=C)
    np.testing.assert_allclose(model.predict_proba(X), ref.predict_proba(X), atol=1e-5)
    np.testing.assert_allclose(model.coef_, ref.coef_, atol=1e-3)
    # an ordinary scikit-learn estimator
    assert clone(model).get_params()["C"] == C


def test_lbfgs_partitioning_does_not_matter(dask_threads, problem):
    X, y = problem
    one = lbfgs_logistic(dask_threads.scatter(_parts(X, y, 1)), C=0.3, tol=1e-8)
    many = lbfgs_logistic(dask_threads.scatter(_parts(X, y, 7)), C=0.3, tol=1e-8)
    np.testing.assert_allclose(one[0], many[0], atol=1e-5)
    assert abs(one[1] - many[1]) < 1e-5


def test_sgd_approaches_the_same_optimum(dask_threads, problem):
    X, y = problem
    ref = LogisticRegression(C=1.0, max_iter=300).fit(X, y)
    parts = [dask.delayed(p) for p in _parts(X, y, 4)]
    coef, b, info = sgd_logistic(lambda p: p, parts, n_rows=X.shape[0], C=1.0, epochs=5)
    p = as_logistic_regression(coef, b).predict_proba(X)[:, 1]
    p_ref = ref.predict_proba(X)[:, 1]
    assert abs(roc_auc_score(y, p) - roc_auc_score(y, p_ref)) < 0.01
    assert np.corrcoef(p, p_ref)[0, 1] > 0.98

"""Logistic regression on design matrices that live on Dask workers.

Two solvers for the L2-penalised logistic regression that scikit-learn's
:class:`~sklearn.linear_model.LogisticRegression` solves in memory:

``lbfgs`` (exact)
    The *same objective* as scikit-learn (mean log loss over all answers plus
    ``||w||^2 / (2 C n)``, intercept not penalised), minimised by L-BFGS-B
    (:func:`scipy.optimize.minimize`, diagonally preconditioned), with the loss and
    gradient summed over partitions by the workers. Only the coefficient vector
    travels; the design matrices stay where they were built (persisted; Dask spills
    them to the workers' disks when it must). The objective is strictly convex, so
    the result is the in-memory optimum, to within the solvers' tolerances.
``sgd`` (streamed)
    :class:`~sklearn.linear_model.SGDClassifier` with log loss and ``alpha = 1 / (C n)``
    (the same objective), ``partial_fit`` chained over partitions (the model moves to
    the data, one partition at a time) for a few epochs, averaged. Approximates the
    same optimum; for data whose design does not fit in the cluster's memory.

Both return an ordinary fitted :class:`~sklearn.linear_model.LogisticRegression`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

import dask
import numpy as np
import scipy.sparse as sp
from scipy.special import expit
from sklearn.linear_model import LogisticRegression, SGDClassifier

from edu_recsys.mastery.linear import log_loss_sum, minimize_lbfgs

__all__ = [
    "partition_loss_grad",
    "lbfgs_logistic",
    "sgd_logistic",
    "sgd_logistic_futures",
    "as_logistic_regression",
]

log = logging.getLogger(__name__)


def partition_loss_grad(
    design: tuple[sp.csr_matrix, np.ndarray], coef: np.ndarray
) -> tuple[float, np.ndarray, int]:
    """Sum of log losses, their gradient (features then intercept) and the row count.

    ``design`` is ``(X, y)`` of one partition; ``coef`` is ``[w..., b]``. The
    arithmetic is that of :class:`~edu_recsys.mastery.linear.
    SparseDenseLogisticRegression` (margins, :func:`~edu_recsys.mastery.linear.
    log_loss_sum`), so a partition's share equals the in-memory sum over its rows.

    Examples
    --------
    >>> X = sp.csr_matrix(np.array([[1.0, 0.0], [0.0, 2.0]]))
    >>> loss, grad, n = partition_loss_grad((X, np.array([1.0, 0.0])), np.zeros(3))
    >>> round(loss, 6), grad.tolist(), n
    (1.386294, [-0.5, 1.0, 0.0], 2)
    """
    X, y = design
    n = X.shape[0]
    if n == 0:
        return 0.0, np.zeros(len(coef)), 0
    w = coef[:-1]
    grad = np.empty(len(coef))
    z = np.full(n, coef[-1])
    if _is_split(X):  # sparse columns, then dense columns
        ns = X.sparse.shape[1]
        if ns:
            z += X.sparse @ w[:ns]
        if X.dense.shape[1]:
            z += X.dense @ w[ns:]
    else:
        z += X @ w
    loss = log_loss_sum(z, y)
    g = expit(z) - y
    if _is_split(X):
        grad[:ns] = X.sparse.T @ g
        grad[ns:-1] = X.dense.T @ g
    else:
        grad[:-1] = X.T @ g
    grad[-1] = g.sum()
    return loss, grad, n


def _is_split(X) -> bool:
    return hasattr(X, "sparse") and hasattr(X, "dense")


def _design_shape(design) -> tuple[int, int]:
    X, _ = design
    return X.shape


def _design_summary(design) -> tuple[int, float, np.ndarray]:
    """Rows, sum of labels and per-column sums of squares of one partition."""
    X, y = design
    if _is_split(X):
        sq = np.r_[
            np.asarray(X.sparse.multiply(X.sparse).sum(axis=0)).ravel(),
            np.einsum("ij,ij->j", X.dense, X.dense),
        ]
    else:
        sq = np.asarray(X.multiply(X).sum(axis=0)).ravel()
    return int(X.shape[0]), float(np.sum(y)), sq


def lbfgs_logistic(
    designs: Sequence[Any],
    *,
    C: float = 1.0,
    tol: float = 1e-4,
    max_iter: int = 1000,
    maxcor: int = 20,
    precondition: bool = True,
    ftol: float = 2.2e-9,
    client=None,
) -> tuple[np.ndarray, float, dict]:
    """Exact L2 logistic regression over partition designs held by Dask.

    Minimises ``(C * sum of log losses + ||w||^2 / 2) / (C n)`` (scikit-learn's
    objective: mean log loss plus ``||w||^2 / (2 C n)``, intercept not penalised),
    starting from zero weights and the intercept at the logit of the mean label, with
    **the in-memory classifier's own solver**
    (:func:`~edu_recsys.mastery.linear.minimize_lbfgs`, the same preconditioning:
    variables rescaled by the square root of a bound on each coordinate's curvature,
    ``0.25 C sum x^2 + 1``). The loss and gradient are summed over the partitions by
    the workers; only the coefficient vector travels. Given the same ``tol`` and
    ``max_iter`` as :class:`~edu_recsys.mastery.linear.SparseDenseLogisticRegression`,
    both fits take the same steps (up to the rounding of the partition sums) and
    stop at the same point of the strictly convex objective.

    Parameters
    ----------
    designs : sequence of futures (or values) of ``(X, y)``
        One per partition, persisted on the workers.
    C, tol, max_iter, maxcor, ftol
        Regularisation, gradient tolerance, iteration cap, L-BFGS memory and
        relative-decrease tolerance (as in the in-memory classifier).
    client : distributed.Client, optional
        Default: the current client.

    Returns
    -------
    coef : ndarray (n_features,)
    intercept : float
    info : dict
        ``n_iter``, ``n_evals``, ``converged``, ``loss`` (mean log loss plus
        penalty), ``seconds``, ``rows``.
    """
    from distributed import default_client

    client = client or default_client()
    summaries = client.gather(client.map(_design_summary, designs, pure=False))
    n = int(sum(s[0] for s in summaries))
    if n == 0:
        raise ValueError("no training rows")
    sum_y = float(sum(s[1] for s in summaries))
    sq = np.sum([s[2] for s in summaries], axis=0)
    d = len(sq)
    C = float(C)
    if precondition:
        h = np.r_[0.25 * C * sq + 1.0, 0.25 * C * n + 1.0]
    else:
        h = np.ones(d + 1)
    pre = 1.0 / np.sqrt(h)
    scale = 1.0 / (C * n)
    evals = 0
    t0 = time.time()
    last: dict[str, Any] = {}

    def fun(u: np.ndarray) -> tuple[float, np.ndarray]:
        nonlocal evals
        evals += 1
        coef = u * pre
        # shipped once per evaluation under a fresh key (a large keyword argument of
        # map would be turned into a task of a fixed name, reused across evaluations)
        cf = client.scatter(coef, broadcast=True, hash=False)
        futs = client.map(partition_loss_grad, designs, coef=cf, pure=False)
        loss = 0.0
        grad = np.zeros(d + 1)
        for lo, gr, _ in client.gather(futs):
            loss += lo
            grad += gr
        del futs, cf
        w = coef[:-1]
        obj = C * loss + 0.5 * float(w @ w)
        grad *= C
        grad[:-1] += w
        last.update(u=u, obj=obj * scale)
        return obj * scale, grad * pre * scale

    m = float(np.clip(sum_y / n, 1e-6, 1 - 1e-6))
    theta0 = np.zeros(d + 1)
    theta0[-1] = np.log(m / (1 - m))
    # the in-memory classifier's own L-BFGS: the same steps on the same objective
    x, nit, converged = minimize_lbfgs(fun, theta0 / pre, max_iter, tol, m=maxcor, ftol=ftol)
    theta = x * pre
    info = {
        "solver": "lbfgs",
        "n_iter": int(nit),
        "n_evals": evals,
        "converged": bool(converged),
        "loss": last["obj"] if np.array_equal(last["u"], x) else float(fun(x)[0]),
        "seconds": round(time.time() - t0, 3),
        "rows": n,
    }
    if not converged:
        log.warning("L-BFGS did not converge in %d iterations", max_iter)
    return theta[:-1].copy(), float(theta[-1]), info


def _partial_fit(model: SGDClassifier, design, seed: int) -> SGDClassifier:
    X, y = design
    if _is_split(X):
        X = X.tocsr()
    if X.shape[0]:
        order = np.random.default_rng(seed).permutation(X.shape[0])
        model.partial_fit(X[order], y[order], classes=np.array([0, 1]))
    return model


def _sgd_model(alpha: float, eta0: float, random_state: int) -> SGDClassifier:
    # averaged SGD on the L2 log-loss (alpha = 1 / (C n)): the same objective as L-BFGS
    return SGDClassifier(
        loss="log_loss",
        penalty="l2",
        alpha=alpha,
        learning_rate="adaptive",
        eta0=eta0,
        average=True,
        random_state=random_state,
        tol=None,
    )


def sgd_logistic(
    make_design,
    partitions: Sequence[Any],
    *,
    n_rows: int,
    C: float = 1.0,
    epochs: int = 3,
    random_state: int = 0,
    eta0: float = 0.1,
    design_args: Sequence[Any] = (),
) -> tuple[np.ndarray, float, dict]:
    """Streamed L2 logistic regression: chained ``partial_fit`` over partitions.

    Parameters
    ----------
    make_design : callable
        ``make_design(partition, *design_args) -> (X, y)``, run on the workers
        (``design_args`` may be delayed objects, shipped once).
    partitions : sequence of delayed partitions
        E.g. ``ddf.to_delayed()``. Each epoch rebuilds the designs from them (no
        design is held in memory beyond the partitions in flight).
    n_rows : int
        Training rows in total (sets ``alpha = 1 / (C n)``).
    epochs : int
        Passes over the data; partitions are visited in a seeded random order and
        rows shuffled inside each partition.

    Returns
    -------
    coef, intercept, info
        The averaged SGD solution.
    """
    alpha = 1.0 / (C * n_rows)
    model = _sgd_model(alpha, eta0, random_state)
    rng = np.random.default_rng(random_state)
    t0 = time.time()
    state = dask.delayed(model)
    for e in range(epochs):
        for k in rng.permutation(len(partitions)):
            design = dask.delayed(make_design)(partitions[k], *design_args)
            state = dask.delayed(_partial_fit, pure=True)(state, design, int(rng.integers(2**31)))
        # compute per epoch: bounds the graph and lets the partitions go
        (model,) = dask.compute(state)
        state = dask.delayed(model)
        log.info("SGD epoch %d/%d done (%.1f s)", e + 1, epochs, time.time() - t0)
    info = {
        "solver": "sgd",
        "epochs": epochs,
        "alpha": alpha,
        "seconds": round(time.time() - t0, 3),
        "rows": n_rows,
    }
    return model.coef_.ravel().copy(), float(model.intercept_[0]), info


def sgd_logistic_futures(
    designs: Sequence[Any],
    *,
    n_rows: int,
    C: float = 1.0,
    epochs: int = 3,
    random_state: int = 0,
    eta0: float = 0.1,
    client=None,
) -> tuple[np.ndarray, float, dict]:
    """:func:`sgd_logistic` over designs already held by the workers (futures).

    Each ``partial_fit`` runs where its partition's design lives; only the model
    travels between workers.
    """
    from distributed import default_client

    client = client or default_client()
    model = _sgd_model(1.0 / (C * n_rows), eta0, random_state)
    rng = np.random.default_rng(random_state)
    t0 = time.time()
    state = client.scatter(model)
    for e in range(epochs):
        for k in rng.permutation(len(designs)):
            state = client.submit(
                _partial_fit, state, designs[k], int(rng.integers(2**31)), pure=False
            )
        client.gather(state)  # one epoch done
        log.info("SGD epoch %d/%d done (%.1f s)", e + 1, epochs, time.time() - t0)
    model = client.gather(state)
    info = {
        "solver": "sgd",
        "epochs": epochs,
        "alpha": 1.0 / (C * n_rows),
        "seconds": round(time.time() - t0, 3),
        "rows": n_rows,
        "designs_kept": True,
    }
    return model.coef_.ravel().copy(), float(model.intercept_[0]), info


def as_logistic_regression(
    coef: np.ndarray, intercept: float, *, C: float = 1.0, n_iter: int = 0, **params: Any
) -> LogisticRegression:
    """A fitted :class:`~sklearn.linear_model.LogisticRegression` with these weights.

    The estimator is the ordinary scikit-learn class (``predict_proba``, pickling,
    ``get_params``), as if it had been fitted in memory.
    """
    lr = LogisticRegression(C=C, **params)
    lr.classes_ = np.array([0, 1])
    lr.coef_ = np.asarray(coef, dtype=float).reshape(1, -1)
    lr.intercept_ = np.array([float(intercept)])
    lr.n_features_in_ = lr.coef_.shape[1]
    lr.n_iter_ = np.array([int(n_iter)], dtype=np.int32)
    return lr

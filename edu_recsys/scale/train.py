"""Fitting mastery models on logs larger than one machine's memory.

:func:`fit_dask` fits a feature-based tracer (:class:`~edu_recsys.mastery.tracer.
FeatureTracer`: the ``default``, ``best_lr``, ``das3h``, ``pfa``, ``irt`` presets) on a
log partitioned by student and returns an **ordinary in-memory tracer** of the same
class, which the API serves and ``joblib`` saves like any other.

How the result relates to the in-memory ``model.fit(table)`` on the same rows:

1. **Features: identical.** The transformer's fitted statistics are sums over
   partitions (:mod:`edu_recsys.scale.features`); every design row is built by the
   transformer's own code from the student's rows.
2. **Classifier:**

   * ``solver="lbfgs"`` (exact): the same strictly convex objective (the classifier's
     ``C``, L2, unpenalised intercept) minimised by L-BFGS-B, with the loss and
     gradient summed by the workers over design matrices they keep in memory
     (spilling to disk when Dask must). Both fits reach the same unique optimum, so
     they agree to within the solvers' tolerance (measured by the tests and ``bench
     scale``; an in-memory fit itself moves by a similar amount when its rows are
     merely reordered). Needs the design matrices to fit in the cluster's memory
     (about 12 bytes per stored value; a multi-machine cluster adds memory linearly).
   * ``solver="sgd"`` (streamed): averaged SGD on the same L2 objective
     (``alpha = 1 / (C n)``), ``partial_fit`` chained over the partitions for
     ``epochs`` passes, rebuilding each partition's design when it is visited; memory
     is one partition at a time, whatever the data size. It approaches the same optimum
     (AUC within about 0.001 on the benchmark) but is not equal to it.
   * ``solver="auto"``: ``lbfgs`` when the estimated design fits in half the
     workers' memory, else ``sgd``.

3. **Typical-item offsets** of the mastery table: sums over (item, concept) pairs,
   identical.

Models that are not feature-based (``bkt``) are not trained here.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence
from typing import Any

import dask
import dask.dataframe as dd
import joblib
import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression

from edu_recsys.mastery.features import HistoryFeatures
from edu_recsys.mastery.linear import SparseDenseLogisticRegression
from edu_recsys.mastery.tracer import FeatureTracer
from edu_recsys.scale.errors import ScaleError
from edu_recsys.scale.features import (
    FittedFeatures,
    fit_features,
    standardise_designs,
    training_design,
)
from edu_recsys.scale.solvers import lbfgs_logistic, sgd_logistic, sgd_logistic_futures

__all__ = ["fit_dask", "make_template", "save_model", "load_model", "estimate_design_bytes"]

log = logging.getLogger(__name__)


def make_template(model: str | FeatureTracer = "default") -> FeatureTracer:
    """An unfitted feature-based tracer: a preset name or an estimator."""
    if isinstance(model, str):
        try:
            from edu_recsys.mastery import make_model
        except ImportError:  # presets not available in this installation
            if model in ("default", "best_lr"):
                return FeatureTracer()
            raise ScaleError(f"unknown mastery preset {model!r}") from None
        model = make_model(model)
    if not isinstance(model, FeatureTracer):
        raise ScaleError(
            f"{type(model).__name__} is not a feature-based tracer; only those "
            "(default, best_lr, das3h, pfa, irt) train on partitions"
        )
    return model


def _design_xy(df, fitted: FittedFeatures):
    X, y, _ = training_design(df, fitted)
    return X, y


def _design_nbytes(design) -> int:
    X, y = design
    S, Z = (X.sparse, X.dense) if hasattr(X, "sparse") else (X, np.zeros(0))
    return int(S.data.nbytes + S.indices.nbytes + S.indptr.nbytes + Z.nbytes + y.nbytes)


def _head_design_nbytes(df, fitted: FittedFeatures, rows: int) -> tuple[int, int]:
    head = df.iloc[:rows]
    # whole students only, so that the sample's histories are real ones
    last = head["student_id"].iloc[-1] if len(head) else None
    if len(head) == rows and last is not None and len(df) > rows:
        head = head[head["student_id"] != last]
    X, y, _ = training_design(head, fitted)
    return _design_nbytes((X, y)), X.shape[0]


def estimate_design_bytes(
    partitions: Sequence[Any], fitted: FittedFeatures, n_answers: int, rows: int = 20_000
) -> int:
    """Bytes of the whole training design, extrapolated from a head of one partition."""
    nbytes, n = dask.compute(dask.delayed(_head_design_nbytes)(partitions[0], fitted, rows))[0]
    return int(nbytes / max(n, 1) * n_answers)


def _n_rows(design) -> int:
    return int(design[0].shape[0])


def _cluster_memory(client) -> int:
    info = client.scheduler_info(n_workers=-1)["workers"]
    return int(sum(w.get("memory_limit") or 0 for w in info.values()))


def _classifier(template: FeatureTracer):
    clf = template.classifier
    if clf is None:
        return SparseDenseLogisticRegression()
    if not isinstance(clf, (SparseDenseLogisticRegression, LogisticRegression)):
        raise ScaleError(
            f"classifier {type(clf).__name__} has no distributed solver; use "
            "SparseDenseLogisticRegression or LogisticRegression"
        )
    return clf


def _with_weights(clf, coef: np.ndarray, intercept: float, n_iter: int):
    out = clone(clf)
    out.classes_ = np.array([0, 1])
    out.coef_ = np.asarray(coef, dtype=float).reshape(1, -1)
    out.intercept_ = np.array([float(intercept)])
    out.n_features_in_ = out.coef_.shape[1]
    out.n_iter_ = np.array([int(n_iter)], dtype=np.int32)
    return out


def _lbfgs_for(clf, designs, client, tol: float | None) -> tuple[np.ndarray, float, dict]:
    """The in-memory classifier's objective (same C, intercept), solved distributed."""
    if not getattr(clf, "fit_intercept", True):
        raise ScaleError("fit_intercept=False is not supported by the distributed solver")
    if getattr(clf, "penalty", "l2") not in ("l2", "deprecated") and not isinstance(
        clf, SparseDenseLogisticRegression
    ):
        raise ScaleError(f"penalty {clf.penalty!r} is not supported (L2 only)")
    return lbfgs_logistic(
        designs,
        C=clf.C,
        tol=clf.tol if tol is None else tol,
        max_iter=int(clf.max_iter),
        ftol=float(getattr(clf, "ftol", 2.2e-9)),
        client=client,
    )


def _typical_offsets(tracer: FeatureTracer, fitted: FittedFeatures) -> np.ndarray:
    """``FeatureTracer._fit_typical_offsets`` from the (item, concept) pair counts."""
    feats = fitted.features
    st = fitted.stats
    nC = len(feats.concepts_)
    off = np.zeros(nC)
    sl = getattr(feats, "block_slices_", {}).get("item")
    if sl is None:
        return off
    w_item = tracer.classifier_.coef_[0, sl]
    items = pd.Index(feats.items_, dtype=object)
    item_idx = items.get_indexer(st.items[st.pair_item]) if len(st.pair_item) else []
    wa = np.where(np.asarray(item_idx) >= 0, w_item[np.maximum(item_idx, 0)], 0.0)
    s = np.bincount(st.pair_concept, weights=wa * st.pair_n, minlength=nC)
    c = np.bincount(st.pair_concept, weights=st.pair_n, minlength=nC)
    return np.divide(s, c, out=np.zeros(nC), where=c > 0)


def _partitions(data) -> list:
    if isinstance(data, dd.DataFrame):
        return list(data.to_delayed())
    return list(data)


def fit_dask(
    data: dd.DataFrame | Sequence[Any],
    model: str | FeatureTracer = "default",
    *,
    solver: str = "auto",
    epochs: int = 3,
    random_state: int = 0,
    memory_share: float = 0.5,
    tol: float | None = None,
    cache_designs: bool = False,
    sgd_eta0: float = 0.005,
    client=None,
) -> tuple[FeatureTracer, dict]:
    """Fit a feature-based tracer on a log partitioned by student.

    Parameters
    ----------
    data : dask DataFrame or sequence of delayed DataFrames
        Whole students per partition, each student's rows in time order (see
        :func:`edu_recsys.scale.io.partition_by_student`); the training rows.
    model : str or FeatureTracer
        A preset name (``"default"``) or an unfitted feature-based tracer.
    solver : {"auto", "lbfgs", "sgd"}
        See the module docstring.
    epochs : int
        Passes of the ``sgd`` solver.
    random_state : int
        Seeds the ``sgd`` solver's visiting order (the features' own seed is a
        parameter of the transformer).
    memory_share : float
        ``auto`` picks ``lbfgs`` when the design needs less than this share of the
        workers' memory.
    tol : float, optional
        Gradient tolerance of ``lbfgs`` (default: the classifier's ``tol``).
    cache_designs : bool
        For ``sgd``: keep the designs built while fitting the features on the
        workers (Dask spills what does not fit in memory to their local disks), so
        the epochs read them instead of rebuilding the features. ``lbfgs`` always
        keeps them.
    sgd_eta0 : float
        Initial step of the ``sgd`` solver (scikit-learn's ``adaptive`` schedule).
    client : distributed.Client, optional
        Default: the current client.

    Returns
    -------
    tracer : FeatureTracer
        Fitted; the same class and attributes as an in-memory fit.
    report : dict
        Rows, answers, solver and its convergence, seconds per stage.
    """
    from distributed import default_client

    client = client or default_client()
    if solver not in ("auto", "lbfgs", "sgd"):
        raise ValueError("solver must be 'auto', 'lbfgs' or 'sgd'")
    template = make_template(model)
    clf_t = _classifier(template)
    parts = _partitions(data)
    if not parts:
        raise ScaleError("no partitions to fit on")
    t0 = time.time()
    decided: dict[str, Any] = {}

    def keep(f: FittedFeatures) -> bool:
        # after pass 1: pick the solver, and whether pass 2 keeps the designs
        chosen = solver
        if solver == "auto":
            need = estimate_design_bytes(parts, f, f.stats.n_answers)
            have = _cluster_memory(client)
            chosen = "lbfgs" if have and need < memory_share * have else "sgd"
            decided.update(design_bytes_estimate=need, cluster_memory_bytes=have)
        decided["solver"] = chosen
        return chosen == "lbfgs" or cache_designs

    template_features = template.features if template.features is not None else HistoryFeatures()
    fitted = fit_features(template_features, parts, keep_designs=keep, client=client)
    st = fitted.stats
    solver = decided.get("solver", solver if solver != "auto" else "sgd")
    report: dict[str, Any] = {
        "model": model if isinstance(model, str) else type(model).__name__,
        "answers": st.n_answers,
        "students": len(st.students),
        "items": len(st.items),
        "concepts": len(st.concepts),
        "n_features": int(fitted.features.n_features_out_),
        "partitions": len(parts),
        "features_fit_s": round(time.time() - t0, 3),
        "designs_kept": fitted.designs is not None,
        **decided,
    }
    t1 = time.time()
    fitted_d = dask.delayed(fitted, traverse=False)
    if solver == "lbfgs":
        if fitted.designs is not None:
            designs = standardise_designs(fitted, client)
        else:
            designs = client.compute([dask.delayed(_design_xy)(p, fitted_d) for p in parts])
        try:
            coef, b, info = _lbfgs_for(clf_t, designs, client, tol)
        finally:
            client.cancel(designs)
            del designs
    elif fitted.designs is not None:
        designs = standardise_designs(fitted, client)
        try:
            coef, b, info = sgd_logistic_futures(
                designs,
                n_rows=st.n_answers,
                C=float(clf_t.C),
                epochs=epochs,
                random_state=random_state,
                eta0=sgd_eta0,
                client=client,
            )
        finally:
            client.cancel(designs)
            del designs
    else:
        coef, b, info = sgd_logistic(
            _design_xy,
            parts,
            design_args=(fitted_d,),
            n_rows=st.n_answers,
            C=float(clf_t.C),
            epochs=epochs,
            random_state=random_state,
            eta0=sgd_eta0,
        )
    report["classifier"] = info
    report["classifier_fit_s"] = round(time.time() - t1, 3)
    tracer = clone(template)
    tracer.features_ = fitted.features
    tracer.classifier_ = _with_weights(clf_t, coef, b, info.get("n_iter", 0))
    tracer.classes_ = np.array([0, 1])
    tracer.n_answers_fit_ = st.n_answers
    tracer.concept_item_offset_ = _typical_offsets(tracer, fitted)
    report["fit_s"] = round(time.time() - t0, 3)
    return tracer, report


def save_model(model: Any, path: str | os.PathLike) -> None:
    """Save a fitted model (the mastery module's format when it has one, else joblib)."""
    try:
        from edu_recsys.mastery import save_model as _save
    except ImportError:
        joblib.dump(model, path)
        return
    _save(model, path)


def load_model(path: str | os.PathLike) -> Any:
    """Load a model saved by :func:`save_model` (or the mastery module's format)."""
    try:
        from edu_recsys.mastery import load_model as _load
    except ImportError:
        return joblib.load(path)
    return _load(path)

"""The mastery feature code of :mod:`edu_recsys.mastery`, driven partition by partition.

One implementation, two drivers: every feature of an answer depends only on that
student's earlier answers and on statistics fitted once for the whole training set
(vocabularies, item and concept success counts, the scaling of the dense columns).
In memory, :class:`~edu_recsys.mastery.features.HistoryFeatures` computes both from one
table. Here the fitted statistics are computed as *sums over partitions* (exact: counts
add; the dense columns' means and spreads merge with Chan's parallel formulas) and
set on an ordinary ``HistoryFeatures``; each partition's features then come from that
transformer's own ``history_batch`` / ``encode`` code on the partition's rows.

Passes over the data (each a ``map_partitions`` job; only small statistics come back):

0. students in order of first appearance (they fix the cross-fitting folds exactly as
   the in-memory fit draws them);
1. per item (and per fold) attempts and wins, per concept attempts and wins, the
   (item, concept) pairs, first-appearance orders;
2. moments of the dense columns of the training design (with cross-fitted item
   priors, as ``fit_transform`` builds it).

:func:`fit_features` returns the fitted transformer, equal to
``HistoryFeatures.fit(whole_table)`` (the tests compare every fitted attribute and the
transformed matrices). :func:`training_design` builds a partition's training rows
(``fit_transform``'s per-answer rows, i.e. cross-fitted item priors) and
:func:`transform_partition` its ordinary ``transform``.

The driver uses only public hooks of ``HistoryFeatures``: ``crossfit_folds``,
``partial_counts`` / ``FitCounts.merge`` / ``set_counts``, ``crossfit_item_prior``,
``history_batch``, ``dense_columns``, ``encode_split`` (``fitting=True`` for the
column layout, ``scaled=False`` for kept designs), ``merge_moments`` /
``set_dense_moments`` and ``scale_dense``; the in-memory ``fit`` runs through the same
methods. ``tests/scale/test_parity.py`` compares every fitted attribute.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import dask
import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import clone

from edu_recsys.data.schema import STUDENT
from edu_recsys.exceptions import InvalidDataError
from edu_recsys.mastery.answers import build_answers
from edu_recsys.mastery.features import FitCounts, HistoryFeatures, SplitDesign, merge_moments
from edu_recsys.scale.errors import ScaleError

__all__ = [
    "FitStats",
    "fit_features",
    "student_order",
    "crossfit_folds",
    "training_design",
    "transform_partition",
    "design_partition",
    "partition_item_prior",
    "standardise_designs",
]

log = logging.getLogger(__name__)


# ------------------------------------------------------------------------- pass 0


def _students(df: pd.DataFrame) -> np.ndarray:
    return pd.unique(df[STUDENT].astype(str).to_numpy(dtype=object))


def student_order(partitions: Sequence[Any]) -> np.ndarray:
    """All students in order of first appearance over the partitions in order."""
    parts = dask.compute(*[dask.delayed(_students)(p) for p in partitions])
    if not parts:
        return np.zeros(0, dtype=object)
    allids = np.concatenate(parts)
    return pd.unique(allids)


def crossfit_folds(features: HistoryFeatures, students: np.ndarray) -> tuple[pd.Series, int]:
    """Fold of every student, drawn as ``HistoryFeatures.fit`` draws them
    (:meth:`~edu_recsys.mastery.features.HistoryFeatures.crossfit_folds`)."""
    fold, k = features.crossfit_folds(students)
    return pd.Series(fold, index=pd.Index(students, dtype=object)), k


# ------------------------------------------------------------------------- pass 1

#: the additive statistics of a fit (``HistoryFeatures.partial_counts`` per partition,
#: merged with ``FitCounts.merge``)
FitStats = FitCounts


def _pass1(df: pd.DataFrame, feats: HistoryFeatures, fold_of: pd.Series, k: int) -> FitCounts:
    ans = build_answers(df, merge_expanded=feats.merge_expanded)
    try:
        return feats.partial_counts(ans, fold_of, k)
    except InvalidDataError:
        raise InvalidDataError("a partition holds students missing from the fold table") from None


# ------------------------------------------------------------------------- pass 2


def partition_item_prior(feats: HistoryFeatures, ans, fold_of: pd.Series, st: FitCounts):
    """Cross-fitted item priors of a partition's answers (``fit_transform``'s values):
    :meth:`~edu_recsys.mastery.features.HistoryFeatures.crossfit_item_prior`."""
    return feats.crossfit_item_prior(ans, st, fold_of)


def _pass2(df, feats: HistoryFeatures, fold_of, st: FitCounts, keep: bool):
    """Moments of the unscaled dense columns (and the unscaled design when kept)."""
    ans = build_answers(df, merge_expanded=feats.merge_expanded)
    item_p = feats.crossfit_item_prior(ans, st, fold_of)
    if keep:
        # unscaled dense columns, interaction columns left for scale_dense
        S, Z = feats.design(ans, item_p=item_p, scaled=False)
        dense = Z[:, : len(feats.dense_names_)]
    else:
        dense, _, _ = feats.dense_columns(feats.history_batch(ans, item_p=item_p))
    n = dense.shape[0]
    if n == 0:
        moments = (0, np.zeros(dense.shape[1]), np.zeros(dense.shape[1]))
    else:
        mean = dense.mean(axis=0)
        moments = (n, mean, ((dense - mean) ** 2).sum(axis=0))
    design = (SplitDesign(S, Z), ans.y.astype(float)) if keep else None
    return design, moments


# ------------------------------------------------------------------------------ API


@dataclass
class FittedFeatures:
    """A fitted transformer plus what the training passes need."""

    features: HistoryFeatures
    stats: FitStats
    fold_of: pd.Series
    k: int
    designs: list | None = None  # futures of unscaled (X, y) when kept


def fit_features(
    template: HistoryFeatures | None,
    partitions: Sequence[Any],
    *,
    keep_designs: bool | Callable[[FittedFeatures], bool] = False,
    client=None,
) -> FittedFeatures:
    """Fit a ``HistoryFeatures`` (a clone of ``template``) from partitions of students.

    Parameters
    ----------
    template : HistoryFeatures or None
        Unfitted parameters (None: the default blocks).
    partitions : sequence of delayed DataFrames
        ``ddf.to_delayed()`` of a log partitioned by student, in order. Their
        concatenation is the training table the in-memory fit would see.
    keep_designs : bool or callable
        Keep every partition's training design on the workers (as Dask futures in
        ``.designs``) while pass 2 computes it anyway, so that fitting the classifier
        needs no further feature pass (Dask spills them to the workers' disks when
        memory runs short). A callable decides after pass 1 (it gets the
        :class:`FittedFeatures` so far). Not available with the ``*_slopes`` blocks,
        whose sparse columns depend on the final scaling.
    client : distributed.Client, optional
        Needed with ``keep_designs`` (default: the current client).

    Returns
    -------
    FittedFeatures
        ``.features`` equals ``template.fit(concatenated partitions)``.
    """
    feats = clone(template) if template is not None else HistoryFeatures()
    if "item_transition" in feats.blocks:
        # its fitted transition counts are not among the additive FitCounts yet
        raise ScaleError(
            "the item_transition block is fitted in memory only (e.g. preset default_plus); "
            "use a preset without it on Dask"
        )
    students = student_order(partitions)
    fold_of, k = crossfit_folds(feats, students)
    fold_d = dask.delayed(fold_of)
    feats_d = dask.delayed(feats)
    parts = dask.compute(*[dask.delayed(_pass1)(p, feats_d, fold_d, k) for p in partitions])
    st = FitCounts.merge(list(parts))
    st.students = students  # the global first-appearance order (pass 0)
    feats.set_counts(st)
    _init_encoding(feats, partitions[0], fold_of, st)
    fitted = FittedFeatures(features=feats, stats=st, fold_of=fold_of, k=k)
    keep = keep_designs(fitted) if callable(keep_designs) else bool(keep_designs)
    if keep and any(b in feats.blocks for b in ("item_slopes", "concept_slopes")):
        keep = False
    # pass 2: dense moments of the cross-fitted training design
    feats_d = dask.delayed(feats)
    st_d = dask.delayed(st, traverse=False)
    tasks = [dask.delayed(_pass2)(p, feats_d, fold_d, st_d, keep) for p in partitions]
    if keep:
        from distributed import default_client

        client = client or default_client()
        futs = client.compute(tasks)
        moments = client.gather(client.map(_item, futs, index=1, pure=False))
        fitted.designs = client.map(_item, futs, index=0, pure=False)
        client.gather(client.map(_nothing, fitted.designs, pure=False))  # materialised
        del futs
    else:
        moments = [m for _, m in dask.compute(*tasks)]
    n, mean, m2 = merge_moments(list(moments))
    if mean is not None and len(mean):
        feats.set_dense_moments(n, mean, m2)
    return fitted


def _item(x, index):
    return x[index]


def _nothing(x) -> None:
    return None


def _init_encoding(feats, first_partition, fold_of, st) -> None:
    """Names, slices, block weights (as ``encode(fitting=True)`` sets them)."""
    # a tiny batch runs encode's fitting branch for these data-independent attributes
    head = dask.compute(first_partition)[0]
    head = head.iloc[: min(len(head), 50)]
    ans = build_answers(head, merge_expanded=feats.merge_expanded)
    item_p = feats.crossfit_item_prior(ans, st, fold_of)
    q = feats.history_batch(ans, item_p=item_p)
    S, Z = feats.encode_split(q, fitting=True)  # its moments are replaced after pass 2
    feats.n_features_out_ = S.shape[1] + Z.shape[1]


def standardise_designs(fitted: FittedFeatures, client=None) -> list:
    """The kept designs finished with the merged scaling (``HistoryFeatures.scale_dense``).

    In place on the workers (no second copy); returns the futures of ``(X, y)``.
    """
    from distributed import default_client

    client = client or default_client()
    futs = client.map(_standardise, fitted.designs, features=fitted.features, pure=False)
    fitted.designs = None
    return futs


def _standardise(design, features: HistoryFeatures):
    X, _ = design
    if X.dense.shape[1]:
        features.scale_dense(X.dense)
    return design


def training_design(df: pd.DataFrame, fitted: FittedFeatures) -> tuple[Any, np.ndarray, Any]:
    """A partition's training rows: one per answer, cross-fitted item priors.

    Equal to the rows of ``HistoryFeatures._fit_answers(whole_table)`` for these
    answers. Returns ``(X, y, answers)`` with ``X`` a
    :class:`~edu_recsys.mastery.features.SplitDesign` (sparse CSR columns, then the
    dense columns as an array: less memory than all-sparse).
    """
    feats = fitted.features
    ans = build_answers(df, merge_expanded=feats.merge_expanded)
    item_p = feats.crossfit_item_prior(ans, fitted.stats, fitted.fold_of)
    S, Z = feats.design(ans, item_p=item_p)
    # the dense block stays column-major, as in the in-memory fit (same BLAS sums)
    return SplitDesign(S.tocsr(), Z), ans.y.astype(float), ans


def transform_partition(df: pd.DataFrame, features: HistoryFeatures) -> sp.csr_matrix:
    """``features.transform(df)``: the ordinary per-row features of one partition."""
    return features.transform(df)


def design_partition(df: pd.DataFrame, features: HistoryFeatures):
    """A partition's per-answer design as scoring and fitting build it (a
    :class:`~edu_recsys.mastery.features.SplitDesign`: sparse CSR columns and the
    dense block, no per-row CSR) and its answers."""
    ans = build_answers(df, merge_expanded=features.merge_expanded)
    S, Z = features.design(ans)
    return SplitDesign(S, Z), ans

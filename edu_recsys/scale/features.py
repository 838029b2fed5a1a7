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

The driver relies on these parts of ``HistoryFeatures``: the public
``history_batch``/``encode_split``/``item_prior``, and ``_check_params``,
``_concept_prior``, ``_dense``, ``_local_maps``, ``_scale``, the fitted attribute names,
the cross-fitting fold draw and the naming of the ``interactions`` columns (see the
hook request in ``docs/scale.md``). ``tests/scale/test_parity.py`` fails when they
drift.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import dask
import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import clone

from edu_recsys.data.schema import STUDENT
from edu_recsys.exceptions import InvalidDataError
from edu_recsys.mastery.answers import build_answers
from edu_recsys.mastery.features import HistoryFeatures, SplitDesign

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
    """Fold of every student, drawn exactly as ``HistoryFeatures`` draws them in fit."""
    rs = features.random_state
    rng = np.random.default_rng(rs if not hasattr(rs, "integers") else None)
    if isinstance(rs, np.random.RandomState):
        rng = np.random.default_rng(rs.randint(2**31))
    n_st = len(students)
    k = max(2, min(int(features.cv), n_st)) if n_st > 1 else 1
    fold = rng.permutation(n_st) % k
    return pd.Series(fold, index=pd.Index(students, dtype=object)), k


# ------------------------------------------------------------------------- pass 1


@dataclass
class FitStats:
    """Sufficient statistics of a ``HistoryFeatures`` fit (sums over answers)."""

    items: np.ndarray  # item ids, first-appearance order
    item_n: np.ndarray
    item_w: np.ndarray
    item_fold_n: np.ndarray  # (k, n_items)
    item_fold_w: np.ndarray
    tuples: list  # distinct concept tuples, first-appearance order
    concepts: np.ndarray  # concept ids, in the order HistoryFeatures assigns them
    concept_n: np.ndarray
    concept_w: np.ndarray
    concept_fold_n: np.ndarray  # (k, n_concepts)
    concept_fold_w: np.ndarray
    fold_n: np.ndarray  # (k,) answers per fold
    fold_w: np.ndarray  # (k,) wins per fold
    pair_item: np.ndarray  # (item, concept) pairs of the answers: item index
    pair_concept: np.ndarray  # concept index
    pair_n: np.ndarray  # answers with that pair
    n_answers: int = 0
    sum_y: float = 0.0
    has_time: bool = False
    students: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=object))


def _pass1(df: pd.DataFrame, merge_expanded: bool, fold_of: pd.Series, k: int) -> dict:
    ans = build_answers(df, merge_expanded=merge_expanded)
    y = ans.y
    nI = len(ans.item_ids)
    fold = fold_of.reindex(pd.Index(ans.student_ids, dtype=object)).to_numpy()
    if np.isnan(fold.astype(float)).any():
        raise InvalidDataError("a partition holds students missing from the fold table")
    fa = fold.astype(np.int64)[ans.student]
    nC = len(ans.concept_ids)
    # distinct tuples in first-appearance order (HistoryFeatures' concept order)
    tuples = pd.unique(pd.Series(df["concept_ids"].to_numpy(), dtype=object))
    pk = ans.item[ans.pair_answer] * max(nC, 1) + ans.pair_concept
    pk_u, pk_n = np.unique(pk, return_counts=True)
    pfa = fa[ans.pair_answer]
    py = y[ans.pair_answer]
    return {
        "items": np.asarray(ans.item_ids, dtype=object),
        "item_n": np.bincount(ans.item, minlength=nI).astype(float),
        "item_w": np.bincount(ans.item, weights=y, minlength=nI),
        "item_fold_n": np.stack(
            [np.bincount(ans.item[fa == f], minlength=nI).astype(float) for f in range(k)]
        ),
        "item_fold_w": np.stack(
            [np.bincount(ans.item[fa == f], weights=y[fa == f], minlength=nI) for f in range(k)]
        ),
        "tuples": list(tuples),
        "concepts": np.asarray(ans.concept_ids, dtype=object),
        "concept_n": np.bincount(ans.pair_concept, minlength=nC).astype(float),
        "concept_w": np.bincount(ans.pair_concept, weights=py, minlength=nC),
        "concept_fold_n": np.stack(
            [np.bincount(ans.pair_concept[pfa == f], minlength=nC).astype(float) for f in range(k)]
        ),
        "concept_fold_w": np.stack(
            [
                np.bincount(ans.pair_concept[pfa == f], weights=py[pfa == f], minlength=nC)
                for f in range(k)
            ]
        ),
        "fold_n": np.bincount(fa, minlength=k).astype(float),
        "fold_w": np.bincount(fa, weights=y, minlength=k),
        "pair_item": ans.item_ids[pk_u // max(nC, 1)],
        "pair_concept": ans.concept_ids[pk_u % max(nC, 1)] if nC else np.zeros(0, object),
        "pair_n": pk_n.astype(float),
        "n_answers": ans.n_answers,
        "sum_y": float(y.sum()),
        "has_time": ans.time is not None,
    }


def _concept_order(tuples: list) -> np.ndarray:
    """Concept ids as ``concept_pairs`` orders them: flattened distinct tuples."""
    flat = [c for t in tuples for c in t]
    return pd.unique(pd.Series(flat, dtype=object)) if flat else np.zeros(0, dtype=object)


def _merge_pass1(parts: list[dict], k: int) -> FitStats:
    items = pd.unique(np.concatenate([p["items"] for p in parts]))
    iidx = pd.Index(items)
    nI = len(items)
    item_n = np.zeros(nI)
    item_w = np.zeros(nI)
    fn = np.zeros((k, nI))
    fw = np.zeros((k, nI))
    seen_t: dict = {}
    for p in parts:
        j = iidx.get_indexer(p["items"])
        np.add.at(item_n, j, p["item_n"])
        np.add.at(item_w, j, p["item_w"])
        for f in range(k):
            np.add.at(fn[f], j, p["item_fold_n"][f])
            np.add.at(fw[f], j, p["item_fold_w"][f])
        for t in p["tuples"]:
            seen_t.setdefault(t, None)
    tuples = list(seen_t)
    concepts = _concept_order(tuples)
    cidx = pd.Index(concepts)
    nC = len(concepts)
    c_n = np.zeros(nC)
    c_w = np.zeros(nC)
    cfn = np.zeros((k, nC))
    cfw = np.zeros((k, nC))
    pairs: dict[tuple[int, int], float] = {}
    for p in parts:
        j = cidx.get_indexer(p["concepts"])
        np.add.at(c_n, j, p["concept_n"])
        np.add.at(c_w, j, p["concept_w"])
        for f in range(k):
            np.add.at(cfn[f], j, p["concept_fold_n"][f])
            np.add.at(cfw[f], j, p["concept_fold_w"][f])
        pi = iidx.get_indexer(p["pair_item"])
        pc = cidx.get_indexer(p["pair_concept"])
        for a, b, n in zip(pi.tolist(), pc.tolist(), p["pair_n"].tolist()):
            pairs[(a, b)] = pairs.get((a, b), 0.0) + n
    keys = np.array(list(pairs), dtype=np.int64).reshape(-1, 2)
    return FitStats(
        items=np.asarray(items, dtype=object),
        item_n=item_n,
        item_w=item_w,
        item_fold_n=fn,
        item_fold_w=fw,
        tuples=tuples,
        concepts=np.asarray(concepts, dtype=object),
        concept_n=c_n,
        concept_w=c_w,
        concept_fold_n=cfn,
        concept_fold_w=cfw,
        fold_n=np.sum([p["fold_n"] for p in parts], axis=0),
        fold_w=np.sum([p["fold_w"] for p in parts], axis=0),
        pair_item=keys[:, 0],
        pair_concept=keys[:, 1],
        pair_n=np.array(list(pairs.values()), dtype=float),
        n_answers=int(sum(p["n_answers"] for p in parts)),
        sum_y=float(sum(p["sum_y"] for p in parts)),
        has_time=any(p["has_time"] for p in parts),
    )


def _set_counts(feats: HistoryFeatures, st: FitStats, students: np.ndarray) -> None:
    """The fitted state of ``HistoryFeatures._fit_answers`` up to the dense scaling."""
    feats._check_params()
    if st.n_answers == 0:
        raise InvalidDataError("no interactions to fit on")
    feats.has_time_ = st.has_time
    feats.n_windows_ = len(feats.windows) if (feats.windows and st.has_time) else 1
    feats.windows_ = tuple(feats.windows) if (feats.windows and st.has_time) else (np.inf,)
    keep = st.item_n >= feats.min_item_count
    feats.items_ = np.asarray(st.items[keep], dtype=object)
    feats.concepts_ = np.asarray(st.concepts, dtype=object)
    feats.students_ = np.asarray(students, dtype=object)
    feats._item_index = pd.Index(feats.items_)
    feats._concept_index = pd.Index(feats.concepts_)
    feats._student_index = pd.Index(feats.students_)
    feats.mean_ = float(st.sum_y / st.n_answers)
    feats.concept_rate_ = (st.concept_w + 5 * feats.mean_) / (st.concept_n + 5)
    feats.concept_n_ = st.concept_n
    feats.concept_w_ = st.concept_w
    feats.prior_items_ = np.asarray(st.items, dtype=object)
    feats._prior_index = pd.Index(feats.prior_items_)
    feats.item_n_ = st.item_n
    feats.item_w_ = st.item_w


# ------------------------------------------------------------------------- pass 2


def partition_item_prior(feats: HistoryFeatures, ans, fold_of: pd.Series, st: FitStats):
    """Cross-fitted item priors of a partition's answers (``_crossfit_item_p``'s values).

    For an answer of a student in fold ``f``: the item's success rate among the
    *other* folds' answers, shrunk towards its concepts' rates, themselves from the
    other folds. Only whole-table counts per fold enter, so the value does not
    depend on how the students are partitioned.
    """
    if not feats._needs("item_prior", "ability"):
        return np.full(ans.n_answers, feats.mean_)
    k = st.item_fold_n.shape[0]
    _, pair_cidx, _ = feats._local_maps(ans)
    fold = fold_of.reindex(pd.Index(ans.student_ids, dtype=object)).to_numpy().astype(np.int64)
    fa = fold[ans.student]
    g = feats._prior_index.get_indexer(pd.Index(ans.item_ids, dtype=object))[ans.item]
    a = feats.item_prior_strength
    n_total, w_total = float(st.fold_n.sum()), float(st.fold_w.sum())
    out = np.empty(ans.n_answers)
    for f in range(k):
        m = fa == f
        if not m.any():
            continue
        c_n = st.concept_n - st.concept_fold_n[f]
        c_w = st.concept_w - st.concept_fold_w[f]
        mean_o = (w_total - st.fold_w[f]) / max(n_total - st.fold_n[f], 1) if k > 1 else feats.mean_
        rate = (c_w + 5 * mean_o) / (c_n + 5)
        cp = feats._concept_prior(ans.pair_answer, pair_cidx, ans.n_answers, rate)
        n_o = st.item_n[g[m]] - st.item_fold_n[f, g[m]]
        w_o = st.item_w[g[m]] - st.item_fold_w[f, g[m]]
        out[m] = (w_o + a * cp[m]) / (n_o + a)
    return out


def _pass2(df, raw: HistoryFeatures, fold_of, st: FitStats, keep: bool):
    """Moments of the unscaled dense columns (and the unscaled design when kept)."""
    ans = build_answers(df, merge_expanded=raw.merge_expanded)
    item_p = partition_item_prior(raw, ans, fold_of, st)
    q = raw.history_batch(ans, item_p=item_p)
    if keep:
        # unscaled: [dense columns, products of unscaled columns (rebuilt after scaling)]
        S, Z = raw.encode_split(q)
        dense = Z[:, : len(raw.dense_names_)]
    else:
        dense, _, _ = raw._dense(q)
    n = dense.shape[0]
    if n == 0:
        moments = (0, np.zeros(dense.shape[1]), np.zeros(dense.shape[1]))
    else:
        mean = dense.mean(axis=0)
        moments = (n, mean, ((dense - mean) ** 2).sum(axis=0))
    design = (SplitDesign(S.tocsr(), Z), ans.y.astype(float)) if keep else None
    return design, moments


def _merge_moments(parts: list[tuple[int, np.ndarray, np.ndarray]]):
    """Chan et al.'s pairwise merge of (count, mean, sum of squared deviations)."""
    n_a, mean_a, m2_a = 0, None, None
    for n_b, mean_b, m2_b in parts:
        if n_b == 0:
            continue
        if n_a == 0:
            n_a, mean_a, m2_a = n_b, mean_b.copy(), m2_b.copy()
            continue
        n = n_a + n_b
        delta = mean_b - mean_a
        mean_a = mean_a + delta * (n_b / n)
        m2_a = m2_a + m2_b + delta**2 * (n_a * n_b / n)
        n_a = n
    return n_a, mean_a, m2_a


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
    feats._check_params()
    students = student_order(partitions)
    fold_of, k = crossfit_folds(feats, students)
    fold_d = dask.delayed(fold_of)
    parts = dask.compute(
        *[dask.delayed(_pass1)(p, feats.merge_expanded, fold_d, k) for p in partitions]
    )
    st = _merge_pass1(list(parts), k)
    st.students = students
    _set_counts(feats, st, students)
    _init_encoding(feats, partitions[0], fold_of, st)
    fitted = FittedFeatures(features=feats, stats=st, fold_of=fold_of, k=k)
    keep = keep_designs(fitted) if callable(keep_designs) else bool(keep_designs)
    if keep and feats._needs("item_slopes", "concept_slopes"):
        keep = False
    # pass 2: dense moments of the cross-fitted training design
    raw_d = dask.delayed(_raw_view(feats))
    st_d = dask.delayed(st, traverse=False)
    tasks = [dask.delayed(_pass2)(p, raw_d, fold_d, st_d, keep) for p in partitions]
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
    n, mean, m2 = _merge_moments(list(moments))
    if mean is not None and len(mean):
        feats.dense_mean_ = mean
        sd = np.sqrt(m2 / n)
        feats.dense_scale_ = np.where(sd > 1e-12, sd, 1.0)
    return fitted


def _item(x, index):
    return x[index]


def _nothing(x) -> None:
    return None


def _raw_view(feats: HistoryFeatures) -> HistoryFeatures:
    """A shallow copy whose ``encode_split`` returns the dense columns unscaled."""
    raw = copy.copy(feats)
    d = len(getattr(feats, "dense_names_", []))
    raw.dense_mean_ = np.zeros(d)
    raw.dense_scale_ = np.ones(d)
    raw.dense_weight_ = np.ones(d)
    return raw


def _init_encoding(feats, first_partition, fold_of, st) -> None:
    """Names, slices, block weights (as ``encode(fitting=True)`` sets them)."""
    # a tiny batch runs encode's fitting branch for these data-independent attributes
    head = dask.compute(first_partition)[0]
    head = head.iloc[: min(len(head), 50)]
    ans = build_answers(head, merge_expanded=feats.merge_expanded)
    item_p = partition_item_prior(feats, ans, fold_of, st)
    q = feats.history_batch(ans, item_p=item_p)
    S, Z = feats.encode_split(q, fitting=True)  # its moments are replaced after pass 2
    feats.n_features_out_ = S.shape[1] + Z.shape[1]


def standardise_designs(fitted: FittedFeatures, client=None) -> list:
    """The kept designs with their dense columns scaled as ``encode`` scales them.

    In place on the workers (no second copy); returns the futures of ``(X, y)``.
    """
    from distributed import default_client

    client = client or default_client()
    f = fitted.features
    futs = client.map(
        _standardise,
        fitted.designs,
        mean=f.dense_mean_,
        scale=f.dense_scale_,
        weight=f.dense_weight_,
        pairs=_interaction_pairs(f),
        w_int=f._scale("interactions"),
        pure=False,
    )
    fitted.designs = None
    return futs


def _interaction_pairs(f: HistoryFeatures) -> np.ndarray:
    """(i, j) dense-column pairs of the ``interactions`` block, from the feature names."""
    names = list(f.dense_names_)
    d = len(names)
    tail = list(f.feature_names_[f.n_sparse_ + d :])
    if not tail:
        return np.zeros((0, 2), dtype=np.int64)
    lookup = {f"{names[i]}*{names[j]}": (i, j) for i in range(d) for j in range(d) if i != j}
    try:
        return np.array([lookup[t] for t in tail], dtype=np.int64)
    except KeyError as e:
        raise ValueError(f"unknown derived dense column {e}; cannot rescale kept designs") from e


def _standardise(design, mean, scale, weight, pairs, w_int):
    X, y = design
    Z = X.dense
    d = len(mean)
    if d:
        # the same operations, in the same order, as HistoryFeatures.encode_split:
        # z = (dense - mean) / scale; Z = [z * weight, z_i * z_j (* w) for the pairs]
        z = Z[:, :d].copy()
        z -= mean
        z /= scale
        np.multiply(z, weight, out=Z[:, :d])
        for k, (i, j) in enumerate(pairs):
            np.multiply(z[:, i], z[:, j], out=Z[:, d + k])
            if w_int != 1.0:
                Z[:, d + k] *= w_int
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
    item_p = partition_item_prior(feats, ans, fitted.fold_of, fitted.stats)
    S, Z = feats.encode_split(feats.history_batch(ans, item_p=item_p))
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
    S, Z = features.encode_split(features.history_batch(ans))
    return SplitDesign(S, Z), ans

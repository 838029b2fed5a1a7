"""Leak-free history features as a scikit-learn transformer.

:class:`HistoryFeatures` turns an interactions table into a sparse design matrix: one
row per input row, computed per *answer* (see :mod:`edu_recsys.mastery.answers`) from
that student's strictly earlier answers only. Blocks (``blocks`` parameter):

=================  ================================================================
block              columns
=================  ================================================================
``student``        one-hot student (IRT's ability; zero for students not seen in fit)
``item``           one-hot item (difficulty); items seen fewer than ``min_item_count``
                   times in fit share the zero column
``concept``        many-hot concepts of the answer
``concept_counts`` per concept of the answer: earlier attempts and wins (or wins and
                   fails, ``count_kinds``) on that concept, ``log1p`` or raw, in its
                   own column (Best-LR / PFA); per time window when timestamps exist
``item_counts``    earlier attempts and wins on this item (log1p; per window)
``total_counts``   earlier attempts and wins in total (log1p; per window)
``item_prior``     logit of the item's success rate in the training answers, shrunk
                   towards its concepts' rate (``item_prior_strength`` pseudo-answers);
                   cross-fitted by student in ``fit_transform`` so a training answer
                   never sees its own label
``rates``          logit of exponentially decayed success rates (half-lives
                   ``halflives``, in attempts) in total and on the answer's concepts
``recent``         last three outcomes (one-hot of 15 patterns) and signed streak, in
                   total and on the concepts; whether and how the item was answered
``gap``            answers since the concepts were last practised, new-concept flag
``ability``        decayed mean residual (outcome minus item prior): an Elo-like
                   ability in total and per concept
``elapsed``        log time since the last answer, in total and on the concepts
                   (timestamps only)
``item_slopes``    per item: the standardised ability (2PL-like discrimination)
``concept_slopes`` per concept: the standardised concept rate and ability (each
                   concept learns at its own pace)
``interactions``   pairwise products of the standardised key columns (item prior,
                   abilities, rates, attempts, new concept): a little non-linearity
``long_ability``   undecayed mean residual in total, on the concepts and on this item
``transition``     one-hot (previous answer's concept, its outcome, this answer's
                   concept): sequencing and transfer between concepts; the
                   ``transition_concepts`` most answered concepts, the rest pooled
``item_transition`` this item's success rate in training after the same previous
                   item and outcome (logit shift from the item prior, shrunk;
                   cross-fitted by student in fit) and that transition's count
=================  ================================================================

Continuous columns are standardised with the training answers' mean and spread; each
block can be weighted (``block_scale``), which with an L2-penalised model sets that
block's regularisation relative to the others.

Multi-concept answers: shared (non per-concept) concept features are averaged over the
answer's concepts.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from edu_recsys.exceptions import InvalidDataError
from edu_recsys.mastery import compiled
from edu_recsys.mastery.answers import (
    Answers,
    answer_range,
    build_answers,
    check_interactions,
    student_chunks,
)
from edu_recsys.mastery.history import GroupOrder, Stats, WindowIndex, scan

__all__ = [
    "HistoryFeatures",
    "FitCounts",
    "merge_moments",
    "BLOCKS",
    "DAS3H_WINDOWS",
    "QueryBatch",
    "ScopeEvents",
    "SplitDesign",
]

log = logging.getLogger(__name__)

BLOCKS = (
    "student",
    "item",
    "concept",
    "concept_counts",
    "item_counts",
    "total_counts",
    "item_prior",
    "rates",
    "recent",
    "gap",
    "ability",
    "elapsed",
    "item_slopes",
    "concept_slopes",
    "interactions",
    "long_ability",
    "transition",
    "item_transition",
)

# blocks that read the student's previous answer
_PREVIOUS_BLOCKS = ("transition", "item_transition")

# blocks that need the residuals (outcome minus item prior)
_RESIDUAL_BLOCKS = ("ability", "long_ability")

# standardised columns whose pairwise products the "interactions" block adds ({h}: the
# middle half-life)
_INTERACTION_KEYS = (
    "item_prior",
    "total:ability_h{h}",
    "concept:rate_h{h}",
    "total:rate_h{h}",
    "concept:new",
    "total:attempts",
    "concept:ability_h{h}",
    "concept:attempts",
)

#: DAS3H's windows in seconds: hour, day, week, month, all time
DAS3H_WINDOWS = (3600.0, 86400.0, 604800.0, 2592000.0, float("inf"))

_EPS = 1e-4


#: answers per range of :meth:`HistoryFeatures.design` (whole students): a range's
#: columns (8 bytes per answer) stay in a core's cache, the steps are memory-bound
DESIGN_CHUNK = 1 << 16


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, _EPS, 1 - _EPS)
    return np.log(p / (1 - p))


class _PairMean:
    """Mean of per-pair values for each row (0 for rows without pairs); the identity
    when every row has one pair."""

    def __init__(self, pair_row: np.ndarray, n_rows: int) -> None:
        self.n = n_rows
        self.pair_row = pair_row
        self.identity = len(pair_row) == n_rows and bool(
            np.array_equal(pair_row, np.arange(n_rows))
        )
        if not self.identity:
            cnt = np.bincount(pair_row, minlength=n_rows).astype(float)
            # weight 1/count per pair, summed in pair order (as a CSR product would)
            self.w = 1.0 / cnt[pair_row] if len(pair_row) else np.zeros(0)

    def onehot(self, codes: np.ndarray, k: int) -> np.ndarray:
        """``(k, n_rows)``: row j is the mean of ``codes == j`` over each row's pairs."""
        if self.identity:
            return _onehot_rows(codes, k)
        if compiled.enabled():
            return compiled.onehot_pair_mean(self.pair_row, codes, self.w, k, self.n)
        return np.stack([self((codes == j).astype(float)) for j in range(k)])

    def __call__(self, values: np.ndarray) -> np.ndarray:
        values = np.asarray(values, dtype=float)
        if self.identity:
            return values
        if compiled.enabled():
            return compiled.pair_sum(self.pair_row, values, self.w, self.n)
        return np.bincount(self.pair_row, weights=values * self.w, minlength=self.n)


def _onehot_rows(codes: np.ndarray, k: int) -> np.ndarray:
    """``(k, n)`` float: row j is ``codes == j``."""
    if compiled.enabled():
        return compiled.onehot_rows(codes, k)
    return np.stack([(codes == j).astype(float) for j in range(k)])


def _row_design(S: sp.csr_matrix, Z: np.ndarray, ans: Answers) -> sp.csr_matrix:
    """Per-row CSR features from the per-answer split design: rows of one answer
    share them. The rows are taken from the parts before they are joined (cheaper
    than copying rows of the joined matrix); no copy when every row is an answer."""
    ra = ans.row_answer
    if not (len(ra) == S.shape[0] and (len(ra) < 2 or bool(np.all(ra[1:] > ra[:-1])))):
        S = sp.csr_matrix(S)[ra]
        # the dense block is stored column by column: gather along each column
        Z = np.ascontiguousarray(Z.T)[:, ra].T
    return _hstack_dense(S, Z)


class _RowBlocks:
    """Sparse column blocks assembled row by row into one CSR matrix.

    Each block's entries come sorted by row (and by column within a row), so every
    entry's place in the CSR arrays is computed directly: no COO sort, no CSC detour.
    """

    def __init__(self, n_rows: int) -> None:
        self.n = n_rows
        self.width = 0
        self.blocks: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []

    def add(self, rows, cols, vals, width: int) -> int:
        """Append a block of ``width`` columns; returns its first column."""
        lo = self.width
        self.blocks.append(
            (
                np.asarray(rows, dtype=np.int64),
                np.asarray(cols, dtype=np.int64) + lo,
                np.asarray(vals, dtype=float),
            )
        )
        self.width += int(width)
        return lo

    def add_matrix(self, M) -> int:
        """Append a sparse matrix block (duplicates summed); returns its first column."""
        M = sp.csr_matrix(M)
        M.sum_duplicates()  # canonical: sorted indices, no duplicates
        rows = np.repeat(np.arange(M.shape[0]), np.diff(M.indptr))
        return self.add(rows, M.indices, M.data, M.shape[1])

    def tocsr(self) -> sp.csr_matrix:
        n = self.n
        counts = [np.bincount(r, minlength=n) for r, _, _ in self.blocks]
        indptr = np.zeros(n + 1, np.int64)
        if counts:
            np.cumsum(np.sum(counts, axis=0), out=indptr[1:])
        nnz = int(indptr[-1])
        idx = np.int32 if max(nnz, self.width) < 2**31 else np.int64
        data = np.empty(nnz)
        indices = np.empty(nnz, idx)
        nxt = indptr[:-1].copy()  # next free slot of every row
        if compiled.enabled():
            for r, c, v in self.blocks:
                compiled.fill_rows(nxt, r, c, v, data, indices)
            return sp.csr_matrix((data, indices, indptr.astype(idx)), shape=(n, self.width))
        for (r, c, v), cnt in zip(self.blocks, counts):
            if not len(r):
                continue
            first = np.cumsum(cnt) - cnt  # the block's first entry of each row
            pos = nxt[r] + (np.arange(len(r)) - first[r])
            data[pos] = v
            indices[pos] = c
            nxt += cnt
        return sp.csr_matrix((data, indices, indptr.astype(idx)), shape=(n, self.width))


def _hstack_dense(S: sp.csr_matrix, Z: np.ndarray, chunk: int = 4096) -> sp.csr_matrix:
    """``[S | Z]`` as CSR (sorted indices), built in row chunks that stay in cache."""
    n, d = Z.shape
    S = sp.csr_matrix(S)
    if not d:
        return S
    ns = S.shape[1]
    sptr = S.indptr.astype(np.int64)
    indptr = sptr + d * np.arange(n + 1)
    nnz = int(indptr[-1])
    idx = np.int32 if max(nnz, ns + d) < 2**31 else np.int64
    data = np.empty(nnz)
    indices = np.empty(nnz, idx)
    if compiled.enabled():
        compiled.hstack_dense(sptr, S.indices, S.data, Z, ns, indptr, indices, data)
        return sp.csr_matrix((data, indices, indptr.astype(idx)), shape=(n, ns + d))
    dense_cols = np.broadcast_to(np.arange(ns, ns + d, dtype=idx), (chunk, d)).ravel()
    cnt = np.diff(sptr)
    for a in range(0, n, chunk):
        b = min(a + chunk, n)
        lo, hi = indptr[a], indptr[b]
        # sparse entries of rows a..b-1: entry e of row r sits d * r further on
        e0, e1 = sptr[a], sptr[b]
        ps = np.arange(e0, e1) + d * np.repeat(np.arange(a, b), cnt[a:b]) - lo
        mask = np.ones(hi - lo, bool)
        mask[ps] = False
        sub = data[lo:hi]
        sub[ps] = S.data[e0:e1]
        sub[mask] = np.ascontiguousarray(Z[a:b]).ravel()
        subi = indices[lo:hi]
        subi[ps] = S.indices[e0:e1]
        subi[mask] = dense_cols[: (b - a) * d]
    return sp.csr_matrix((data, indices, indptr.astype(idx)), shape=(n, ns + d))


@dataclass
class QueryBatch:
    """Everything the encoder needs about a batch of answers to predict.

    One entry per query (an answer of a table, or a hypothetical next answer), plus
    one entry per (query, concept) pair for the concept scope.
    """

    student_idx: np.ndarray  # fitted student index or -1
    item_idx: np.ndarray  # fitted item index or -1
    item_p: np.ndarray  # item prior success probability
    pos: np.ndarray  # the student's answer count before this answer
    now: np.ndarray | None  # time in seconds
    tot: Stats
    itm: Stats
    pair_row: np.ndarray
    pair_concept_idx: np.ndarray  # fitted concept index or -1
    cpt: Stats
    win_tot: np.ndarray | None = None  # (n, n_windows, 2)
    win_itm: np.ndarray | None = None
    win_cpt: np.ndarray | None = None  # (n_pairs, n_windows, 2)
    # the student's previous answer (``transition`` block): its outcome per query (NaN
    # when none) and its concepts as (query, fitted concept index) pairs sorted by query
    prev_y: np.ndarray | None = None
    prev_pair_row: np.ndarray | None = None
    prev_pair_concept_idx: np.ndarray | None = None
    # ``item_transition`` block: item prior indices (-1 unknown) of the previous answer
    # and of the query, and the block's values when precomputed (cross-fitted in fit)
    prev_item: np.ndarray | None = None
    prior_item_idx: np.ndarray | None = None
    item_transition: np.ndarray | None = None

    @property
    def n(self) -> int:
        return len(self.item_idx)


@dataclass
class SplitDesign:
    """A design matrix kept as its sparse columns followed by its dense columns.

    :class:`~edu_recsys.mastery.linear.SparseDenseLogisticRegression` fits on it
    directly, which avoids storing the dense columns in sparse form.
    """

    sparse: sp.spmatrix
    dense: np.ndarray

    @property
    def shape(self) -> tuple[int, int]:
        return (self.sparse.shape[0], self.sparse.shape[1] + self.dense.shape[1])

    def tocsr(self) -> sp.csr_matrix:
        n, d = self.dense.shape
        if not d:
            return sp.csr_matrix(self.sparse)
        return sp.hstack([self.sparse, sp.csr_matrix(self.dense)], format="csr")


@dataclass
class ScopeEvents:
    """Per-event data of a table in the three scopes (see :meth:`HistoryFeatures.scopes`)."""

    item_idx: np.ndarray
    pair_cidx: np.ndarray
    student_idx: np.ndarray
    item_p: np.ndarray
    r: np.ndarray | None
    g_item: np.ndarray
    g_cpt: np.ndarray
    tot: Stats
    itm: Stats
    cpt: Stats
    orders: dict | None = None  # scope -> GroupOrder (shared with the window counts)


@dataclass
class FitCounts:
    """Additive statistics of a training table: what :meth:`HistoryFeatures.fit`
    learns besides the scaling of the dense columns.

    Counts of disjoint sets of students (partitions of a log) come from
    :meth:`HistoryFeatures.partial_counts` and add up exactly with :meth:`merge`;
    :meth:`HistoryFeatures.set_counts` then sets the fitted vocabularies, success
    counts and item priors. The in-memory ``fit`` goes through the same two methods.

    Ids are in order of first appearance; ``*_fold_*`` arrays have one row per
    cross-fitting fold; ``pair_item``/``pair_concept`` index ``items``/``concepts``
    (the distinct (item, concept) pairs of the answers, ``pair_n`` answers each).
    """

    students: np.ndarray
    items: np.ndarray
    item_n: np.ndarray
    item_w: np.ndarray
    item_fold_n: np.ndarray
    item_fold_w: np.ndarray
    concepts: np.ndarray
    concept_n: np.ndarray
    concept_w: np.ndarray
    concept_fold_n: np.ndarray
    concept_fold_w: np.ndarray
    fold_n: np.ndarray
    fold_w: np.ndarray
    pair_item: np.ndarray
    pair_concept: np.ndarray
    pair_n: np.ndarray
    n_answers: int
    sum_y: float
    has_time: bool

    @property
    def k(self) -> int:
        """Number of cross-fitting folds."""
        return len(self.fold_n)

    @classmethod
    def merge(cls, parts) -> FitCounts:
        """The counts of the concatenated tables, parts in table order.

        Examples
        --------
        >>> df = pd.DataFrame({"student_id": ["a", "a", "b"], "item_id": ["q1", "q2", "q1"],
        ...                    "concept_ids": [("x",), ("y",), ("x",)], "correct": [1, 0, 1]})
        >>> hf = HistoryFeatures()
        >>> fold = {"a": 0, "b": 1}
        >>> parts = [hf.partial_counts(build_answers(p), fold, 2) for p in (df[:2], df[2:])]
        >>> c = FitCounts.merge(parts)
        >>> c.items.tolist(), c.item_n.tolist(), c.item_fold_w.tolist()
        (['q1', 'q2'], [2.0, 1.0], [[1.0, 0.0], [1.0, 0.0]])
        """
        parts = list(parts)
        if not parts:
            raise ValueError("no counts to merge")
        k = parts[0].k
        items = pd.unique(np.concatenate([p.items for p in parts]))
        concepts = pd.unique(np.concatenate([p.concepts for p in parts]))
        students = pd.unique(np.concatenate([p.students for p in parts]))
        iidx, cidx = pd.Index(items), pd.Index(concepts)
        nI, nC = len(items), len(concepts)
        out = {
            "item_n": np.zeros(nI),
            "item_w": np.zeros(nI),
            "item_fold_n": np.zeros((k, nI)),
            "item_fold_w": np.zeros((k, nI)),
            "concept_n": np.zeros(nC),
            "concept_w": np.zeros(nC),
            "concept_fold_n": np.zeros((k, nC)),
            "concept_fold_w": np.zeros((k, nC)),
        }
        pair_keys, pair_n = [], []
        for p in parts:
            ji = iidx.get_indexer(p.items)
            jc = cidx.get_indexer(p.concepts)
            for name, j in (("item", ji), ("concept", jc)):
                for kind in ("n", "w"):
                    np.add.at(out[f"{name}_{kind}"], j, getattr(p, f"{name}_{kind}"))
                    fold = getattr(p, f"{name}_fold_{kind}")
                    for f in range(k):
                        np.add.at(out[f"{name}_fold_{kind}"][f], j, fold[f])
            pair_keys.append(ji[p.pair_item] * max(nC, 1) + jc[p.pair_concept])
            pair_n.append(p.pair_n)
        keys = np.concatenate(pair_keys) if pair_keys else np.zeros(0, np.int64)
        uk, inv = np.unique(keys, return_inverse=True)
        pn = np.bincount(inv, weights=np.concatenate(pair_n), minlength=len(uk))
        return cls(
            students=np.asarray(students, dtype=object),
            items=np.asarray(items, dtype=object),
            concepts=np.asarray(concepts, dtype=object),
            fold_n=np.sum([p.fold_n for p in parts], axis=0),
            fold_w=np.sum([p.fold_w for p in parts], axis=0),
            pair_item=uk // max(nC, 1),
            pair_concept=uk % max(nC, 1),
            pair_n=pn,
            n_answers=int(sum(p.n_answers for p in parts)),
            sum_y=float(sum(p.sum_y for p in parts)),
            has_time=any(p.has_time for p in parts),
            **out,
        )


def merge_moments(parts) -> tuple[int, np.ndarray | None, np.ndarray | None]:
    """Merge ``(count, mean, sum of squared deviations)`` of column blocks (Chan et
    al.'s pairwise formulas), e.g. of the dense columns of several partitions.

    Examples
    --------
    >>> a, b = np.array([[1.0], [2.0]]), np.array([[4.0]])
    >>> n, mean, m2 = merge_moments([(2, a.mean(0), ((a - a.mean(0)) ** 2).sum(0)),
    ...                              (1, b.mean(0), np.zeros(1))])
    >>> n, mean.tolist(), m2.tolist()
    (3, [2.333333333333333], [4.666666666666666])
    """
    n_a, mean_a, m2_a = 0, None, None
    for n_b, mean_b, m2_b in parts:
        if n_b == 0:
            continue
        if n_a == 0:
            n_a, mean_a, m2_a = n_b, np.array(mean_b, dtype=float), np.array(m2_b, dtype=float)
            continue
        n = n_a + n_b
        delta = mean_b - mean_a
        mean_a = mean_a + delta * (n_b / n)
        m2_a = m2_a + m2_b + delta**2 * (n_a * n_b / n)
        n_a = n
    return n_a, mean_a, m2_a


class HistoryFeatures(TransformerMixin, BaseEstimator):
    """Sparse features of each answer from the student's strictly earlier answers.

    Parameters
    ----------
    blocks : tuple of str
        Feature blocks to build (see the module docstring and :data:`BLOCKS`).
    count_transform : {"log1p", "raw"}
        Transform of the per-concept counts (Best-LR: log1p; PFA: raw).
    count_kinds : tuple of str
        Per-concept counts: ``("attempts", "wins")`` or ``("wins", "fails")``.
    windows : tuple of float, optional
        Time windows in seconds (``inf`` = all time) for the count blocks, used when
        the table has timestamps (e.g. :data:`DAS3H_WINDOWS`); without timestamps the
        counts are over all time.
    halflives : tuple of float
        Half-lives, in attempts, of the decayed rates and abilities.
    item_prior_strength : float
        Pseudo-answers that shrink a rare item's success rate towards its concepts'.
    min_item_count : int
        Items with fewer training answers get no one-hot column (the prior covers them).
    block_scale : dict, optional
        Multiplier per block (default 1).
    merge_expanded : bool
        Merge expanded multi-concept rows into one answer (leak-free). False only to
        reproduce the leaky per-row protocol.
    cv : int
        Student folds for the cross-fitted item prior in ``fit_transform``.
    random_state : int, RandomState or None
        Seeds the student folds of the cross-fitting.
    transition_concepts : int
        ``transition`` block: the most answered concepts that get their own
        transition columns; the rest share one code (bounds the block at
        ``2 * (transition_concepts + 1) ** 2`` columns).

    Examples
    --------
    >>> df = pd.DataFrame({"student_id": ["a", "a", "a", "b"],
    ...                    "item_id": ["q1", "q2", "q1", "q2"],
    ...                    "concept_ids": [("x",), ("x",), ("x",), ("x",)],
    ...                    "correct": [0, 1, 1, 1]})
    >>> hf = HistoryFeatures(blocks=("concept_counts", "total_counts")).fit(df)
    >>> hf.get_feature_names_out().tolist()
    ['concept=x:attempts', 'concept=x:wins', 'total:attempts', 'total:wins']
    >>> hf.transform(df).shape
    (4, 4)
    """

    def __init__(
        self,
        blocks: tuple[str, ...] = (
            "item",
            "concept",
            "concept_counts",
            "item_counts",
            "total_counts",
        ),
        count_transform: str = "log1p",
        count_kinds: tuple[str, ...] = ("attempts", "wins"),
        windows: tuple[float, ...] | None = None,
        halflives: tuple[float, ...] = (3.0, 10.0, 30.0),
        item_prior_strength: float = 10.0,
        min_item_count: int = 1,
        block_scale: dict | None = None,
        merge_expanded: bool = True,
        cv: int = 5,
        random_state=0,
        transition_concepts: int = 200,
    ) -> None:
        self.blocks = blocks
        self.count_transform = count_transform
        self.count_kinds = count_kinds
        self.windows = windows
        self.halflives = halflives
        self.item_prior_strength = item_prior_strength
        self.min_item_count = min_item_count
        self.block_scale = block_scale
        self.merge_expanded = merge_expanded
        self.cv = cv
        self.random_state = random_state
        self.transition_concepts = transition_concepts

    # ------------------------------------------------------------------ params
    def _check_params(self) -> None:
        unknown = [b for b in self.blocks if b not in BLOCKS]
        if unknown:
            raise ValueError(f"unknown feature blocks {unknown}; known: {list(BLOCKS)}")
        if self.count_transform not in ("log1p", "raw"):
            raise ValueError("count_transform must be 'log1p' or 'raw'")
        if tuple(self.count_kinds) not in (("attempts", "wins"), ("wins", "fails")):
            raise ValueError("count_kinds must be ('attempts', 'wins') or ('wins', 'fails')")
        if any(h <= 0 for h in self.halflives):
            raise ValueError("halflives must be positive")

    @property
    def lams_(self) -> tuple[float, ...]:
        return tuple(0.5 ** (1.0 / h) for h in self.halflives)

    def _scale(self, block: str) -> float:
        return float((self.block_scale or {}).get(block, 1.0))

    def _needs(self, *names: str) -> bool:
        return any(b in self.blocks for b in names)

    # --------------------------------------------------------------------- fit
    def fit(self, X: pd.DataFrame, y=None):
        """Learn the vocabularies, item priors and column scales from ``X``."""
        self._fit_answers(X, y, split=True)  # the design itself is not kept
        return self

    def fit_transform(self, X: pd.DataFrame, y=None, **fit_params):
        """Fit, then the features of ``X`` with cross-fitted item priors (per row)."""
        Xa, ans = self._fit_answers(X, y, split=True)
        return _row_design(Xa.sparse, Xa.dense, ans)

    def transform(self, X: pd.DataFrame) -> sp.csr_matrix:
        """Features of every row of ``X`` (rows of one answer share them)."""
        check_is_fitted(self, "n_features_out_")
        check_interactions(X)
        ans = build_answers(X, merge_expanded=self.merge_expanded)
        S, Z = self.design(ans)
        return _row_design(S, Z, ans)

    def _fit_answers(
        self, X: pd.DataFrame, y=None, split: bool = False
    ) -> tuple[sp.csr_matrix | SplitDesign, Answers]:
        self._check_params()
        check_interactions(X, need_correct=y is None)
        ans = build_answers(X, merge_expanded=self.merge_expanded)
        if y is not None:
            yy = np.asarray(y, dtype=float)
            if yy.shape != (len(X),):
                raise InvalidDataError(f"y has shape {yy.shape}, expected ({len(X)},)")
            ans.y = yy[ans.first_row]
        if ans.n_answers == 0:
            raise InvalidDataError("no interactions to fit on")
        if self._needs("item_prior", *_RESIDUAL_BLOCKS):
            folds, k = self.crossfit_folds(ans.student_ids)
        else:
            folds, k = np.zeros(len(ans.student_ids), np.int64), 1
        # the same counts (and code) as a fit over partitions: FitCounts.merge
        counts = self.partial_counts(ans, folds, k)
        self.set_counts(counts)
        # cross-fitted item prior for the training answers
        item_p = self.crossfit_item_prior(ans, counts, folds)
        batch = self.history_batch(ans, item_p=item_p)
        if "item_transition" in self.blocks:
            batch.item_transition = self._fit_item_transition(ans, batch)
        if split:
            Xa = SplitDesign(*self.encode_split(batch, fitting=True))
        else:
            Xa = self.encode(batch, fitting=True)
        self.n_features_out_ = Xa.shape[1]
        return Xa, ans

    def _crossfit_item_p(self, ans: Answers) -> np.ndarray:
        """Item priors of the training answers, each from the other students' folds."""
        if not self._needs("item_prior", *_RESIDUAL_BLOCKS):
            return np.full(ans.n_answers, self.mean_)
        folds, k = self.crossfit_folds(ans.student_ids)
        return self.crossfit_item_prior(ans, self.partial_counts(ans, folds, k), folds)

    # ----------------------------------------------------- fitting in pieces
    def crossfit_folds(self, student_ids) -> tuple[np.ndarray, int]:
        """Cross-fitting fold of every training student, and the number of folds.

        ``student_ids`` in order of first appearance in the training table (the draw
        depends on that order). The folds of :meth:`fit_transform`'s item priors.
        """
        if isinstance(self.random_state, np.random.RandomState):
            rng = np.random.default_rng(self.random_state.randint(2**31))
        else:
            rng = np.random.default_rng(self.random_state)
        n_st = len(student_ids)
        k = max(2, min(int(self.cv), n_st)) if n_st > 1 else 1
        return (rng.permutation(n_st) % k).astype(np.int64), k

    def partial_counts(self, ans: Answers, student_fold, k: int) -> FitCounts:
        """The :class:`FitCounts` of one table's answers (e.g. a partition).

        ``student_fold``: the fold of each of ``ans.student_ids`` (an array aligned
        with them, or a mapping / Series from student id to fold); ``k`` folds.
        """
        if isinstance(student_fold, np.ndarray):
            fold = student_fold.astype(np.int64)
        else:
            sf = pd.Series(student_fold) if isinstance(student_fold, dict) else student_fold
            fold = sf.reindex(pd.Index(ans.student_ids, dtype=object)).to_numpy()
            if np.isnan(fold.astype(float)).any():
                raise InvalidDataError("students missing from the fold table")
            fold = fold.astype(np.int64)
        fa = fold[ans.student]
        y = ans.y
        nI, nC = len(ans.item_ids), len(ans.concept_ids)
        pf, py, pc = fa[ans.pair_answer], y[ans.pair_answer], ans.pair_concept
        pk = ans.item[ans.pair_answer] * max(nC, 1) + pc
        pk_u, pk_n = np.unique(pk, return_counts=True)

        def per_fold(codes, f_of, w, size):
            n = np.stack([np.bincount(codes[f_of == f], minlength=size) for f in range(k)])
            s = np.stack(
                [
                    np.bincount(codes[f_of == f], weights=w[f_of == f], minlength=size)
                    for f in range(k)
                ]
            )
            return n.astype(float).reshape(k, size), s.reshape(k, size)

        ifn, ifw = per_fold(ans.item, fa, y, nI)
        cfn, cfw = per_fold(pc, pf, py, nC)
        return FitCounts(
            students=np.asarray(ans.student_ids, dtype=object),
            items=np.asarray(ans.item_ids, dtype=object),
            item_n=np.bincount(ans.item, minlength=nI).astype(float),
            item_w=np.bincount(ans.item, weights=y, minlength=nI),
            item_fold_n=ifn,
            item_fold_w=ifw,
            concepts=np.asarray(ans.concept_ids, dtype=object),
            concept_n=np.bincount(pc, minlength=nC).astype(float),
            concept_w=np.bincount(pc, weights=py, minlength=nC),
            concept_fold_n=cfn,
            concept_fold_w=cfw,
            fold_n=np.bincount(fa, minlength=k).astype(float),
            fold_w=np.bincount(fa, weights=y, minlength=k),
            pair_item=pk_u // max(nC, 1),
            pair_concept=pk_u % max(nC, 1),
            pair_n=pk_n.astype(float),
            n_answers=ans.n_answers,
            sum_y=float(y.sum()),
            has_time=ans.time is not None,
        )

    def set_counts(self, counts: FitCounts) -> HistoryFeatures:
        """Set the fitted vocabularies and success counts from ``counts`` (everything
        :meth:`fit` learns except the scaling of the dense columns, see
        :meth:`set_dense_moments` and :meth:`encode_split` with ``fitting=True``)."""
        self._check_params()
        if counts.n_answers == 0:
            raise InvalidDataError("no interactions to fit on")
        self.has_time_ = bool(counts.has_time)
        self.n_windows_ = len(self.windows) if (self.windows and self.has_time_) else 1
        self.windows_ = tuple(self.windows) if (self.windows and self.has_time_) else (np.inf,)
        keep = counts.item_n >= self.min_item_count
        self.items_ = np.asarray(counts.items[keep], dtype=object)
        self.concepts_ = np.asarray(counts.concepts, dtype=object)
        self.students_ = np.asarray(counts.students, dtype=object)
        self._item_index = pd.Index(self.items_)
        self._concept_index = pd.Index(self.concepts_)
        self._student_index = pd.Index(self.students_)
        self.mean_ = float(counts.sum_y / counts.n_answers)
        self.concept_rate_ = (counts.concept_w + 5 * self.mean_) / (counts.concept_n + 5)
        self.concept_n_ = counts.concept_n
        self.concept_w_ = counts.concept_w
        # all items seen in fit keep their counts (even without a one-hot column)
        self.prior_items_ = np.asarray(counts.items, dtype=object)
        self._prior_index = pd.Index(self.prior_items_)
        self.item_n_ = counts.item_n
        self.item_w_ = counts.item_w
        return self

    def crossfit_item_prior(self, ans: Answers, counts: FitCounts, student_fold) -> np.ndarray:
        """Item priors of training answers, each from the *other* folds' answers.

        ``counts`` are the whole training table's (:meth:`set_counts` was called with
        them); ``student_fold`` as in :meth:`partial_counts`. Only whole-table counts
        per fold enter, so the value of an answer does not depend on how the students
        are partitioned.
        """
        if not self._needs("item_prior", *_RESIDUAL_BLOCKS):
            return np.full(ans.n_answers, self.mean_)
        if isinstance(student_fold, np.ndarray):
            fold = student_fold.astype(np.int64)
        else:
            sf = pd.Series(student_fold) if isinstance(student_fold, dict) else student_fold
            fold = sf.reindex(pd.Index(ans.student_ids, dtype=object)).to_numpy().astype(np.int64)
        fa = fold[ans.student]
        k = counts.k
        _, pair_cidx, _ = self._local_maps(ans)
        g = self._prior_index.get_indexer(pd.Index(ans.item_ids, dtype=object))[ans.item]
        a = self.item_prior_strength
        n_total, w_total = float(counts.fold_n.sum()), float(counts.fold_w.sum())
        out = np.empty(ans.n_answers)
        for f in range(k):
            m = fa == f
            if not m.any():
                continue
            # concept rates and global mean without fold f
            c_n = counts.concept_n - counts.concept_fold_n[f]
            c_w = counts.concept_w - counts.concept_fold_w[f]
            if k > 1:
                mean_o = (w_total - counts.fold_w[f]) / max(n_total - counts.fold_n[f], 1)
            else:
                mean_o = self.mean_
            rate = (c_w + 5 * mean_o) / (c_n + 5)
            cp = self._concept_prior(ans.pair_answer, pair_cidx, ans.n_answers, rate)
            gm = g[m]
            n_o = counts.item_n[gm] - counts.item_fold_n[f, gm]
            w_o = counts.item_w[gm] - counts.item_fold_w[f, gm]
            out[m] = (w_o + a * cp[m]) / (n_o + a)
        return out

    def set_dense_moments(self, n: int, mean: np.ndarray, m2: np.ndarray) -> HistoryFeatures:
        """Set the dense columns' scaling from their count, mean and sum of squared
        deviations (e.g. merged over partitions with :func:`merge_moments`)."""
        self.dense_mean_ = np.asarray(mean, dtype=float)
        sd = np.sqrt(np.asarray(m2, dtype=float) / max(n, 1))
        self.dense_scale_ = np.where(sd > 1e-12, sd, 1.0)
        return self

    def _concept_prior(self, pair_row, pair_concept_idx, n_rows, rate=None) -> np.ndarray:
        """Mean success rate of each row's concepts (training mean without concepts)."""
        rate = self.concept_rate_ if rate is None else rate
        r = np.where(pair_concept_idx >= 0, rate[np.maximum(pair_concept_idx, 0)], self.mean_)
        cnt = np.bincount(pair_row, minlength=n_rows)
        s = np.bincount(pair_row, weights=r, minlength=n_rows)
        return np.where(cnt > 0, s / np.maximum(cnt, 1), self.mean_)

    def item_prior(self, item_ids: np.ndarray, pair_row, pair_concept_idx) -> np.ndarray:
        """Prior success probability of items (unseen items: their concepts' rate)."""
        j = self._prior_index.get_indexer(pd.Index(item_ids, dtype=object))
        return self._item_prior_at(j, pair_row, pair_concept_idx)

    def _item_prior_at(self, j: np.ndarray, pair_row, pair_concept_idx) -> np.ndarray:
        """:meth:`item_prior` from the items' positions in ``prior_items_`` (-1: unseen)."""
        cp = self._concept_prior(pair_row, pair_concept_idx, len(j))
        a = self.item_prior_strength
        n = np.where(j >= 0, self.item_n_[np.maximum(j, 0)], 0.0)
        w = np.where(j >= 0, self.item_w_[np.maximum(j, 0)], 0.0)
        return (w + a * cp) / (n + a)

    # --------------------------------------------------------------- transform
    def transform_answers(self, X: pd.DataFrame) -> tuple[sp.csr_matrix, Answers]:
        """Features per answer and the :class:`Answers` that maps rows to them."""
        check_is_fitted(self, "n_features_out_")
        check_interactions(X)
        ans = build_answers(X, merge_expanded=self.merge_expanded)
        return _hstack_dense(*self.design(ans)), ans

    def design(
        self, ans: Answers, item_p: np.ndarray | None = None, *, scaled: bool = True
    ) -> tuple[sp.csr_matrix, np.ndarray]:
        """``encode_split(history_batch(ans, item_p), scaled=scaled)`` of a whole table,
        computed in ranges of whole students (:func:`student_chunks`, ``DESIGN_CHUNK``
        answers): the same matrices, but every step works on columns that stay in
        cache (about 1.5x faster on 250,000 answers). Fitted transformers only.
        """
        check_is_fitted(self, "n_features_out_")
        ranges = student_chunks(ans, DESIGN_CHUNK)
        if len(ranges) == 1:
            return self.encode_split(self.history_batch(ans, item_p=item_p), scaled=scaled)
        buf = np.empty((len(self.feature_names_) - self.n_sparse_, ans.n_answers))
        parts = []
        for a, b, q in self.iter_batches(ans, item_p, ranges):
            parts.append(self.encode_split(q, scaled=scaled, dense_out=buf[:, a:b])[0])
        return sp.vstack(parts, format="csr"), buf.T

    def iter_batches(self, ans: Answers, item_p: np.ndarray | None = None, ranges=None):
        """``(a, b, history_batch)`` of the answers ``a .. b-1`` of each range of whole
        students (``ranges`` from :func:`student_chunks` by default): for consumers
        that need no whole-table design (e.g. predictions, range by range)."""
        if ranges is None:
            ranges = student_chunks(ans, DESIGN_CHUNK)
        for a, b in ranges:
            sub = ans if (a, b) == (0, ans.n_answers) else answer_range(ans, a, b)
            yield a, b, self.history_batch(sub, item_p=None if item_p is None else item_p[a:b])

    def _local_maps(self, ans: Answers) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        item_idx = self._item_index.get_indexer(pd.Index(ans.item_ids, dtype=object))[ans.item]
        cmap = self._concept_index.get_indexer(pd.Index(ans.concept_ids, dtype=object))
        pair_cidx = cmap[ans.pair_concept] if len(ans.pair_concept) else ans.pair_concept
        smap = self._student_index.get_indexer(pd.Index(ans.student_ids, dtype=object))
        return item_idx, pair_cidx, smap[ans.student]

    def scopes(self, ans: Answers, item_p: np.ndarray | None = None) -> ScopeEvents:
        """Group keys, outcomes and before-statistics of every event in every scope."""
        item_idx, pair_cidx, student_idx = self._local_maps(ans)
        if item_p is None:
            # looked up per distinct item, not per answer
            j = self._prior_index.get_indexer(pd.Index(ans.item_ids, dtype=object))
            item_p = self._item_prior_at(j[ans.item], ans.pair_answer, pair_cidx)
        lams = self.lams_
        r = ans.y - item_p if self._needs(*_RESIDUAL_BLOCKS) else None
        nI = max(len(ans.item_ids), 1)
        nC = max(len(ans.concept_ids), 1)
        g_item = ans.student * nI + ans.item
        g_cpt = ans.student[ans.pair_answer] * nC + ans.pair_concept
        ppos = ans.pos[ans.pair_answer]
        py = ans.y[ans.pair_answer]
        pr = r[ans.pair_answer] if r is not None else None
        t = ans.time
        pt = t[ans.pair_answer] if t is not None else None
        orders = {
            "tot": GroupOrder.of(ans.student),
            "itm": GroupOrder.of(g_item),
            "cpt": GroupOrder.of(g_cpt),
        }
        return ScopeEvents(
            item_idx=item_idx,
            pair_cidx=pair_cidx,
            student_idx=student_idx,
            item_p=item_p,
            r=r,
            g_item=g_item,
            g_cpt=g_cpt,
            tot=scan(ans.student, ans.pos, ans.y, lams, r=r, t=t, order=orders["tot"]),
            # the item scope needs counts, streak and times only: no decays
            itm=scan(g_item, ans.pos, ans.y, (), r=r, t=t, order=orders["itm"]),
            cpt=scan(g_cpt, ppos, py, lams, r=pr, t=pt, order=orders["cpt"]),
            orders=orders,
        )

    def history_batch(self, ans: Answers, item_p: np.ndarray | None = None) -> QueryBatch:
        """The :class:`QueryBatch` of every answer of ``ans`` (features before it)."""
        if ans.time is None and getattr(self, "has_time_", False) and self.n_windows_ > 1:
            raise InvalidDataError(
                "the model was fitted with timestamps (its time-window features need "
                "them); this table has none",
                column="timestamp",
                expected="a timestamp column with at least one time",
            )
        ev = self.scopes(ans, item_p)
        t = ans.time
        batch = QueryBatch(
            student_idx=ev.student_idx,
            item_idx=ev.item_idx,
            item_p=ev.item_p,
            pos=ans.pos,
            now=t,
            tot=ev.tot,
            itm=ev.itm,
            pair_row=ans.pair_answer,
            pair_concept_idx=ev.pair_cidx,
            cpt=ev.cpt,
        )
        if self._needs(*_PREVIOUS_BLOCKS):
            prior = self._prior_index.get_indexer(pd.Index(ans.item_ids, dtype=object))
            _set_previous_answer(batch, ans, ev.pair_cidx, prior[ans.item])
        if self.n_windows_ > 1 and t is not None:
            pt = t[ans.pair_answer]
            o = ev.orders or {}
            batch.win_tot = self._event_windows(ans.student, t, ans.y, o.get("tot"))
            batch.win_itm = self._event_windows(ev.g_item, t, ans.y, o.get("itm"))
            batch.win_cpt = self._event_windows(ev.g_cpt, pt, ans.y[ans.pair_answer], o.get("cpt"))
        return batch

    def _event_windows(self, group, t, y, order=None) -> np.ndarray:
        if compiled.enabled():
            go = order if order is not None else GroupOrder.of(group)
            o = go.order if go.order is not None else np.arange(len(group))
            return compiled.window_counts(o, go.start, t, y, self.windows_)
        idx = WindowIndex(group, t, y, order=order)
        # shape (n, n_windows, 2), stored window by window: each count is contiguous
        out = np.empty((self.n_windows_, 2, len(group))).transpose(2, 0, 1)
        for j, w in enumerate(self.windows_):
            out[:, j, 0], out[:, j, 1] = idx.at_events(w)
        return out

    # ------------------------------------------------------------------ encode
    def _counts(self, n: np.ndarray, w: np.ndarray, win: np.ndarray | None, kinds, transform):
        """(m, n_windows * 2) count columns."""
        return np.stack(self._count_cols(n, w, win, kinds, transform), axis=1)

    @staticmethod
    def _count_cols(n, w, win, kinds, transform) -> list[np.ndarray]:
        """The count columns one by one (window by window: the two kinds)."""
        if win is None:
            pairs = [(n.astype(float), np.asarray(w, dtype=float))]
        else:
            pairs = [(win[:, j, 0], win[:, j, 1]) for j in range(win.shape[1])]
        cols: list[np.ndarray] = []
        for a, b in pairs:
            cols.extend([b, a - b] if tuple(kinds) == ("wins", "fails") else [a, b])
        # contiguous first: numpy's vectorised log1p only runs on contiguous input
        cols = [np.ascontiguousarray(c, dtype=float) for c in cols]
        return [np.log1p(c) for c in cols] if transform == "log1p" else cols

    def dense_columns(self, q: QueryBatch) -> tuple[np.ndarray, list[str], list[str]]:
        """The unscaled dense columns of a batch (an ``(n, d)`` array stored column by
        column), their names and blocks (e.g. for their moments over partitions)."""
        buf, names, blocks, _ = self._dense_buffer(q, interactions=False)
        return buf[: len(names)].T, names, blocks

    _dense = dense_columns

    def _interaction_pairs(self, names: list[str]) -> list[tuple[int, int]]:
        """Dense-column pairs of the ``interactions`` block."""
        if "interactions" not in self.blocks:
            return []
        h = f"{sorted(self.halflives)[len(self.halflives) // 2]:g}" if self.halflives else ""
        keys = [k.format(h=h) for k in _INTERACTION_KEYS]
        pos = [names.index(k) for k in keys if k in names]
        return [(i, j) for a, i in enumerate(pos) for j in pos[a + 1 :]]

    def _dense_buffer(self, q: QueryBatch, interactions: bool = True, standardise=None, out=None):
        """``(buffer, names, blocks, pairs)``: the dense columns as the first rows of a
        ``(d + len(pairs), n)`` buffer whose last rows are left for the products.

        ``standardise=(mean, scale)`` stores ``(column - mean) / scale`` instead (the
        same operations as standardising the buffer afterwards, done while each column
        is in cache rather than in two more passes over the whole block). ``out``: the
        buffer to fill (e.g. a range of columns of a larger one)."""
        cols: list[np.ndarray] = []
        names: list[str] = []
        blocks: list[str] = []
        n = q.n
        H = list(self.halflives)
        win_names = self._window_names()

        def add(block, name, v):
            # v: one column, a list of columns, or an (n, k) array
            nm = name if isinstance(name, list) else [name]
            if isinstance(v, list):
                vs = v
            else:
                v = np.asarray(v, dtype=float).reshape(n, -1)
                vs = [v[:, j] for j in range(v.shape[1])]
            cols.extend(vs)
            names.extend(nm)
            blocks.extend([block] * len(nm))

        if "item_counts" in self.blocks:
            c = self._count_cols(q.itm.n, q.itm.w, q.win_itm, ("attempts", "wins"), "log1p")
            add(
                "item_counts",
                [f"item:{k}{wn}" for wn in win_names for k in ("attempts", "wins")],
                c,
            )
        if "total_counts" in self.blocks:
            c = self._count_cols(q.tot.n, q.tot.w, q.win_tot, ("attempts", "wins"), "log1p")
            add(
                "total_counts",
                [f"total:{k}{wn}" for wn in win_names for k in ("attempts", "wins")],
                c,
            )
        if "item_prior" in self.blocks:
            add("item_prior", "item_prior", [_logit(q.item_p)])
        pr, nq = q.pair_row, n
        pmean = _PairMean(pr, nq)
        if "rates" in self.blocks:
            a = 1.0
            add(
                "rates",
                [f"total:rate_h{h:g}" for h in H],
                [
                    _logit((q.tot.dy[:, j] + a * self.mean_) / (q.tot.dn[:, j] + a))
                    for j in range(len(H))
                ],
            )
            add(
                "rates",
                [f"concept:rate_h{h:g}" for h in H],
                [
                    pmean(_logit((q.cpt.dy[:, j] + a * self.mean_) / (q.cpt.dn[:, j] + a)))
                    for j in range(len(H))
                ],
            )
        if "recent" in self.blocks:
            add(
                "recent",
                [f"total:last3={k}" for k in range(15)],
                list(_onehot_rows(q.tot.last3, 15)),
            )
            add(
                "recent",
                [f"concept:last3={k}" for k in range(15)],
                list(pmean.onehot(q.cpt.last3, 15)),
            )
            st = q.tot.streak
            add(
                "recent",
                ["total:streak_right", "total:streak_wrong"],
                [np.log1p(np.maximum(st, 0)), np.log1p(np.maximum(-st, 0))],
            )
            sc = q.cpt.streak
            add(
                "recent",
                ["concept:streak_right", "concept:streak_wrong"],
                [pmean(np.log1p(np.maximum(sc, 0))), pmean(np.log1p(np.maximum(-sc, 0)))],
            )
            seen = (q.itm.n > 0).astype(float)
            last_ok = (q.itm.streak > 0).astype(float)
            add("recent", ["item:seen", "item:last_correct"], [seen, last_ok])
        if "gap" in self.blocks:
            ppos = q.pos[pr] if len(pr) else np.zeros(0, np.int64)
            gap = np.where(q.cpt.prev_pos >= 0, ppos - q.cpt.prev_pos - 1, 0)
            new = (q.cpt.n == 0).astype(float)
            add(
                "gap",
                ["concept:gap", "concept:new", "concept:attempts"],
                [pmean(np.log1p(gap)), pmean(new), pmean(np.log1p(q.cpt.n))],
            )
        if "ability" in self.blocks:
            a = 1.0
            add(
                "ability",
                [f"total:ability_h{h:g}" for h in H],
                [q.tot.dr[:, j] / (q.tot.dn[:, j] + a) for j in range(len(H))],
            )
            add(
                "ability",
                [f"concept:ability_h{h:g}" for h in H],
                [pmean(q.cpt.dr[:, j] / (q.cpt.dn[:, j] + a)) for j in range(len(H))],
            )
        if "long_ability" in self.blocks:
            add("long_ability", *_long_ability(q, pmean))
        if "item_transition" in self.blocks:
            v = q.item_transition if q.item_transition is not None else self._item_transition(q)
            add("item_transition", ["item_transition:rate", "item_transition:support"], v)
        if "elapsed" in self.blocks and self.has_time_:
            if q.now is None:
                et = np.zeros(n)
                ec = np.zeros(len(pr))
            else:
                et = np.nan_to_num(np.log1p(np.maximum(q.now - q.tot.last_t, 0) / 60.0))
                pnow = q.now[pr] if len(pr) else np.zeros(0)
                ec = np.nan_to_num(np.log1p(np.maximum(pnow - q.cpt.last_t, 0) / 60.0))
            add("elapsed", ["total:elapsed", "concept:elapsed"], [et, pmean(ec)])
        pairs = self._interaction_pairs(names) if interactions else []
        # stored column by column: every later step works on whole columns
        shape = (len(cols) + len(pairs), n)
        if out is not None and out.shape != shape:
            raise ValueError(f"dense buffer of shape {out.shape}, expected {shape}")
        D = out if out is not None else np.empty(shape)
        if standardise is not None and len(standardise[0]) != len(cols):
            raise ValueError(f"expected {len(standardise[0])} dense columns, got {len(cols)}")
        for j, c in enumerate(cols):
            if standardise is None:
                D[j] = c
            else:
                np.subtract(c, standardise[0][j], out=D[j])
                D[j] /= standardise[1][j]
        return D, names, blocks, pairs

    def _signal(self, z: np.ndarray, prefixes: tuple[str, ...]) -> np.ndarray:
        """Mean of the standardised dense columns of the first prefix present."""
        for pre in prefixes:
            cols = [j for j, nm in enumerate(self.dense_names_) if nm.startswith(pre)]
            if cols:
                return z[:, cols].mean(axis=1)
        return np.zeros(len(z))

    def _window_names(self) -> list[str]:
        if self.n_windows_ == 1:
            return [""]
        return [f"@{'all' if not np.isfinite(w) else f'{w:g}s'}" for w in self.windows_]

    def encode(self, q: QueryBatch, fitting: bool = False) -> sp.csr_matrix:
        """The sparse design matrix of a :class:`QueryBatch` (one row per query)."""
        S, Z = self.encode_split(q, fitting=fitting)
        return _hstack_dense(S, Z)

    def encode_split(
        self, q: QueryBatch, fitting: bool = False, scaled: bool = True, dense_out=None
    ) -> tuple[sp.csr_matrix, np.ndarray]:
        """The design matrix as a sparse part (CSR) and the dense columns that follow it
        (an ``(n, d)`` array stored column by column).

        With ``scaled=False`` the dense columns are left unscaled and the interaction
        columns zero; :meth:`scale_dense` finishes them later (a fit over partitions
        keeps such designs while the scaling is being merged). Not with the
        ``*_slopes`` blocks, whose sparse values need the scaling. ``dense_out``: a
        ``(d, n)`` array (e.g. columns of a larger one) that receives the dense block
        (returned as its transpose), fitted transformers only.
        """
        if dense_out is not None and fitting:
            raise ValueError("dense_out is for fitted transformers (fitting=False)")
        if not scaled and self._needs("item_slopes", "concept_slopes"):
            raise ValueError("the *_slopes blocks need scaled=True")
        n = q.n
        parts = _RowBlocks(n)
        names: list[str] = []
        rows = np.arange(n)
        slices: dict[str, slice] = {}

        def onehot(idx, size, scale, block=None):
            ok = idx >= 0
            lo = parts.add(rows[ok], idx[ok], np.full(int(ok.sum()), scale), size)
            if block:
                slices[block] = slice(lo, lo + size)

        if "student" in self.blocks:
            onehot(q.student_idx, len(self.students_), self._scale("student"), "student")
            if fitting:
                names += [f"student={s}" for s in self.students_]
        if "item" in self.blocks:
            onehot(q.item_idx, len(self.items_), self._scale("item"), "item")
            if fitting:
                names += [f"item={i}" for i in self.items_]
        nC = len(self.concepts_)
        # known (row, concept) pairs, sorted by row then concept: the CSR order
        okp = np.flatnonzero(q.pair_concept_idx >= 0)
        pr, pc = q.pair_row[okp], q.pair_concept_idx[okp]
        if len(pr) > 1 and bool(
            np.any((pr[1:] < pr[:-1]) | ((pr[1:] == pr[:-1]) & (pc[1:] < pc[:-1])))
        ):
            srt = np.lexsort((pc, pr))
            okp, pr, pc = okp[srt], pr[srt], pc[srt]
        if "concept" in self.blocks:
            parts.add(pr, pc, np.full(len(pr), self._scale("concept")), nC)
            if fitting:
                names += [f"concept={c}" for c in self.concepts_]
        if "concept_counts" in self.blocks:
            cols = self._count_cols(
                q.cpt.n, q.cpt.w, q.win_cpt, self.count_kinds, self.count_transform
            )
            k = len(cols)
            vals = np.empty((len(okp), k))
            for j, c in enumerate(cols):
                vals[:, j] = c[okp]
            vv = vals.ravel()
            vv *= self._scale("concept_counts")
            cc = (pc[:, None] * k + np.arange(k)[None, :]).ravel()
            parts.add(np.repeat(pr, k), cc, vv, nC * k)
            if fitting:
                win_names = self._window_names()
                names += [
                    f"concept={c}:{kind}{wn}"
                    for c in self.concepts_
                    for wn in win_names
                    for kind in self.count_kinds
                ]
        if "transition" in self.blocks:
            lo = parts.add_matrix(self._transition(q))
            slices["transition"] = slice(lo, parts.width)
            if fitting:
                names += self._transition_names()
        # a fitted transformer standardises while it fills the buffer
        pre = scaled and not fitting and hasattr(self, "dense_mean_")
        std = (self.dense_mean_, self.dense_scale_) if pre else None
        buf, dnames, dblocks, pairs = self._dense_buffer(q, standardise=std, out=dense_out)
        d = len(dnames)
        Z = np.zeros((n, 0))
        if d:
            zt = buf[:d]  # (d, n): row j is dense column j
            if fitting:
                self.dense_mean_ = zt.mean(axis=1)
                sd = zt.std(axis=1)
                self.dense_scale_ = np.where(sd > 1e-12, sd, 1.0)
                self.dense_weight_ = np.array([self._scale(b) for b in dblocks])
                self.dense_names_ = list(dnames)
            if not scaled:
                if fitting:
                    names += dnames + [f"{dnames[i]}*{dnames[j]}" for i, j in pairs]
                buf[d:] = 0.0
                pairs = []
            elif not pre:
                # in place: the dense block is the largest array of a fit
                zt -= self.dense_mean_[:, None]
                zt /= self.dense_scale_[:, None]
            z = zt.T
            if "item_slopes" in self.blocks:
                v = self._signal(z, ("total:ability", "total:rate"))
                ok = q.item_idx >= 0
                parts.add(
                    rows[ok],
                    q.item_idx[ok],
                    np.ones(int(ok.sum())) * (v[ok] * self._scale("item_slopes")),
                    len(self.items_),
                )
                if fitting:
                    names += [f"item={i}:ability" for i in self.items_]
            if "concept_slopes" in self.blocks:
                sigs = [self._signal(z, ("concept:rate",)), self._signal(z, ("total:ability",))]
                for label, v in zip(("rate", "ability"), sigs):
                    parts.add(pr, pc, v[pr] * self._scale("concept_slopes"), nC)
                    if fitting:
                        names += [f"concept={c}:{label}" for c in self.concepts_]
            if scaled:
                if fitting:
                    names += dnames + [f"{dnames[i]}*{dnames[j]}" for i, j in pairs]
                self._finish_dense(buf, d, pairs)
            Z = buf.T
        if fitting:
            self.feature_names_ = np.asarray(names, dtype=object)
            self.n_sparse_ = int(parts.width)
            self.block_slices_ = slices
        return parts.tocsr(), Z

    def _finish_dense(self, buf: np.ndarray, d: int, pairs) -> None:
        """Interaction products, then block weights (the products use the unweighted
        standardised columns), in place on a ``(columns, n)`` buffer."""
        zt = buf[:d]
        w_int = self._scale("interactions")
        for k, (i, j) in enumerate(pairs):
            np.multiply(zt[i], zt[j], out=buf[d + k])
            if w_int != 1.0:
                buf[d + k] *= w_int
        for j in np.flatnonzero(self.dense_weight_ != 1.0):
            zt[j] *= self.dense_weight_[j]

    def scale_dense(self, Z: np.ndarray) -> np.ndarray:
        """Finish, in place, a dense block of ``encode_split(q, scaled=False)``:
        standardise it with the fitted scaling, fill the interaction columns and
        apply the block weights (the same operations as ``encode_split``)."""
        check_is_fitted(self, "dense_names_")
        d = len(self.dense_names_)
        buf = Z.T
        if buf.shape[0] != len(self.feature_names_) - self.n_sparse_:
            raise ValueError(f"expected {len(self.feature_names_) - self.n_sparse_} dense columns")
        zt = buf[:d]
        zt -= self.dense_mean_[:, None]
        zt /= self.dense_scale_[:, None]
        self._finish_dense(buf, d, self._interaction_pairs(list(self.dense_names_)))
        return Z

    # ------------------------------------------------------------- transition
    def _transition_vocab(self) -> np.ndarray:
        """Transition code of every fitted concept: the ``transition_concepts`` most
        answered concepts (training answers) by rank, the others share the last code."""
        nC = len(self.concepts_)
        k = min(int(self.transition_concepts), nC)
        code = np.full(nC, k, np.int64)
        code[np.argsort(-np.asarray(self.concept_n_), kind="stable")[:k]] = np.arange(k)
        return code

    def _transition_names(self) -> list[str]:
        code = self._transition_vocab()
        k = int(code.max()) + 1 if len(code) else 0
        label = np.full(k, "other", dtype=object)
        top = code < min(int(self.transition_concepts), len(code))
        label[code[top]] = self.concepts_[top]
        return [
            f"transition:{label[a]}={yy}->{label[b]}"
            for a in range(k)
            for yy in (0, 1)
            for b in range(k)
        ]

    def _transition(self, q: QueryBatch) -> sp.csc_matrix:
        """One-hot (previous answer's concept, its outcome, this answer's concept).

        Transfer and sequencing effects between concepts (e.g. the next skill of a
        problem set after a wrong answer); multi-concept answers spread one unit over
        the previous answer's concepts for each of their own concepts.
        """
        code = self._transition_vocab()
        k = int(code.max()) + 1 if len(code) else 0
        n = q.n
        shape = (n, 2 * k * k)
        if q.prev_pair_row is None or not k:
            return sp.csc_matrix(shape)
        pr, pc = q.pair_row, q.pair_concept_idx
        ok = pc >= 0
        cur_r, cur_c = pr[ok], code[pc[ok]]
        pok = q.prev_pair_concept_idx >= 0
        prev_r, prev_c = q.prev_pair_row[pok], code[q.prev_pair_concept_idx[pok]]
        n_prev = np.bincount(prev_r, minlength=n)
        start = np.r_[0, np.cumsum(n_prev)][:-1]
        rep = n_prev[cur_r]
        rr = np.repeat(cur_r, rep)
        cc = np.repeat(cur_c, rep)
        within = np.arange(len(rr)) - np.repeat(np.cumsum(rep) - rep, rep)
        pcs = prev_c[start[rr] + within]
        yy = np.nan_to_num(q.prev_y[rr]).astype(np.int64)
        col = (pcs * 2 + yy) * k + cc
        val = self._scale("transition") / n_prev[rr]
        return sp.csc_matrix((val, (rr, col)), shape=shape)

    # -------------------------------------------------------- item transition
    def _transition_keys(self, prev_item, prev_y, item) -> np.ndarray:
        """Key of (previous item, its outcome, this item); -1 when undefined."""
        nI = len(self.prior_items_)
        ok = (prev_item >= 0) & (item >= 0) & ~np.isnan(prev_y)
        py = np.nan_to_num(prev_y).astype(np.int64)
        return np.where(ok, (prev_item * 2 + py) * nI + item, -1)

    def _transition_values(self, keys, n, w, item_p) -> np.ndarray:
        """Columns of the block: the logit shift of the item's success rate after this
        transition (shrunk towards the item prior by ``item_prior_strength``
        pseudo-answers) and log1p of the transition's training count."""
        a = self.item_prior_strength
        ok = keys >= 0
        rate = np.where(ok, _logit((w + a * item_p) / (n + a)) - _logit(item_p), 0.0)
        return np.stack([rate, np.where(ok, np.log1p(n), 0.0)], axis=1)

    def _fit_item_transition(self, ans: Answers, batch: QueryBatch) -> np.ndarray:
        """Fit the transition counts; return the training answers' values, each from
        the other students' folds (cross-fitted like the item prior)."""
        keys = self._transition_keys(batch.prev_item, batch.prev_y, batch.prior_item_idx)
        has = keys >= 0
        uk, inv = np.unique(keys[has], return_inverse=True)
        kn = np.bincount(inv, minlength=len(uk)).astype(float)
        kw = np.bincount(inv, weights=ans.y[has], minlength=len(uk))
        self.item_transition_keys_, self.item_transition_n_ = uk, kn
        self.item_transition_w_ = kw
        rs = self.random_state
        seed = rs if rs is None or isinstance(rs, (int, np.integer)) else 0
        n_st = len(ans.student_ids)
        k = max(2, min(int(self.cv), n_st)) if n_st > 1 else 1
        fold = (np.random.default_rng(seed).permutation(n_st) % k)[ans.student[has]]
        n_o, w_o = kn[inv].copy(), kw[inv].copy()
        if k > 1:
            for f in range(k):
                m = fold == f
                n_o[m] -= np.bincount(inv[m], minlength=len(uk))[inv[m]]
                w_o[m] -= np.bincount(inv[m], weights=ans.y[has][m], minlength=len(uk))[inv[m]]
        out = np.zeros((ans.n_answers, 2))
        out[has] = self._transition_values(keys[has], n_o, w_o, batch.item_p[has])
        return out

    def _item_transition(self, q: QueryBatch) -> np.ndarray:
        """The block's values of a batch from the fitted transition counts."""
        if q.prev_item is None or q.prior_item_idx is None:
            return np.zeros((q.n, 2))
        keys = self._transition_keys(q.prev_item, q.prev_y, q.prior_item_idx)
        uk = self.item_transition_keys_
        j = np.minimum(np.searchsorted(uk, keys), max(len(uk) - 1, 0))
        hit = (keys >= 0) & (len(uk) > 0)
        if len(uk):
            hit &= uk[j] == keys
        n = np.where(hit, self.item_transition_n_[j] if len(uk) else 0.0, 0.0)
        w = np.where(hit, self.item_transition_w_[j] if len(uk) else 0.0, 0.0)
        return self._transition_values(np.where(keys >= 0, keys, -1), n, w, q.item_p)

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        check_is_fitted(self, "feature_names_")
        return self.feature_names_.copy()


# ------------------------------------------------------ blocks long_ability, transition


def _set_previous_answer(
    batch: QueryBatch, ans: Answers, pair_cidx: np.ndarray, prior_item: np.ndarray
) -> None:
    """Fill the previous-answer fields of a batch of every answer of ``ans``
    (``prior_item``: each answer's item prior index)."""
    n = ans.n_answers
    has = np.zeros(n, bool)
    if n > 1:
        has[1:] = (ans.student[1:] == ans.student[:-1]) & (ans.pos[1:] == ans.pos[:-1] + 1)
    batch.prev_y = np.where(has, np.r_[np.nan, ans.y[:-1]] if n else ans.y, np.nan)
    # pairs of answer a become the previous-answer pairs of answer a + 1
    nxt = ans.pair_answer + 1
    keep = nxt < n
    keep[keep] = has[nxt[keep]]
    batch.prev_pair_row = nxt[keep]
    batch.prev_pair_concept_idx = pair_cidx[keep]
    batch.prior_item_idx = prior_item
    batch.prev_item = np.where(has, np.r_[-1, prior_item[:-1]] if n else prior_item, -1)


def _long_ability(q: QueryBatch, pmean: _PairMean) -> tuple[list[str], np.ndarray]:
    """Undecayed mean residuals (outcome minus item prior) in total, on the concepts
    and on this item, shrunk by one pseudo-answer: a long-memory ability."""
    tot = q.tot.sr / (q.tot.n + 1.0)
    cpt = pmean(q.cpt.sr / (q.cpt.n + 1.0))
    itm = q.itm.sr / (q.itm.n + 1.0)
    return (
        ["total:ability_all", "concept:ability_all", "item:ability_all"],
        np.stack([tot, cpt, itm], axis=1),
    )

"""Rows -> answers: one answer per student response, whatever the file layout.

Public fold files (AKT, pyKT) expand an answer to an item with several concepts into
several consecutive rows, one per concept, all with the same item, the same
correctness (and timestamp). A model that treats those rows as separate answers sees
the label of the answer it predicts in the sibling row: AUC inflates (pyKT issues
#119 and #264). Every model in :mod:`edu_recsys.mastery` therefore works on
*answers*: consecutive rows of one student with the same item, correctness and
timestamp whose concept sets differ are merged into one answer with the union of their
concepts. A row that repeats a concept already in the current answer starts a new
answer (a genuine repeated attempt, e.g. ASSISTments 2015 where items are skills).

Predictions are computed per answer from strictly earlier answers and copied back to
every row of that answer.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from edu_recsys.data.schema import CONCEPTS, CORRECT, ITEM, STUDENT, TIMESTAMP
from edu_recsys.exceptions import InvalidDataError

__all__ = [
    "Answers",
    "build_answers",
    "check_interactions",
    "concept_pairs",
    "answer_range",
    "student_chunks",
]


def check_interactions(
    X: pd.DataFrame, *, need_correct: bool = True, what: str = "interactions"
) -> None:
    """Raise :class:`InvalidDataError` unless ``X`` has the columns a tracer needs."""
    if not isinstance(X, pd.DataFrame):
        raise InvalidDataError(
            f"{what} must be a pandas DataFrame in the canonical shape, got {type(X).__name__}"
        )
    need = [STUDENT, ITEM, CONCEPTS] + ([CORRECT] if need_correct else [])
    for col in need:
        if col not in X.columns:
            raise InvalidDataError(
                f"missing column in {what}; columns present: {list(X.columns)[:20]}",
                column=col,
                expected="the canonical interactions table (edu_recsys.data.validate_interactions)",
            )
    if need_correct and len(X):
        c = X[CORRECT].to_numpy()
        bad = ~np.isin(c, (0, 1))
        if bad.any():
            raise InvalidDataError(
                "non-binary values", column=CORRECT, rows=np.flatnonzero(bad), expected="0 or 1"
            )


def concept_pairs(concepts: pd.Series | np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Explode a column of concept tuples into (row, concept code) pairs.

    Returns ``(rows, codes, uniques)``: for each pair its row position and concept
    code, and the concept ids by code (order of first appearance).

    Examples
    --------
    >>> rows, codes, uniq = concept_pairs(pd.Series([("a",), ("a", "b"), ()]))
    >>> rows.tolist(), codes.tolist(), uniq.tolist()
    ([0, 1, 1], [0, 0, 1], ['a', 'b'])
    """
    rows, codes, uniques, _ = _concept_pairs(concepts)
    return rows, codes, uniques


def _concept_pairs(concepts) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`concept_pairs` plus the code of each row's tuple (-1: missing)."""
    values = pd.Series(np.asarray(concepts, dtype=object), dtype=object)
    # factorise the tuples themselves first: real tables have few distinct tuples
    tcodes, tuples = pd.factorize(values, use_na_sentinel=True)
    flat = [c for t in tuples for c in t]
    lens = np.fromiter((len(t) for t in tuples), dtype=np.int64, count=len(tuples))
    ccodes, uniques = pd.factorize(pd.Series(flat, dtype=object))
    starts = np.r_[0, np.cumsum(lens)]
    row_lens = np.where(tcodes >= 0, lens[np.maximum(tcodes, 0)], 0)
    rows = np.repeat(np.arange(len(values)), row_lens)
    # position of each pair inside its tuple
    within = np.arange(len(rows)) - np.repeat(np.r_[0, np.cumsum(row_lens)][:-1], row_lens)
    codes = ccodes[starts[tcodes[rows]] + within] if len(rows) else np.zeros(0, np.int64)
    return rows, codes.astype(np.int64), np.asarray(uniques, dtype=object), tcodes


@dataclass
class Answers:
    """Interactions regrouped as answers, in (student, time) order.

    Attributes
    ----------
    student : int array (n_answers,)
        Student code of each answer (index into ``student_ids``).
    item : int array (n_answers,)
        Item code (index into ``item_ids``).
    y : float array (n_answers,)
        Correctness (0/1) of the answer, or NaN where the table has no labels.
    pos : int array (n_answers,)
        Index of the answer among its student's answers (0 = first).
    time : float array (n_answers,) or None
        Seconds since the epoch (NaN where missing), when the table has timestamps.
    pair_answer, pair_concept : int arrays (n_pairs,)
        One pair per (answer, concept), sorted by answer; concept codes index
        ``concept_ids``.
    row_answer : int array (n_rows,)
        The answer of every input row (input order).
    first_row : int array (n_answers,)
        The first input row of every answer.
    """

    student: np.ndarray
    item: np.ndarray
    y: np.ndarray
    pos: np.ndarray
    time: np.ndarray | None
    pair_answer: np.ndarray
    pair_concept: np.ndarray
    row_answer: np.ndarray
    first_row: np.ndarray
    student_ids: np.ndarray
    item_ids: np.ndarray
    concept_ids: np.ndarray

    @property
    def n_answers(self) -> int:
        return len(self.student)

    @property
    def n_rows(self) -> int:
        return len(self.row_answer)


def _times(X: pd.DataFrame) -> np.ndarray | None:
    if TIMESTAMP not in X.columns:
        return None
    ts = pd.to_datetime(X[TIMESTAMP], utc=True)
    t = ts.dt.tz_convert(None).to_numpy("datetime64[ns]").astype(np.int64) / 1e9
    t = np.where(ts.isna().to_numpy(), np.nan, t)
    if np.isnan(t).all():
        return None
    return t


def build_answers(X: pd.DataFrame, *, merge_expanded: bool = True) -> Answers:
    """Group the rows of an interactions table into answers.

    Parameters
    ----------
    X : DataFrame
        Canonical interactions (``student_id``, ``item_id``, ``concept_ids``, optional
        ``correct`` and ``timestamp``); each student's rows in time order. Students
        may be interleaved.
    merge_expanded : bool, default True
        Merge the rows of a multi-concept answer (see the module docstring). With
        False every row is its own answer, which reproduces the leaky per-row
        protocol of part of the literature (for comparison only).

    Examples
    --------
    >>> df = pd.DataFrame({"student_id": ["s", "s", "s", "s"],
    ...                    "item_id": ["q1", "q1", "q2", "q2"],
    ...                    "concept_ids": [("a",), ("b",), ("a",), ("a",)],
    ...                    "correct": [1, 1, 0, 1]})
    >>> ans = build_answers(df)
    >>> ans.row_answer.tolist(), ans.y.tolist(), ans.pair_concept.tolist()
    ([0, 0, 1, 2], [1.0, 0.0, 1.0], [0, 1, 0, 0])
    """
    n = len(X)
    scodes, student_ids = pd.factorize(X[STUDENT], sort=False)
    # most tables already hold each student's rows together: no reordering then
    if n < 2 or bool(np.all(scodes[1:] >= scodes[:-1])):
        order = np.arange(n)
    else:
        order = np.argsort(scodes, kind="stable")
    s = scodes[order]
    icodes_all, item_ids = pd.factorize(X[ITEM], sort=False)
    it = icodes_all[order]
    rows_c, ccodes, concept_ids, tup_codes = _concept_pairs(X[CONCEPTS].to_numpy())
    y_all = X[CORRECT].to_numpy(dtype=float) if CORRECT in X.columns else np.full(n, np.nan, float)
    yo = y_all[order]
    t_all = _times(X)
    to = t_all[order] if t_all is not None else None

    if merge_expanded and n > 1:
        tc = tup_codes[order]
        same = (s[1:] == s[:-1]) & (it[1:] == it[:-1]) & (tc[1:] != tc[:-1])
        same &= (yo[1:] == yo[:-1]) | (np.isnan(yo[1:]) & np.isnan(yo[:-1]))
        if to is not None:
            same &= (to[1:] == to[:-1]) | (np.isnan(to[1:]) & np.isnan(to[:-1]))
        run_start = np.r_[True, ~same]
        ans_start = run_start.copy()
        # a concept already in the run starts a new answer (repeated attempt); only
        # rows of runs longer than one can hold a repeat
        multi = ~run_start
        multi[:-1] |= ~run_start[1:]
        sub = np.flatnonzero(multi)
        if len(sub):
            run = np.cumsum(run_start)[sub]
            occ = pd.DataFrame({"r": run, "c": tc[sub]}).groupby(["r", "c"], sort=False).cumcount()
            occ = pd.Series(occ.to_numpy()).groupby(run).cummax().to_numpy()
            ans_start[sub[1:]] |= (occ[1:] != occ[:-1]) & (run[1:] == run[:-1])
    else:
        ans_start = np.ones(n, dtype=bool)
    ans_sorted = np.cumsum(ans_start) - 1
    row_answer = np.empty(n, dtype=np.int64)
    row_answer[order] = ans_sorted
    first_sorted = np.flatnonzero(ans_start)
    first_row = order[first_sorted]
    student = s[first_sorted]
    stu_start = np.r_[True, student[1:] != student[:-1]]
    idx = np.arange(len(student))
    pos = idx - np.maximum.accumulate(np.where(stu_start, idx, 0))
    # (answer, concept) pairs, deduplicated, sorted by answer
    pa = row_answer[rows_c]
    key = pa * max(len(concept_ids), 1) + ccodes
    if len(key) > 1 and not bool(np.all(key[1:] > key[:-1])):
        key = np.sort(key, kind="stable")  # nearly sorted: timsort is about linear
        key = key[np.r_[True, key[1:] != key[:-1]]]
    pair_answer = key // max(len(concept_ids), 1)
    pair_concept = key % max(len(concept_ids), 1)
    return Answers(
        student=student.astype(np.int64),
        item=it[first_sorted].astype(np.int64),
        y=yo[first_sorted],
        pos=pos.astype(np.int64),
        time=to[first_sorted] if to is not None else None,
        pair_answer=pair_answer.astype(np.int64),
        pair_concept=pair_concept.astype(np.int64),
        row_answer=row_answer,
        first_row=first_row.astype(np.int64),
        student_ids=np.asarray(student_ids, dtype=object),
        item_ids=np.asarray(item_ids, dtype=object),
        concept_ids=concept_ids,
    )


def student_chunks(ans: Answers, size: int) -> list[tuple[int, int]]:
    """Ranges ``[a, b)`` of answers that cover ``ans`` in order, each made of whole
    students and at most ``size`` answers long (unless one student has more).

    Every history feature depends on one student's earlier answers only, so a table
    can be encoded range by range (:meth:`HistoryFeatures.design`): ranges of a few
    ten thousand answers keep each column of the design in the processor's cache.

    Examples
    --------
    >>> df = pd.DataFrame({"student_id": list("aaabbc"), "item_id": list("xyxyxy"),
    ...                    "concept_ids": [("k",)] * 6, "correct": [1, 0, 1, 1, 0, 1]})
    >>> student_chunks(build_answers(df), 4)
    [(0, 3), (3, 6)]
    """
    n = ans.n_answers
    if n <= size:
        return [(0, n)]
    st = ans.student
    starts = np.flatnonzero(np.r_[True, st[1:] != st[:-1]])
    out: list[tuple[int, int]] = []
    a = 0
    while a < n:
        if a + size >= n:
            b = n
        else:
            k = int(np.searchsorted(starts, a + size, side="right")) - 1
            b = int(starts[k])  # the last student start that keeps the range within size
            if b <= a:  # the student starting at a alone has more than size answers
                b = int(starts[k + 1]) if k + 1 < len(starts) else n
        out.append((a, b))
        a = b
    return out


def answer_range(ans: Answers, a: int, b: int) -> Answers:
    """Answers ``a .. b-1`` (whole students) as their own :class:`Answers`, for
    encoding a table in ranges: codes and id tables are shared with ``ans``, pairs are
    re-based; the input-row fields (``row_answer``) are empty (rows stay with ``ans``)."""
    pa = ans.pair_answer
    lo, hi = np.searchsorted(pa, [a, b])
    return Answers(
        student=ans.student[a:b],
        item=ans.item[a:b],
        y=ans.y[a:b],
        pos=ans.pos[a:b],
        time=ans.time[a:b] if ans.time is not None else None,
        pair_answer=pa[lo:hi] - a,
        pair_concept=ans.pair_concept[lo:hi],
        row_answer=np.zeros(0, np.int64),
        first_row=ans.first_row[a:b],
        student_ids=ans.student_ids,
        item_ids=ans.item_ids,
        concept_ids=ans.concept_ids,
    )

"""End-of-history state of every student, and batches of "next answer" queries.

:func:`build_state` computes, vectorised, the statistics of each student's history
after its last answer (in the total, concept and item scopes). :func:`query_batch`
turns questions of the form "student s answers item i on concepts C next" into a
:class:`~edu_recsys.mastery.features.QueryBatch` the encoder understands, with the
fallback flags of the ids the model does not know.

Fallbacks (documented contract, flagged in every output that used them):

* ``unseen_student``: no history for the student (a new student starts from the
  population prior: every count zero); for models with a per-student parameter
  (``irt``) also a student absent from the training data (ability 0 = mean).
* ``unseen_item``: an item absent from the training data: no item parameter, its prior
  success rate is its concepts' training rate.
* ``unseen_concept``: a concept absent from the training data (or an item without any
  concept): no concept parameter; the history on it still counts in the shared
  features.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from edu_recsys.mastery.answers import Answers, build_answers, concept_pairs
from edu_recsys.mastery.features import HistoryFeatures, QueryBatch
from edu_recsys.mastery.history import Stats, WindowIndex, advance, empty_stats, take

__all__ = ["HistoryState", "build_state", "query_batch", "join_flags", "FALLBACKS"]

#: the fallback flags that may appear in outputs
FALLBACKS = ("unseen_student", "unseen_item", "unseen_concept")


def join_flags(*flags: tuple[str, np.ndarray]) -> np.ndarray:
    """Per query, the names of the true flags joined by ``|`` ("" when none).

    >>> join_flags(("a", np.array([True, False])), ("b", np.array([True, False]))).tolist()
    ['a|b', '']
    """
    n = len(flags[0][1]) if flags else 0
    out = np.full(n, "", dtype=object)
    for name, mask in flags:
        m = np.asarray(mask, dtype=bool)
        out[m] = np.where(out[m] == "", name, out[m] + "|" + name)
    return out


@dataclass
class ScopeTable:
    """After-last-answer statistics of the groups of one scope, sorted by key."""

    keys: np.ndarray
    stats: Stats
    # events of each group in time order (for time windows and online replay)
    ev_keys: np.ndarray | None = None
    ev_t: np.ndarray | None = None
    ev_y: np.ndarray | None = None

    def lookup(self, keys: np.ndarray) -> np.ndarray:
        """Row of each key, -1 when absent."""
        keys = np.asarray(keys, dtype=np.int64)
        j = np.searchsorted(self.keys, keys)
        j = np.minimum(j, max(len(self.keys) - 1, 0))
        ok = (len(self.keys) > 0) & (keys >= 0)
        hit = np.zeros(len(keys), bool)
        if len(self.keys):
            hit = ok & (self.keys[j] == keys)
        return np.where(hit, j, -1)


@dataclass
class HistoryState:
    """Every student's state after their history (see :func:`build_state`)."""

    student_ids: np.ndarray
    student_index: pd.Index
    n_answers: np.ndarray
    last_time: np.ndarray
    tot: Stats
    concept_ids: np.ndarray
    concept_index: pd.Index
    cpt: ScopeTable
    item_ids: np.ndarray
    item_index: pd.Index
    itm: ScopeTable
    windows: dict = field(default_factory=dict)
    # each student's last answer (``transition`` block): outcome (NaN: no answer) and
    # its concepts as (student code, local concept code) pairs sorted by student
    last_y: np.ndarray | None = None
    last_pair_student: np.ndarray | None = None
    last_pair_concept: np.ndarray | None = None
    last_item: np.ndarray | None = None  # item prior index of the last answer (-1 unknown)

    @property
    def n_concepts_local(self) -> int:
        return max(len(self.concept_ids), 1)

    @property
    def n_items_local(self) -> int:
        return max(len(self.item_ids), 1)


def _last_per_group(g: np.ndarray) -> np.ndarray:
    """Index of the last event of each group (groups in key order)."""
    if not len(g):
        return np.zeros(0, np.int64)
    order = np.argsort(g, kind="stable")
    gs = g[order]
    last = np.r_[gs[1:] != gs[:-1], True]
    return order[last]


def build_state(features: HistoryFeatures, history: pd.DataFrame) -> HistoryState:
    """The state of every student of ``history`` after their last answer."""
    ans: Answers = build_answers(history, merge_expanded=features.merge_expanded)
    ev = features.scopes(ans)
    lams = features.lams_
    t = ans.time
    n_st = len(ans.student_ids)
    # total scope: one group per student
    last_t_idx = _last_per_group(ans.student)
    tot = empty_stats(n_st, len(lams))
    if len(last_t_idx):
        j = last_t_idx
        after = advance(
            take(ev.tot, j),
            ans.y[j],
            ans.pos[j],
            lams,
            r=None if ev.r is None else ev.r[j],
            t=None if t is None else t[j],
        )
        stu = ans.student[j]
        for name in Stats.__dataclass_fields__:
            getattr(tot, name)[stu] = getattr(after, name)
    n_answers = np.bincount(ans.student, minlength=n_st).astype(np.int64)
    last_time = np.full(n_st, np.nan)
    if t is not None and len(last_t_idx):
        last_time[ans.student[last_t_idx]] = t[last_t_idx]

    def table(g, stats, y, pos, r, tt, lams) -> ScopeTable:
        j = _last_per_group(g)
        after = advance(
            take(stats, j),
            y[j],
            pos[j],
            lams,
            r=None if r is None else r[j],
            t=None if tt is None else tt[j],
        )
        tab = ScopeTable(keys=g[j].astype(np.int64), stats=after)
        if tt is not None:
            order = np.argsort(g, kind="stable")
            tab.ev_keys, tab.ev_t, tab.ev_y = g[order], tt[order], y[order]
        return tab

    pa = ans.pair_answer
    cpt = table(
        ev.g_cpt,
        ev.cpt,
        ans.y[pa],
        ans.pos[pa],
        None if ev.r is None else ev.r[pa],
        None if t is None else t[pa],
        lams,
    )
    itm = table(ev.g_item, ev.itm, ans.y, ans.pos, ev.r, t, ())
    state = HistoryState(
        student_ids=ans.student_ids,
        student_index=pd.Index(ans.student_ids, dtype=object),
        n_answers=n_answers,
        last_time=last_time,
        tot=tot,
        concept_ids=ans.concept_ids,
        concept_index=pd.Index(ans.concept_ids, dtype=object),
        cpt=cpt,
        item_ids=ans.item_ids,
        item_index=pd.Index(ans.item_ids, dtype=object),
        itm=itm,
    )
    if features._needs("transition", "item_transition"):
        _set_last_answers(state, ans, last_t_idx, features)
    if features.n_windows_ > 1 and t is not None:
        state.windows = {
            "tot": WindowIndex(ans.student, t, ans.y),
            "itm": WindowIndex(ev.g_item, t, ans.y),
            "cpt": WindowIndex(ev.g_cpt, t[pa], ans.y[pa]),
        }
    return state


def _set_last_answers(
    state: HistoryState, ans: Answers, last_idx: np.ndarray, features: HistoryFeatures
) -> None:
    """Outcome, item and concepts of every student's last answer."""
    state.last_y = np.full(len(ans.student_ids), np.nan)
    state.last_y[ans.student[last_idx]] = ans.y[last_idx]
    prior = features._prior_index.get_indexer(pd.Index(ans.item_ids, dtype=object))
    state.last_item = np.full(len(ans.student_ids), -1, np.int64)
    state.last_item[ans.student[last_idx]] = prior[ans.item[last_idx]]
    is_last = np.zeros(ans.n_answers, bool)
    is_last[last_idx] = True
    pm = is_last[ans.pair_answer]
    stu = ans.student[ans.pair_answer[pm]]
    order = np.argsort(stu, kind="stable")
    state.last_pair_student = stu[order]
    state.last_pair_concept = ans.pair_concept[pm][order]


def _previous_answers(
    features: HistoryFeatures, state: HistoryState, s_code: np.ndarray, batch, items
):
    """The previous-answer fields of a query batch: each student's last answer."""
    n = len(s_code)
    batch.prior_item_idx = (
        np.full(n, -1, np.int64)
        if items is None
        else features._prior_index.get_indexer(pd.Index(items, dtype=object))
    )
    no_item = state.last_item is None
    batch.prev_item = np.full(n, -1, np.int64) if no_item else _gather(state.last_item, s_code, -1)
    if state.last_y is None:
        batch.prev_y = np.full(n, np.nan)
        batch.prev_pair_row = np.zeros(0, np.int64)
        batch.prev_pair_concept_idx = np.zeros(0, np.int64)
        return
    batch.prev_y = _gather(state.last_y, s_code, np.nan)
    lo = np.searchsorted(state.last_pair_student, s_code, side="left")
    hi = np.searchsorted(state.last_pair_student, s_code, side="right")
    cnt = np.where(s_code >= 0, hi - lo, 0)
    rows = np.repeat(np.arange(n), cnt)
    idx = np.repeat(lo, cnt) + (np.arange(len(rows)) - np.repeat(np.cumsum(cnt) - cnt, cnt))
    cvocab = features._concept_index.get_indexer(pd.Index(state.concept_ids, dtype=object))
    batch.prev_pair_row = rows
    batch.prev_pair_concept_idx = cvocab[state.last_pair_concept[idx]] if len(idx) else rows


def _gather(values: np.ndarray, idx: np.ndarray, fill) -> np.ndarray:
    """values[idx] where idx >= 0, else ``fill`` (also for an empty ``values``)."""
    if not len(values):
        return np.full(len(idx), fill, dtype=np.result_type(values.dtype, type(fill)))
    return np.where(idx >= 0, values[np.maximum(idx, 0)], fill)


def _window_query(index: WindowIndex | None, keys, now, features: HistoryFeatures, n_ok):
    out = np.zeros((len(keys), features.n_windows_, 2))
    if index is None:
        return out
    for j, w in enumerate(features.windows_):
        c, wins = index.query(np.maximum(keys, 0), now, w)
        out[:, j, 0] = np.where(keys >= 0, c, 0.0)
        out[:, j, 1] = np.where(keys >= 0, wins, 0.0)
    return out


def query_batch(
    features: HistoryFeatures,
    state: HistoryState,
    students,
    items,
    concepts,
    now=None,
) -> tuple[QueryBatch, dict[str, np.ndarray], np.ndarray]:
    """A batch of hypothetical next answers.

    Parameters
    ----------
    features : HistoryFeatures
        The fitted transformer.
    state : HistoryState
        From :func:`build_state`.
    students : array of str
        Who answers (one per query).
    items : array of str or None
        Which item; ``None`` means a typical new item of the concepts (mastery).
    concepts : sequence of tuples of str
        The concepts of each query.
    now : array of float, optional
        Time of each query in seconds (default: the student's last answer).

    Returns
    -------
    batch, flags, evidence
        ``flags`` maps fallback names to boolean arrays; ``evidence`` is the number of
        earlier answers on the query's concepts (mean over concepts).
    """
    students = np.asarray(students, dtype=object)
    n = len(students)
    s_code = state.student_index.get_indexer(pd.Index(students, dtype=object))
    known = s_code >= 0
    tot = take(state.tot, s_code)
    pos = _gather(state.n_answers, s_code, 0)
    if now is None:
        now_arr = _gather(state.last_time, s_code, np.nan)
    else:
        now_arr = np.broadcast_to(np.asarray(now, dtype=float), (n,)).copy()
    # concepts
    rows, ccodes, cuniq = concept_pairs(pd.Series(list(concepts), dtype=object))
    cvocab = features._concept_index.get_indexer(pd.Index(cuniq, dtype=object))
    clocal = state.concept_index.get_indexer(pd.Index(cuniq, dtype=object))
    pair_cidx = cvocab[ccodes] if len(ccodes) else np.zeros(0, np.int64)
    pair_local = clocal[ccodes] if len(ccodes) else np.zeros(0, np.int64)
    ps = s_code[rows]
    ckeys = np.where((ps >= 0) & (pair_local >= 0), ps * state.n_concepts_local + pair_local, -1)
    cpt_rows = state.cpt.lookup(ckeys)
    cpt = take(state.cpt.stats, cpt_rows)
    # items
    if items is None:
        item_idx = np.full(n, -1, np.int64)
        itm = empty_stats(n, 0)
        ikeys = np.full(n, -1, np.int64)
        item_p = features.item_prior(np.full(n, None, dtype=object), rows, pair_cidx)
        unseen_item = np.zeros(n, bool)
    else:
        items = np.asarray(items, dtype=object)
        item_idx = features._item_index.get_indexer(pd.Index(items, dtype=object))
        ilocal = state.item_index.get_indexer(pd.Index(items, dtype=object))
        ikeys = np.where(known & (ilocal >= 0), s_code * state.n_items_local + ilocal, -1)
        itm = take(state.itm.stats, state.itm.lookup(ikeys))
        item_p = features.item_prior(items, rows, pair_cidx)
        unseen_item = features._prior_index.get_indexer(pd.Index(items, dtype=object)) < 0
    student_idx = features._student_index.get_indexer(pd.Index(students, dtype=object))
    batch = QueryBatch(
        student_idx=student_idx,
        item_idx=item_idx,
        item_p=item_p,
        pos=pos,
        now=now_arr if features.has_time_ else None,
        tot=tot,
        itm=itm,
        pair_row=rows,
        pair_concept_idx=pair_cidx,
        cpt=cpt,
    )
    if features._needs("transition", "item_transition"):
        _previous_answers(features, state, s_code, batch, items)
    if features.n_windows_ > 1:
        w = state.windows
        batch.win_tot = _window_query(
            w.get("tot"), np.where(known, s_code, -1), now_arr, features, n
        )
        batch.win_itm = _window_query(w.get("itm"), ikeys, now_arr, features, n)
        batch.win_cpt = _window_query(
            w.get("cpt"), ckeys, now_arr[rows] if len(rows) else now_arr[:0], features, n
        )
    n_pairs = np.bincount(rows, minlength=n)
    bad_pairs = np.bincount(rows, weights=(pair_cidx < 0).astype(float), minlength=n)
    unseen_student = ~known
    if "student" in features.blocks:
        unseen_student = unseen_student | (student_idx < 0)
    flags = {
        "unseen_student": unseen_student,
        "unseen_item": unseen_item,
        "unseen_concept": (n_pairs == 0) | (bad_pairs > 0),
    }
    ev_sum = np.bincount(rows, weights=cpt.n.astype(float), minlength=n)
    evidence = np.divide(ev_sum, n_pairs, out=np.zeros(n), where=n_pairs > 0)
    return batch, flags, evidence

"""Online mastery states: fold in one answer at a time, no refit, no replay.

``state = tracer.online_state(history)`` starts from the end of ``history``
(vectorised); ``state.update(student_id, item_id, concept_ids, correct)`` then costs
O(number of the answer's concepts). ``state.mastery(student_id)`` and
``state.predict(...)`` give the same numbers the batch methods give on the history
with the new answers appended (tested). Call ``update`` once per *answer*, with all
of its concepts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.special import expit

from edu_recsys.mastery.features import QueryBatch
from edu_recsys.mastery.history import KeyState, Stats, empty_stats, stack_states
from edu_recsys.mastery.state import HistoryState, build_state, join_flags

__all__ = ["FeatureOnlineState", "StudentState"]


def _as_tuple(concept_ids) -> tuple[str, ...]:
    if concept_ids is None:
        return ()
    if isinstance(concept_ids, str):
        return (concept_ids,)
    if isinstance(concept_ids, tuple) and all(type(c) is str for c in concept_ids):
        return concept_ids
    return tuple(str(c) for c in concept_ids)


def _seconds(timestamp) -> float | None:
    """Epoch seconds of a datetime-like (naive = UTC) or a number of seconds."""
    if timestamp is None:
        return None
    if isinstance(timestamp, (int, float, np.integer, np.floating)):
        return float(timestamp)
    ts = pd.Timestamp(timestamp)
    if pd.isna(ts):  # a missing time (NaT): NaN, as the batch path reads it
        return float("nan")
    return ts.timestamp() if ts.tzinfo is not None else ts.tz_localize("UTC").timestamp()


def _keystate(stats: Stats, j: int, times=None, wins=None) -> KeyState:
    # whole seconds, a missing time as 0 (as WindowIndex); out of order: counted one by one
    tl = [] if times is None else [0.0 if np.isnan(x) else float(x) for x in times]
    return KeyState(
        unordered=any(b < a for a, b in zip(tl, tl[1:])),
        n=int(stats.n[j]),
        w=float(stats.w[j]),
        sr=float(stats.sr[j]),
        dy=[float(v) for v in stats.dy[j]],
        dn=[float(v) for v in stats.dn[j]],
        dr=[float(v) for v in stats.dr[j]],
        streak=int(stats.streak[j]),
        last3=int(stats.last3[j]),
        prev_pos=int(stats.prev_pos[j]),
        last_t=float(stats.last_t[j]),
        times=tl,
        wins=list(wins) if wins is not None else [],
    )


@dataclass
class StudentState:
    """One student's running statistics."""

    pos: int = 0
    last_t: float = float("nan")
    total: KeyState = field(default_factory=KeyState)
    concepts: dict = field(default_factory=dict)
    items: dict = field(default_factory=dict)
    # the last answer (``transition`` block)
    last_y: float = float("nan")
    last_concepts: tuple = ()
    last_item: str | None = None


class FeatureOnlineState:
    """Online state of a fitted :class:`~edu_recsys.mastery.tracer.FeatureTracer`.

    Students of the seeding history are materialised lazily (on their first update
    or query), so seeding costs one vectorised pass over the history.
    """

    def __init__(self, tracer, history: pd.DataFrame | None = None) -> None:
        self.tracer = tracer
        f = tracer.features_
        self._f = f
        self._lams = f.lams_
        self._windows = f.windows_ if f.n_windows_ > 1 else None
        finite = [w for w in (self._windows or ()) if np.isfinite(w)]
        self._horizon = max(finite) if finite else None
        self._state: HistoryState | None = (
            build_state(f, history) if history is not None and len(history) else None
        )
        self._students: dict[str, StudentState] = {}
        self._need_r = any(b in f.blocks for b in ("ability", "long_ability"))
        self._item_nw: dict = {}
        self._concept_rate: dict = {}
        self._positions_of: dict = {}

    # ------------------------------------------------------------------ state
    def _events(self, tab, key):
        if tab.ev_keys is None:
            return None, None
        lo = np.searchsorted(tab.ev_keys, key, side="left")
        hi = np.searchsorted(tab.ev_keys, key, side="right")
        return np.floor(tab.ev_t[lo:hi]), tab.ev_y[lo:hi]

    def _materialise(self, sid: str) -> StudentState | None:
        st = self._state
        if st is None:
            return None
        code = st.student_index.get_indexer([sid])[0]
        if code < 0:
            return None
        s = StudentState(pos=int(st.n_answers[code]), last_t=float(st.last_time[code]))
        tt = self._f.has_time_ and self._horizon is not None
        s.total = _keystate(st.tot, code)
        if tt:
            idx = st.windows["tot"]
            lo = np.searchsorted(idx.g, code, side="left")
            hi = np.searchsorted(idx.g, code, side="right")
            s.total.times = list((idx.key[lo:hi] - code * idx._SHIFT + idx.t0).astype(float))
            s.total.wins = list(np.diff(idx.cumw)[lo:hi])
        for tab, nloc, ids, target in (
            (st.cpt, st.n_concepts_local, st.concept_ids, s.concepts),
            (st.itm, st.n_items_local, st.item_ids, s.items),
        ):
            lo = np.searchsorted(tab.keys, code * nloc, side="left")
            hi = np.searchsorted(tab.keys, (code + 1) * nloc, side="left")
            for j in range(lo, hi):
                key = int(tab.keys[j])
                times, wins = self._events(tab, key) if tt else (None, None)
                target[str(ids[key % nloc])] = _keystate(tab.stats, j, times, wins)
        if st.last_y is not None:
            s.last_y = float(st.last_y[code])
            lo = np.searchsorted(st.last_pair_student, code, side="left")
            hi = np.searchsorted(st.last_pair_student, code, side="right")
            s.last_concepts = tuple(str(c) for c in st.concept_ids[st.last_pair_concept[lo:hi]])
            j = int(st.last_item[code])
            s.last_item = str(self._f.prior_items_[j]) if j >= 0 else None
        return s

    def _student(self, sid: str, create: bool) -> StudentState | None:
        s = self._students.get(sid)
        if s is None:
            s = self._materialise(sid)
            if s is None and not create:
                return None
            if s is None:
                s = StudentState()
            self._students[sid] = s
        return s

    def _item_p(self, item_id: str, concepts: tuple[str, ...]) -> float:
        """The item prior of HistoryFeatures.item_prior, with dict lookups (O(1))."""
        f = self._f
        if not self._item_nw:
            self._item_nw = dict(zip(f.prior_items_, zip(f.item_n_, f.item_w_)))
            self._concept_rate = dict(zip(f.concepts_, f.concept_rate_))
        rates = [self._concept_rate.get(c, f.mean_) for c in concepts]
        cp = sum(rates) / len(rates) if rates else f.mean_
        n, w = self._item_nw.get(item_id, (0.0, 0.0))
        a = f.item_prior_strength
        return (w + a * cp) / (n + a)

    # ------------------------------------------------------------------ update
    def update(
        self,
        student_id,
        item_id,
        concept_ids,
        correct,
        timestamp=None,
    ) -> None:
        """Fold one answer into the student's state (O(number of its concepts)).

        ``timestamp``: a datetime-like (naive = UTC) or epoch seconds; needed only by
        models with time features (windows, elapsed time).
        """
        sid = str(student_id)
        item = str(item_id)
        concepts = _as_tuple(concept_ids)
        y = 1 if int(correct) else 0
        t = _seconds(timestamp)
        s = self._student(sid, create=True)
        r = y - self._item_p(item, concepts) if self._need_r else 0.0
        lams, pos, hz = self._lams, s.pos, self._horizon
        s.total.update(y, pos, lams, r, t, hz)
        for c in dict.fromkeys(concepts):
            ks = s.concepts.get(c)
            if ks is None:
                ks = s.concepts[c] = KeyState()
            ks.update(y, pos, lams, r, t, hz)
        ks = s.items.get(item)
        if ks is None:
            ks = s.items[item] = KeyState()
        ks.update(y, pos, (), r, t, hz)  # no decays in the item scope
        s.pos += 1
        s.last_t = float("nan") if t is None else float(t)
        s.last_y = float(y)
        s.last_concepts = concepts
        s.last_item = item

    # ------------------------------------------------------------------ queries
    def _positions(self, vocab: str, ids) -> np.ndarray:
        """Index of each id in a fitted vocabulary of the features (-1 unknown), by
        dict lookups: pandas' ``get_indexer`` on its string indexes costs ~1 ms a call."""
        pos = self._positions_of.get(vocab)
        if pos is None:
            pos = self._positions_of[vocab] = {v: j for j, v in enumerate(getattr(self._f, vocab))}
        return np.fromiter((pos.get(i, -1) for i in ids), dtype=np.int64, count=len(ids))

    def _item_prior(self, prior_j: np.ndarray, rows, pair_cidx) -> np.ndarray:
        """``HistoryFeatures.item_prior`` from item prior indices (same operations)."""
        f = self._f
        cp = f._concept_prior(rows, pair_cidx, len(prior_j))
        a = f.item_prior_strength
        n = np.where(prior_j >= 0, f.item_n_[np.maximum(prior_j, 0)], 0.0)
        w = np.where(prior_j >= 0, f.item_w_[np.maximum(prior_j, 0)], 0.0)
        return (w + a * cp) / (n + a)

    def _batch(self, sid: str, items, concepts_list, now=None):
        f = self._f
        s = self._student(sid, create=False)
        n = len(concepts_list)
        k = len(self._lams)
        known = s is not None
        tot_state = s.total if known else None
        tot = stack_states([tot_state] * n, k)
        rows = np.repeat(np.arange(n), [len(c) for c in concepts_list])
        flat = [c for cs in concepts_list for c in cs]
        cpt = stack_states([s.concepts.get(c) if known else None for c in flat], k)
        pair_cidx = self._positions("concepts_", flat)
        if items is None:
            item_idx = np.full(n, -1, np.int64)
            itm = empty_stats(n, 0)
            prior_j = np.full(n, -1, np.int64)
            unseen_item = np.zeros(n, bool)
            item_states = [None] * n
        else:
            items = np.asarray(items, dtype=object)
            item_idx = self._positions("items_", items)
            item_states = [s.items.get(i) if known else None for i in items]
            itm = stack_states(item_states, 0)
            prior_j = self._positions("prior_items_", items)
            unseen_item = prior_j < 0
        item_p = self._item_prior(prior_j, rows, pair_cidx)
        pos = np.full(n, s.pos if known else 0, dtype=np.int64)
        t_now = now if now is not None else (s.last_t if known else np.nan)
        q = QueryBatch(
            student_idx=np.full(n, self._positions("students_", [sid])[0], dtype=np.int64),
            item_idx=item_idx,
            item_p=item_p,
            pos=pos,
            now=np.full(n, t_now, dtype=float) if f.has_time_ else None,
            tot=tot,
            itm=itm,
            pair_row=rows,
            pair_concept_idx=pair_cidx,
            cpt=cpt,
        )
        if "item_transition" in f.blocks:
            last = s.last_item if known else None
            q.prev_item = np.full(n, self._positions("prior_items_", [last])[0], dtype=np.int64)
            q.prior_item_idx = prior_j
        if f._needs("transition", "item_transition"):
            prev = s.last_concepts if known else ()
            q.prev_y = np.full(n, s.last_y if known else np.nan)
            q.prev_pair_row = np.repeat(np.arange(n), len(prev))
            q.prev_pair_concept_idx = np.tile(self._positions("concepts_", prev), n)
        if self._windows is not None:
            W = len(self._windows)

            def win(states):
                out = np.zeros((len(states), W, 2))
                for i, ks in enumerate(states):
                    if ks is not None and ks.n:
                        out[i] = ks.window_counts(t_now, self._windows)
                return out

            q.win_tot = win([tot_state] * n)
            q.win_itm = win(item_states)
            q.win_cpt = win([s.concepts.get(c) if known else None for c in flat])
        unseen_student = np.full(n, not known)
        if "student" in f.blocks:
            unseen_student |= q.student_idx < 0
        n_pairs = np.bincount(rows, minlength=n)
        bad = np.bincount(rows, weights=(pair_cidx < 0).astype(float), minlength=n)
        flags = {
            "unseen_student": unseen_student,
            "unseen_item": unseen_item,
            "unseen_concept": (n_pairs == 0) | (bad > 0),
        }
        ev = np.bincount(rows, weights=cpt.n.astype(float), minlength=n)
        evidence = np.divide(ev, n_pairs, out=np.zeros(n), where=n_pairs > 0)
        return q, flags, evidence

    def _concepts_of(self, sid: str) -> list[str]:
        known = list(self._f.concepts_)
        s = self._student(sid, create=False)
        if s is None:
            return known
        seen = set(known)
        return known + [c for c in s.concepts if c not in seen]

    def predict(self, student_id, item_id, concept_ids) -> float:
        """P(correct) if the student answered this item next."""
        sid = str(student_id)
        q, _, _ = self._batch(sid, [str(item_id)], [_as_tuple(concept_ids)])
        return float(expit(self.tracer._margin(q))[0])

    def mastery(self, student_id, concepts=None) -> dict[str, float]:
        """Concept -> mastery of one student now (known concepts plus any the student
        practised that the model does not know)."""
        sid = str(student_id)
        cs = [str(c) for c in concepts] if concepts is not None else self._concepts_of(sid)
        q, _, _ = self._batch(sid, None, [(c,) for c in cs])
        m = self.tracer._margin(q) + self.tracer._typical_offset(q)
        return dict(zip(cs, expit(m).tolist()))

    def frame(self, students=None, concepts=None) -> pd.DataFrame:
        """The long mastery table (as :meth:`BaseTracer.mastery`) for ``students``."""
        if students is None:
            students = list(self._students)
            if self._state is not None:
                students = list(dict.fromkeys(list(self._state.student_ids) + students))
        parts = []
        for sid in students:
            sid = str(sid)
            cs = [str(c) for c in concepts] if concepts is not None else list(self._f.concepts_)
            q, flags, evidence = self._batch(sid, None, [(c,) for c in cs])
            m = self.tracer._margin(q) + self.tracer._typical_offset(q)
            parts.append(
                pd.DataFrame(
                    {
                        "student_id": sid,
                        "concept_id": pd.Series(cs, dtype=object),
                        "mastery": expit(m),
                        "evidence": evidence,
                        "fallback": join_flags(*flags.items()),
                    }
                )
            )
        if not parts:
            return pd.DataFrame(
                columns=["student_id", "concept_id", "mastery", "evidence", "fallback"]
            )
        return pd.concat(parts, ignore_index=True)

    @property
    def students(self) -> list[str]:
        """Students with a state (seeded or updated)."""
        seeded = list(self._state.student_ids) if self._state is not None else []
        return list(dict.fromkeys(seeded + list(self._students)))

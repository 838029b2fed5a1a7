"""Per-student history statistics: one definition, three drivers.

A *scope* groups a student's answers: all of them (``total``), those on one concept
(``concept``) or those on one item (``item``). For every answer the models need the
statistics of the earlier answers in each of its scopes. They are defined here once as
a small state that each answer advances (:func:`advance` and :class:`KeyState`), and
computed in three ways that must agree:

* :func:`scan`: vectorised over a whole table, the state *before* every event;
* :func:`advance` on the last event of each group: the state *after* a history (what a
  prediction for the next answer needs);
* :class:`KeyState`: the same state advanced one answer at a time in O(1) (online).

State fields (per group): ``n`` earlier attempts, ``w`` earlier wins, ``sr`` sum of
earlier residuals (correct minus the item's prior success rate), exponentially decayed
sums of outcomes ``dy``, of ones ``dn`` and of residuals ``dr`` (one column per decay
factor; decay per attempt in the group), ``streak`` (+k: the last k attempts were
correct, -k: wrong), ``last3`` (the last up-to-three outcomes as a code 0..14),
``prev_pos`` (the student's answer index of the last attempt, -1 if none) and
``last_t`` (its time in seconds, NaN if none or unknown).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.signal import lfilter

from edu_recsys.mastery import compiled

__all__ = [
    "Stats",
    "KeyState",
    "scan",
    "advance",
    "empty_stats",
    "take",
    "WindowIndex",
    "GroupOrder",
    "last3_code",
]


@dataclass
class Stats:
    """Statistics of earlier answers, one entry per event (or per query)."""

    n: np.ndarray
    w: np.ndarray
    sr: np.ndarray
    dy: np.ndarray  # (m, n_decays)
    dn: np.ndarray
    dr: np.ndarray
    streak: np.ndarray
    last3: np.ndarray
    prev_pos: np.ndarray
    last_t: np.ndarray

    def __len__(self) -> int:
        return len(self.n)


def empty_stats(m: int, n_decays: int) -> Stats:
    """The state of ``m`` groups that have no answers yet."""
    z = np.zeros(m)
    zk = np.zeros((m, n_decays))
    return Stats(
        n=np.zeros(m, np.int64),
        w=z.copy(),
        sr=z.copy(),
        dy=zk.copy(),
        dn=zk.copy(),
        dr=zk.copy(),
        streak=np.zeros(m, np.int64),
        last3=np.zeros(m, np.int64),
        prev_pos=np.full(m, -1, np.int64),
        last_t=np.full(m, np.nan),
    )


def take(s: Stats, idx: np.ndarray) -> Stats:
    """Rows ``idx`` of ``s``; ``-1`` gives the empty state."""
    idx = np.asarray(idx, dtype=np.int64)
    out = empty_stats(len(idx), s.dy.shape[1])
    ok = idx >= 0
    if ok.any():
        j = idx[ok]
        for name in Stats.__dataclass_fields__:
            getattr(out, name)[ok] = getattr(s, name)[j]
    return out


def last3_code(prev: np.ndarray | int, y: np.ndarray | int) -> np.ndarray | int:
    """The last-three-outcomes code after appending outcome ``y`` to code ``prev``.

    Codes: 0 = no outcome; 1..2 = one outcome (0/1); 3..6 = two; 7..14 = three, the
    bits being the outcomes, oldest first.

    Examples
    --------
    >>> last3_code(0, 1), last3_code(2, 0), last3_code(4, 1), last3_code(10, 1)
    (2, 5, 10, 14)
    """
    prev = np.asarray(prev)
    length = np.where(prev >= 7, 3, np.where(prev >= 3, 2, np.where(prev >= 1, 1, 0)))
    bits = prev - (2**length - 1)
    new_len = np.minimum(length + 1, 3)
    new_bits = ((bits << 1) | np.asarray(y, dtype=np.int64)) & (2**new_len - 1)
    out = new_bits + 2**new_len - 1
    return out if out.ndim else int(out)


def _last3_scalar(prev: int, y: int) -> int:
    """:func:`last3_code` for Python ints (the online path)."""
    length = 3 if prev >= 7 else 2 if prev >= 3 else 1 if prev >= 1 else 0
    bits = prev - ((1 << length) - 1)
    new_len = min(length + 1, 3)
    return (((bits << 1) | y) & ((1 << new_len) - 1)) + (1 << new_len) - 1


def _group_starts(g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    m = len(g)
    start = np.r_[True, g[1:] != g[:-1]] if m else np.zeros(0, bool)
    idx = np.arange(m)
    first = np.maximum.accumulate(np.where(start, idx, 0)) if m else idx
    return start, first


@dataclass
class GroupOrder:
    """Events sorted by group (stable): computed once per scope, shared by
    :func:`scan` and :class:`WindowIndex`.

    ``order`` is None when the events are already grouped in key order (the total
    scope of a table sorted by student); ``start``/``first`` refer to sorted positions.
    """

    order: np.ndarray | None
    g: np.ndarray
    start: np.ndarray
    first: np.ndarray

    @classmethod
    def of(cls, group: np.ndarray) -> GroupOrder:
        group = np.asarray(group)
        if len(group) < 2 or bool(np.all(group[1:] >= group[:-1])):
            order = None
            g = group
        else:
            order = np.argsort(group, kind="stable")
            g = group[order]
        start, first = _group_starts(g)
        return cls(order, g, start, first)

    def sort(self, x: np.ndarray) -> np.ndarray:
        return x if self.order is None else x[self.order]

    @property
    def inverse(self) -> np.ndarray:
        """Sorted position of every event (a gather is cheaper than a scatter)."""
        inv = getattr(self, "_inv", None)
        if inv is None:
            inv = np.empty_like(self.order)
            inv[self.order] = np.arange(len(self.order))
            self._inv = inv
        return inv

    def unsort(self, xs: np.ndarray) -> np.ndarray:
        """Sorted values back in event order (2-D: column by column)."""
        if self.order is None:
            return xs
        if xs.ndim == 1:
            return np.take(xs, self.inverse)
        out = np.empty_like(xs)
        for j in range(xs.shape[1]):
            out[:, j] = np.take(xs[:, j], self.inverse)
        return out


def _exclusive_decayed(xs, lam: float, start, first, powk) -> np.ndarray:
    """sum_{j<i, same group} lam**(i-1-j) * xs[j], for group-sorted xs.

    ``powk`` is ``lam ** (i - first[i])``.
    """
    m = len(xs)
    if m == 0:
        return np.zeros(0)
    yfull = lfilter([1.0], [1.0, -lam], xs)
    out = np.empty(m)
    out[0] = 0.0
    out[1:] = yfull[:-1]
    base = yfull[np.maximum(first - 1, 0)]
    base[first == 0] = 0.0
    base *= powk
    out -= base
    out[start] = 0.0
    return out


def _exclusive_cumsum(xs: np.ndarray, first: np.ndarray) -> np.ndarray:
    """sum_{j<i, same group} xs[j] for group-sorted xs (exact for integer values only:
    the running sum of earlier groups enters the rounding)."""
    c = np.cumsum(xs)
    c -= xs
    # minus the running sum before each group (c[0] = 0 for the first group)
    c -= c[first]
    return c


def scan(
    group: np.ndarray,
    pos: np.ndarray,
    y: np.ndarray,
    lams: tuple[float, ...],
    *,
    r: np.ndarray | None = None,
    t: np.ndarray | None = None,
    order: GroupOrder | None = None,
) -> Stats:
    """Statistics before every event, vectorised.

    Parameters
    ----------
    group : int array
        Group key of each event (e.g. student * n_concepts + concept). Events of one
        group must appear in time order.
    pos : int array
        The student's answer index of each event.
    y : float array
        Outcomes (0/1).
    lams : tuple of float
        Decay factors in (0, 1).
    r : float array, optional
        Residuals (zero when absent).
    t : float array, optional
        Times in seconds.
    order : GroupOrder, optional
        ``GroupOrder.of(group)`` when the caller already has it.

    Examples
    --------
    >>> s = scan(np.array([0, 0, 1, 0]), np.arange(4), np.array([1., 0., 1., 1.]), (0.5,))
    >>> s.n.tolist(), s.w.tolist(), s.dy[:, 0].tolist(), s.streak.tolist()
    ([0, 1, 0, 2], [0.0, 1.0, 0.0, 1.0], [0.0, 1.0, 0.0, 0.5], [0, 1, 0, -1])
    """
    m = len(group)
    go = order if order is not None else GroupOrder.of(group)
    if compiled.enabled():
        o = go.order if go.order is not None else np.arange(m)
        return Stats(*compiled.scan_sorted(o, go.start, y, r, pos, t, lams))
    start, first = go.start, go.first
    ys = np.asarray(go.sort(y), dtype=float)
    k = len(lams)
    idx = np.arange(m)
    n_sorted = idx - first
    # exclusive group sums: of the 0/1 outcomes, cumulative sums minus each group's
    # base (exact); of the residuals, summed within each group from its start (pandas'
    # grouped cumsum), so that no other group's rounding enters
    gs = _exclusive_cumsum(ys, first)
    rs = np.asarray(go.sort(r), dtype=float) if r is not None else None
    if rs is not None and m:
        grs = pd.Series(rs).groupby(np.cumsum(start), sort=False).cumsum().to_numpy() - rs
    else:
        grs = np.zeros(m)
    dy = np.empty((m, k))
    dn = np.empty((m, k))
    dr = np.empty((m, k))
    top = int(n_sorted.max()) + 1 if m else 1
    for j, lam in enumerate(lams):
        with np.errstate(under="ignore"):
            # lam ** n by table lookup (the same values as the power, far cheaper)
            powk = (lam ** np.arange(top))[n_sorted]
        dy[:, j] = _exclusive_decayed(ys, lam, start, first, powk)
        # sum_{k<n} lam**k in closed form
        dn[:, j] = (1.0 - powk) / (1.0 - lam)
        dr[:, j] = _exclusive_decayed(rs, lam, start, first, powk) if rs is not None else 0.0
    # streak: signed length of the run of equal outcomes just before
    streak = np.zeros(m, np.int64)
    if m:
        run_start = start.copy()
        run_start[1:] |= ys[1:] != ys[:-1]
        run_first = np.maximum.accumulate(np.where(run_start, idx, 0))
        streak[1:] = idx[:-1] - run_first[:-1] + 1
        streak[1:] *= np.where(ys[:-1] > 0.5, 1, -1)
        streak[start] = 0
    # last three outcomes: code = 2**L - 1 + bits (oldest outcome first)
    yi = ys.astype(np.int64)
    L = np.minimum(n_sorted, 3)
    code = (1 << L) - 1
    for back in (1, 2, 3):
        if m > back:
            sel = L[back:] >= back
            code[back:] += np.where(sel, yi[:-back] << (back - 1), 0)
    ps = np.asarray(go.sort(pos), dtype=np.int64)
    prev_pos = np.empty(m, np.int64)
    if m:
        prev_pos[0] = -1
        prev_pos[1:] = ps[:-1]
        prev_pos[start] = -1
    last_t = np.full(m, np.nan)
    if t is not None and m:
        ts = go.sort(t)
        last_t[1:] = ts[:-1]
        last_t[start] = np.nan
    return Stats(
        n=go.unsort(n_sorted.astype(np.int64)),
        w=go.unsort(gs),
        sr=go.unsort(grs),
        dy=go.unsort(dy),
        dn=go.unsort(dn),
        dr=go.unsort(dr),
        streak=go.unsort(streak),
        last3=go.unsort(code),
        prev_pos=go.unsort(prev_pos),
        last_t=go.unsort(last_t),
    )


def advance(
    s: Stats,
    y: np.ndarray,
    pos: np.ndarray,
    lams: tuple[float, ...],
    *,
    r: np.ndarray | None = None,
    t: np.ndarray | None = None,
) -> Stats:
    """The state after one more answer (outcome ``y`` at answer index ``pos``)."""
    y = np.asarray(y, dtype=float)
    m = len(y)
    r = np.zeros(m) if r is None else np.asarray(r, dtype=float)
    lam = np.asarray(lams, dtype=float)[None, :]
    same = (s.n > 0) & (np.sign(s.streak) == np.where(y > 0.5, 1, -1))
    streak = np.where(same, s.streak + np.sign(s.streak), np.where(y > 0.5, 1, -1))
    return Stats(
        n=s.n + 1,
        w=s.w + y,
        sr=s.sr + r,
        dy=s.dy * lam + y[:, None],
        dn=s.dn * lam + 1.0,
        dr=s.dr * lam + r[:, None],
        streak=streak.astype(np.int64),
        last3=last3_code(s.last3, y.astype(np.int64)),
        prev_pos=np.asarray(pos, dtype=np.int64).copy(),
        last_t=np.full(m, np.nan) if t is None else np.asarray(t, dtype=float).copy(),
    )


@dataclass
class KeyState:
    """The state of one group, advanced one answer at a time (online updates).

    Field meanings are those of :class:`Stats`; ``times`` and ``wins`` keep the
    recent answers needed by time-window counts.
    """

    n: int = 0
    w: float = 0.0
    sr: float = 0.0
    dy: list = field(default_factory=list)
    dn: list = field(default_factory=list)
    dr: list = field(default_factory=list)
    streak: int = 0
    last3: int = 0
    prev_pos: int = -1
    last_t: float = float("nan")
    times: list = field(default_factory=list)
    wins: list = field(default_factory=list)
    unordered: bool = False  # a time went back: windows counted answer by answer

    def update(
        self,
        y: int,
        pos: int,
        lams: tuple[float, ...],
        r: float = 0.0,
        t: float | None = None,
        horizon: float | None = None,
    ) -> None:
        """Fold one answer in (O(number of decays))."""
        if not self.dy:
            self.dy = [0.0] * len(lams)
            self.dn = [0.0] * len(lams)
            self.dr = [0.0] * len(lams)
        for j, lam in enumerate(lams):
            self.dy[j] = self.dy[j] * lam + y
            self.dn[j] = self.dn[j] * lam + 1.0
            self.dr[j] = self.dr[j] * lam + r
        sign = 1 if y else -1
        if self.n > 0 and (self.streak > 0) == (sign > 0):
            self.streak += sign
        else:
            self.streak = sign
        self.n += 1
        self.w += y
        self.sr += r
        self.last3 = _last3_scalar(self.last3, int(y))
        self.prev_pos = pos
        self.last_t = float("nan") if t is None else float(t)
        if horizon is not None and t is not None:
            # whole seconds, a missing time as 0, as in WindowIndex
            tk = 0.0 if np.isnan(t) else float(np.floor(t))
            if self.times and tk < self.times[-1]:
                self.unordered = True
            self.times.append(tk)
            self.wins.append(float(y))
            if not getattr(self, "unordered", False):
                # forget answers older than the longest finite window (amortised O(1))
                cut = bisect_left(self.times, self.times[-1] - horizon)
                if cut > 64 and cut > len(self.times) // 2:
                    del self.times[:cut]
                    del self.wins[:cut]

    def window_counts(self, now: float, windows: tuple[float, ...]) -> list[tuple[float, float]]:
        """(attempts, wins) in each window ending at ``now`` (whole seconds)."""
        out = []
        nowk = 0.0 if np.isnan(now) else float(np.floor(now))
        hi = bisect_right(self.times, nowk)
        for wlen in windows:
            if not np.isfinite(wlen):
                out.append((float(self.n), self.w))
                continue
            if getattr(self, "unordered", False):
                lo_t = nowk - np.ceil(wlen)
                sel = [w for tk, w in zip(self.times, self.wins) if lo_t <= tk <= nowk]
                out.append((float(len(sel)), float(sum(sel))))
                continue
            lo = min(bisect_left(self.times, nowk - np.ceil(wlen)), hi)
            out.append((float(hi - lo), float(sum(self.wins[lo:hi]))))
        return out


def stack_states(states: list[KeyState], n_decays: int) -> Stats:
    """A :class:`Stats` of the given key states (``None`` = empty state)."""
    m = len(states)
    out = empty_stats(m, n_decays)
    for i, st in enumerate(states):
        if st is None or st.n == 0:
            continue
        out.n[i] = st.n
        out.w[i] = st.w
        out.sr[i] = st.sr
        out.dy[i] = st.dy
        out.dn[i] = st.dn
        out.dr[i] = st.dr
        out.streak[i] = st.streak
        out.last3[i] = st.last3
        out.prev_pos[i] = st.prev_pos
        out.last_t[i] = st.last_t
    return out


class WindowIndex:
    """Counts of a group's answers in time windows, by binary search.

    Answers "how many answers (and wins) did group g have with a time in
    [now - window, now]" (whole seconds; a missing time counts as 0) for events of the
    table itself (among the group's strictly earlier answers) and for new queries; an
    unbounded window counts every earlier answer (events) or every answer up to now
    (queries). A group whose times are not in order (missing times, clocks going back)
    is counted answer by answer with the same definition.
    """

    _SHIFT = 2**34

    def __init__(
        self, group: np.ndarray, t: np.ndarray, y: np.ndarray, order: GroupOrder | None = None
    ) -> None:
        go = order if order is not None else GroupOrder.of(group)
        self._go = go
        self.order = go.order if go.order is not None else np.arange(len(go.g))
        self.g = go.g
        tt = np.nan_to_num(go.sort(t), nan=0.0)
        self.t0 = float(np.floor(tt.min())) if len(tt) else 0.0
        self.key = self.g.astype(np.int64) * self._SHIFT + np.floor(tt - self.t0).astype(np.int64)
        self.ys = np.asarray(go.sort(y), dtype=float)
        self.cumw = np.r_[0.0, np.cumsum(self.ys)]
        self.start, self.first = go.start, go.first
        # groups whose times go back somewhere: (first, end) positions
        back = np.zeros(len(self.key), bool)
        back[1:] = (self.key[1:] < self.key[:-1]) & ~self.start[1:]
        firsts = np.unique(self.first[back])
        starts = np.r_[np.flatnonzero(self.start), len(self.key)]
        ends = starts[np.searchsorted(starts, firsts, side="right")]
        # group key -> its (first, end) positions
        self.unordered = {int(self.g[a]): (a, b) for a, b in zip(firsts.tolist(), ends.tolist())}

    def _in_window(self, a: int, b: int, now_key: int, window: float) -> np.ndarray:
        """Positions a..b-1 whose keys lie in [now_key - window, now_key]."""
        kk = self.key[a:b]
        ok = kk <= now_key
        if np.isfinite(window):
            ok &= kk >= now_key - int(np.ceil(window))
        return ok

    def at_events(self, window: float) -> tuple[np.ndarray, np.ndarray]:
        """(attempts, wins) in the window before each event (input order)."""
        m = len(self.g)
        idx = np.arange(m)
        if np.isfinite(window):
            left = np.searchsorted(self.key, self.key - int(np.ceil(window)), side="left")
            # within the group's earlier answers (a missing time counts as 0 and can
            # put a group's keys out of order: never a negative count)
            left = np.minimum(np.maximum(left, self.first), idx)
        else:
            left = self.first
        cnt = (idx - left).astype(float)
        wins = self.cumw[:m] - self.cumw[left]
        if np.isfinite(window):
            for a, b in self.unordered.values():  # answer by answer (rare: out of order)
                for i in range(a, b):
                    ok = self._in_window(a, i, int(self.key[i]), window)
                    cnt[i] = ok.sum()
                    wins[i] = self.ys[a:i][ok].sum()
        return self._go.unsort(cnt), self._go.unsort(wins)

    def query(self, group: np.ndarray, now: np.ndarray, window: float):
        """(attempts, wins) of groups ``group`` in [now - window, now] (all answers)."""
        g = np.asarray(group, dtype=np.int64)
        nowk = np.floor(np.nan_to_num(now, nan=0.0) - self.t0).astype(np.int64)
        hi = np.searchsorted(self.key, g * self._SHIFT + nowk, side="right")
        gend = np.searchsorted(self.key, (g + 1) * self._SHIFT, side="left")
        hi = np.minimum(hi, gend)
        if np.isfinite(window):
            lo = np.searchsorted(
                self.key, g * self._SHIFT + nowk - int(np.ceil(window)), side="left"
            )
        else:
            lo = np.searchsorted(self.key, g * self._SHIFT, side="left")
        lo = np.minimum(lo, hi)
        cnt, wins = (hi - lo).astype(float), self.cumw[hi] - self.cumw[lo]
        if self.unordered:
            # only the queries of such groups (not a pass over the queries per group)
            for i in np.flatnonzero(np.isin(g, list(self.unordered))):
                a, b = self.unordered[int(g[i])]
                ok = self._in_window(a, b, int(nowk[i]) + int(g[i]) * self._SHIFT, window)
                cnt[i] = ok.sum()
                wins[i] = self.ys[a:b][ok].sum()
        return cnt, wins

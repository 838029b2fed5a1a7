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

__all__ = [
    "Stats",
    "KeyState",
    "scan",
    "advance",
    "empty_stats",
    "take",
    "WindowIndex",
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


def _exclusive_decayed(xs: np.ndarray, lam: float, start: np.ndarray, first: np.ndarray):
    """sum_{j<i, same group} lam**(i-1-j) * xs[j], for group-sorted xs."""
    m = len(xs)
    if m == 0:
        return np.zeros(0)
    yfull = lfilter([1.0], [1.0, -lam], xs)
    prev = np.r_[0.0, yfull[:-1]]
    base = np.where(first > 0, yfull[np.maximum(first - 1, 0)], 0.0)
    k = np.arange(m) - first
    with np.errstate(under="ignore"):
        out = prev - lam**k * base
    out[start] = 0.0
    return out


def scan(
    group: np.ndarray,
    pos: np.ndarray,
    y: np.ndarray,
    lams: tuple[float, ...],
    *,
    r: np.ndarray | None = None,
    t: np.ndarray | None = None,
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

    Examples
    --------
    >>> s = scan(np.array([0, 0, 1, 0]), np.arange(4), np.array([1., 0., 1., 1.]), (0.5,))
    >>> s.n.tolist(), s.w.tolist(), s.dy[:, 0].tolist(), s.streak.tolist()
    ([0, 1, 0, 2], [0.0, 1.0, 0.0, 1.0], [0.0, 1.0, 0.0, 0.5], [0, 1, 0, -1])
    """
    m = len(group)
    order = np.argsort(group, kind="stable")
    g = group[order]
    start, first = _group_starts(g)
    ys = y[order].astype(float)
    rs = r[order].astype(float) if r is not None else np.zeros(m)
    k = len(lams)
    out = empty_stats(m, k)
    n_sorted = np.arange(m) - first
    # exclusive group sums (pandas' grouped cumsum is exact per group)
    gs = pd.Series(ys).groupby(g, sort=False).cumsum().to_numpy() - ys
    grs = pd.Series(rs).groupby(g, sort=False).cumsum().to_numpy() - rs
    dy = np.empty((m, k))
    dn = np.empty((m, k))
    dr = np.empty((m, k))
    for j, lam in enumerate(lams):
        dy[:, j] = _exclusive_decayed(ys, lam, start, first)
        # sum_{k<n} lam**k in closed form
        with np.errstate(under="ignore"):
            dn[:, j] = (1.0 - lam**n_sorted) / (1.0 - lam)
        dr[:, j] = _exclusive_decayed(rs, lam, start, first) if r is not None else 0.0
    # streak: signed length of the run of equal outcomes just before
    run_start = start | np.r_[True, ys[1:] != ys[:-1]] if m else start
    idx = np.arange(m)
    run_first = np.maximum.accumulate(np.where(run_start, idx, 0)) if m else idx
    run_len = idx - run_first + 1
    streak = np.zeros(m, np.int64)
    if m:
        prev_len = np.r_[0, run_len[:-1]]
        prev_sign = np.r_[0, np.where(ys[:-1] > 0.5, 1, -1)]
        streak = np.where(start, 0, prev_len * prev_sign)
    # last three outcomes: code = 2**L - 1 + bits (oldest outcome first)
    yi = ys.astype(np.int64)
    L = np.minimum(n_sorted, 3)
    bits = np.zeros(m, np.int64)
    for back in (1, 2, 3):
        src = np.maximum(idx - back, 0)
        bits += np.where(L >= back, yi[src] << (back - 1), 0)
    code = bits + (1 << L) - 1
    ps = pos[order]
    prev_pos = np.where(start, -1, np.r_[-1, ps[:-1]]) if m else ps
    last_t = np.full(m, np.nan)
    if t is not None and m:
        ts = t[order]
        last_t = np.where(start, np.nan, np.r_[np.nan, ts[:-1]])
    sorted_stats = Stats(
        n=n_sorted.astype(np.int64),
        w=gs,
        sr=grs,
        dy=dy,
        dn=dn,
        dr=dr,
        streak=streak.astype(np.int64),
        last3=code,
        prev_pos=prev_pos.astype(np.int64),
        last_t=last_t,
    )
    for name in Stats.__dataclass_fields__:
        getattr(out, name)[order] = getattr(sorted_stats, name)
    return out


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
            # whole seconds, as in WindowIndex
            self.times.append(float(np.floor(t)))
            self.wins.append(float(y))
            # forget answers older than the longest finite window (amortised O(1))
            cut = bisect_left(self.times, self.times[-1] - horizon)
            if cut > 64 and cut > len(self.times) // 2:
                del self.times[:cut]
                del self.wins[:cut]

    def window_counts(self, now: float, windows: tuple[float, ...]) -> list[tuple[float, float]]:
        """(attempts, wins) in each window ending at ``now`` (whole seconds)."""
        out = []
        nowk = float(np.floor(now))
        hi = bisect_right(self.times, nowk)
        for wlen in windows:
            if not np.isfinite(wlen):
                out.append((float(self.n), self.w))
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

    Built from events in time order within each group; answers queries "how many
    answers (and wins) did group g have in [now - window, now)" for events of the
    table itself (strictly earlier answers) and for new queries.
    """

    _SHIFT = 2**34

    def __init__(self, group: np.ndarray, t: np.ndarray, y: np.ndarray) -> None:
        order = np.argsort(group, kind="stable")
        self.order = order
        self.g = group[order]
        tt = np.nan_to_num(t[order], nan=0.0)
        self.t0 = float(np.floor(tt.min())) if len(tt) else 0.0
        self.key = self.g.astype(np.int64) * self._SHIFT + np.floor(tt - self.t0).astype(np.int64)
        self.cumw = np.r_[0.0, np.cumsum(y[order].astype(float))]
        self.start, self.first = _group_starts(self.g)

    def at_events(self, window: float) -> tuple[np.ndarray, np.ndarray]:
        """(attempts, wins) in the window before each event (input order)."""
        m = len(self.g)
        idx = np.arange(m)
        if np.isfinite(window):
            left = np.searchsorted(self.key, self.key - int(np.ceil(window)), side="left")
            left = np.maximum(left, self.first)
        else:
            left = self.first
        cnt = (idx - left).astype(float)
        wins = self.cumw[idx] - self.cumw[left]
        out_c = np.empty(m)
        out_w = np.empty(m)
        out_c[self.order] = cnt
        out_w[self.order] = wins
        return out_c, out_w

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
        return (hi - lo).astype(float), self.cumw[hi] - self.cumw[lo]

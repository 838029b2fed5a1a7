"""Compiled loops for the history scans (optional: used when numba is installed).

:func:`edu_recsys.mastery.history.scan` and the window counts of
:class:`~edu_recsys.mastery.features.HistoryFeatures` are vectorised numpy: dozens of
passes over the whole table, each reading and writing every event (sort, cumulative
sums, a recursive filter per decay, a gather back to event order per column, a binary
search per window). Memory-bound, they cost about 1 us per answer. The same statistics
are one loop over the events in group order that keeps a small state per group, which
compiled (numba) reads each event once and writes its statistics straight to their
event-order rows: about 5x less time for the scans and windows.

The numpy code stays the reference and the fallback: these kernels are used only when
numba imports and ``EDU_RECSYS_NUMBA`` is not ``0``; tests compare the two paths on the
same tables (equal up to float rounding: a recurrence per group instead of a whole-table
filter minus each group's base, which is, if anything, the more exact of the two).
numba is imported at the first feature computation, not with the package (the import
takes about a second); compiled code is cached on disk (``cache=True``), so a new
process (a Dask worker) loads it instead of compiling it again.
"""

from __future__ import annotations

import os

import numpy as np

__all__ = [
    "available",
    "enabled",
    "scan_sorted",
    "window_counts",
    "pair_sum",
    "fill_rows",
    "onehot_rows",
    "onehot_pair_mean",
    "hstack_dense",
]

ENV = "EDU_RECSYS_NUMBA"
_numba_ok: bool | None = None
_kernels: dict = {}


def available() -> bool:
    """True when numba imports (tried once: importing it takes about a second, so not
    before the first feature computation)."""
    global _numba_ok
    if _numba_ok is None:
        try:
            import numba  # noqa: F401
        except Exception:  # not installed, or built for another numpy
            _numba_ok = False
        else:
            _numba_ok = True
    return _numba_ok


def enabled() -> bool:
    """True when the compiled kernels are used (numba present, ``EDU_RECSYS_NUMBA`` not 0)."""
    if os.environ.get(ENV, "1").strip().lower() in ("0", "false", "no"):
        return False
    return available()


def _kernel(fn):
    """``fn`` compiled (once per process; the machine code is cached on disk)."""
    k = _kernels.get(fn.__name__)
    if k is None:
        from numba import njit

        try:
            k = njit(cache=True, nogil=True)(fn)
        except Exception:  # pragma: no cover - no writable cache location
            k = njit(nogil=True)(fn)
        _kernels[fn.__name__] = k
    return k


def _scan_sorted(order, start, y, r, pos, t, lams, n, w, sr, dy, dn, dr, streak, last3, ppos, lt):
    """State before every event; events visited in group order (``order[i]`` is the
    event at sorted position ``i``), results written to event-order rows."""
    m = order.shape[0]
    k = lams.shape[0]
    has_r = r.shape[0] > 0
    has_t = t.shape[0] > 0
    c_dy = np.zeros(k)
    c_dn = np.zeros(k)
    c_dr = np.zeros(k)
    # the state of the current group (reset at each group's first event)
    c_n = c_streak = c_code = c_pos = 0
    c_w = c_sr = c_t = 0.0
    for i in range(m):
        e = order[i]
        if start[i]:
            c_n = c_streak = c_code = 0
            c_pos = -1
            c_w = c_sr = 0.0
            c_t = np.nan
            c_dy[:] = 0.0
            c_dn[:] = 0.0
            c_dr[:] = 0.0
        n[e] = c_n
        w[e] = c_w
        sr[e] = c_sr
        streak[e] = c_streak
        last3[e] = c_code
        ppos[e] = c_pos
        lt[e] = c_t
        for j in range(k):
            dy[e, j] = c_dy[j]
            dn[e, j] = c_dn[j]
            dr[e, j] = c_dr[j]
        # advance by this event
        yv = y[e]
        rv = r[e] if has_r else 0.0
        for j in range(k):
            lam = lams[j]
            c_dy[j] = lam * c_dy[j] + yv
            c_dn[j] = lam * c_dn[j] + 1.0
            c_dr[j] = lam * c_dr[j] + rv
        c_n += 1
        c_w += yv
        c_sr += rv
        if yv > 0.5:
            c_streak = c_streak + 1 if c_streak > 0 else 1
        else:
            c_streak = c_streak - 1 if c_streak < 0 else -1
        length = 3 if c_code >= 7 else 2 if c_code >= 3 else 1 if c_code >= 1 else 0
        bits = c_code - ((1 << length) - 1)
        new_len = length + 1 if length < 3 else 3
        c_code = (
            (((bits << 1) | (1 if yv > 0.5 else 0)) & ((1 << new_len) - 1)) + (1 << new_len) - 1
        )
        c_pos = pos[e]
        c_t = t[e] if has_t else np.nan


def _window_counts(order, start, t, t0, y, spans, out):
    """Attempts and wins of the same group in each window before every event.

    ``spans[j]`` is the window's length in whole seconds (``-1``: unbounded: every
    earlier event). An earlier event counts when its whole-second time offset lies in
    [the event's - span, the event's] (the definition of
    :class:`~edu_recsys.mastery.history.WindowIndex`). While a group's times are in
    order the first such position only moves forward (a pointer per window); after a
    time goes back (a missing one counts as 0) the rest of the group is counted answer
    by answer. ``out`` has shape ``(n_windows, 2, m)`` (attempts, wins), event order.
    """
    m = order.shape[0]
    nw = spans.shape[0]
    key = np.empty(m, np.int64)
    cw = np.empty(m + 1)
    cw[0] = 0.0
    left = np.zeros(nw, np.int64)
    first = 0
    in_order = True
    for i in range(m):
        e = order[i]
        tv = t[e]
        if np.isnan(tv):
            tv = 0.0
        key[i] = np.int64(np.floor(tv - t0))
        cw[i + 1] = cw[i] + y[e]
        if start[i]:
            first = i
            in_order = True
            for j in range(nw):
                left[j] = i
        elif key[i] < key[i - 1]:
            in_order = False
        for j in range(nw):
            if spans[j] < 0:
                lo = first
            else:
                target = key[i] - spans[j]
                if in_order:
                    lo = left[j]
                    while key[lo] < target:
                        lo += 1
                    left[j] = lo
                else:  # times went back in this group: answer by answer
                    cnt = 0
                    wins = 0.0
                    for p in range(first, i):
                        if target <= key[p] <= key[i]:
                            cnt += 1
                            wins += y[order[p]]
                    out[j, 0, e] = cnt
                    out[j, 1, e] = wins
                    continue
            out[j, 0, e] = i - lo
            out[j, 1, e] = cw[i] - cw[lo]


def _pair_sum(pair_row, values, w, out):
    for p in range(pair_row.shape[0]):
        out[pair_row[p]] += values[p] * w[p]


def _fill_rows(nxt, r, c, v, data, indices):
    for e in range(r.shape[0]):
        p = nxt[r[e]]
        data[p] = v[e]
        indices[p] = c[e]
        nxt[r[e]] = p + 1


def _onehot_rows(codes, out):
    for i in range(codes.shape[0]):
        c = codes[i]
        if 0 <= c < out.shape[0]:
            out[c, i] = 1.0


def _onehot_pair_mean(pair_row, codes, w, out):
    for p in range(pair_row.shape[0]):
        c = codes[p]
        if 0 <= c < out.shape[0]:
            out[c, pair_row[p]] += w[p]


def _hstack_dense(sptr, sidx, sdata, Z, ns, indptr, indices, data):
    for r in range(Z.shape[0]):
        p = indptr[r]
        for e in range(sptr[r], sptr[r + 1]):
            indices[p] = sidx[e]
            data[p] = sdata[e]
            p += 1
        for j in range(Z.shape[1]):
            indices[p] = ns + j
            data[p] = Z[r, j]
            p += 1


def scan_sorted(order, start, y, r, pos, t, lams):
    """Arrays ``(n, w, sr, dy, dn, dr, streak, last3, prev_pos, last_t)`` of the state
    before every event (event order), given the group order of the events."""
    m = len(order)
    k = len(lams)
    out = (
        np.empty(m, np.int64),
        np.empty(m),
        np.empty(m),
        np.empty((m, k)),
        np.empty((m, k)),
        np.empty((m, k)),
        np.empty(m, np.int64),
        np.empty(m, np.int64),
        np.empty(m, np.int64),
        np.empty(m),
    )
    empty = np.zeros(0)
    _kernel(_scan_sorted)(
        np.ascontiguousarray(order, dtype=np.int64),
        np.ascontiguousarray(start, dtype=np.bool_),
        np.ascontiguousarray(y, dtype=np.float64),
        empty if r is None else np.ascontiguousarray(r, dtype=np.float64),
        np.ascontiguousarray(pos, dtype=np.int64),
        empty if t is None else np.ascontiguousarray(t, dtype=np.float64),
        np.asarray(lams, dtype=np.float64).reshape(-1),
        *out,
    )
    return out


def window_counts(order, start, t, y, windows) -> np.ndarray:
    """``(m, n_windows, 2)`` attempts and wins in each window before every event."""
    m = len(order)
    tt = np.asarray(t, dtype=np.float64)
    # as WindowIndex: whole seconds from the floor of the earliest time (NaN counts as 0)
    t0 = float(np.floor(np.nan_to_num(tt, nan=0.0).min())) if m else 0.0
    spans = np.array(
        [int(np.ceil(wd)) if np.isfinite(wd) else -1 for wd in windows], dtype=np.int64
    )
    out = np.empty((len(spans), 2, m))
    _kernel(_window_counts)(
        np.ascontiguousarray(order, dtype=np.int64),
        np.ascontiguousarray(start, dtype=np.bool_),
        tt,
        t0,
        np.ascontiguousarray(y, dtype=np.float64),
        spans,
        out,
    )
    return out.transpose(2, 0, 1)


def pair_sum(pair_row: np.ndarray, values: np.ndarray, w: np.ndarray, n: int) -> np.ndarray:
    """``out[pair_row[p]] += values[p] * w[p]`` in pair order (``np.bincount`` with
    weights ``values * w``, without the temporary and the pass for the maximum)."""
    out = np.zeros(n)
    _kernel(_pair_sum)(pair_row, np.ascontiguousarray(values, dtype=np.float64), w, out)
    return out


def fill_rows(nxt, r, c, v, data, indices) -> None:
    """Place a block's entries at the next free slot of their rows (``nxt``, advanced
    in place): entries of one row keep their order."""
    _kernel(_fill_rows)(nxt, r, c, v, data, indices)


def onehot_rows(codes: np.ndarray, k: int) -> np.ndarray:
    """``(k, n)`` float: row j is ``codes == j`` (one pass instead of k comparisons)."""
    out = np.zeros((k, len(codes)))
    _kernel(_onehot_rows)(np.ascontiguousarray(codes, dtype=np.int64), out)
    return out


def onehot_pair_mean(pair_row, codes, w, k: int, n: int) -> np.ndarray:
    """``(k, n)``: row j is the weighted sum over each row's pairs of ``codes == j``
    (``pair_sum`` of the k one-hot columns, in one pass)."""
    out = np.zeros((k, n))
    _kernel(_onehot_pair_mean)(pair_row, np.ascontiguousarray(codes, dtype=np.int64), w, out)
    return out


def hstack_dense(sptr, sidx, sdata, Z: np.ndarray, ns: int, indptr, indices, data) -> None:
    """Fill the CSR arrays of ``[S | Z]``: each row's sparse entries, then its dense
    values (one pass; ``indptr`` already holds the row starts)."""
    _kernel(_hstack_dense)(sptr, sidx, sdata, Z, ns, indptr, indices, data)

"""The three drivers of the history statistics agree: scan, advance, online KeyState."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from edu_recsys.mastery.history import KeyState, WindowIndex, advance, scan, stack_states, take

LAMS = (0.5, 0.9)


def _replay(group, pos, y, r, t):
    """Before-statistics by iterating KeyState (the online path)."""
    states: dict = {}
    before = []
    for g, p, yy, rr, tt in zip(group, pos, y, r, t):
        ks = states.setdefault(int(g), KeyState())
        before.append(
            KeyState(
                n=ks.n,
                w=ks.w,
                sr=ks.sr,
                dy=list(ks.dy) or [0.0] * len(LAMS),
                dn=list(ks.dn) or [0.0] * len(LAMS),
                dr=list(ks.dr) or [0.0] * len(LAMS),
                streak=ks.streak,
                last3=ks.last3,
                prev_pos=ks.prev_pos,
                last_t=ks.last_t,
            )
        )
        ks.update(int(yy), int(p), LAMS, float(rr), float(tt))
    return before, states


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 3), st.integers(0, 1), st.floats(-1, 1)), min_size=1, max_size=60
    )
)
def test_scan_equals_online_replay(events):
    group = np.array([e[0] for e in events])
    y = np.array([e[1] for e in events], dtype=float)
    r = np.array([e[2] for e in events])
    pos = np.arange(len(events))
    t = np.arange(len(events), dtype=float) * 60
    s = scan(group, pos, y, LAMS, r=r, t=t)
    before, states = _replay(group, pos, y, r, t)
    ref = stack_states(before, len(LAMS))
    # stack_states leaves never-seen states empty; n == 0 rows compare equal anyway
    for name in ("n", "w", "streak", "last3", "prev_pos"):
        np.testing.assert_array_equal(getattr(s, name), getattr(ref, name), err_msg=name)
    for name in ("sr", "dy", "dn", "dr"):
        np.testing.assert_allclose(getattr(s, name), getattr(ref, name), atol=1e-9, err_msg=name)
    # advance on the last event of each group gives the final online state
    for g, ks in states.items():
        j = np.flatnonzero(group == g)[-1]
        a = advance(take(s, [j]), y[[j]], pos[[j]], LAMS, r=r[[j]], t=t[[j]])
        assert a.n[0] == ks.n and a.streak[0] == ks.streak and a.last3[0] == ks.last3
        np.testing.assert_allclose(a.dy[0], ks.dy, atol=1e-12)
        np.testing.assert_allclose(a.dr[0], ks.dr, atol=1e-12)


def test_streak_and_last3_examples():
    s = scan(np.zeros(5, int), np.arange(5), np.array([1.0, 1.0, 0.0, 0.0, 0.0]), LAMS)
    assert s.streak.tolist() == [0, 1, 2, -1, -2]
    # codes: none, (1), (1,1), (1,1,0), (1,0,0)
    assert s.last3.tolist() == [0, 2, 6, 13, 11]


def test_window_index_matches_brute_force():
    rng = np.random.default_rng(0)
    group = np.sort(rng.integers(0, 4, 200))
    t = np.concatenate([np.sort(rng.integers(0, 10_000, (group == g).sum())) for g in range(4)])
    y = rng.integers(0, 2, 200).astype(float)
    idx = WindowIndex(group, t.astype(float), y)
    for w in (100.0, 1000.0, np.inf):
        c, wins = idx.at_events(w)
        for i in range(0, 200, 17):
            earlier = (group == group[i]) & (np.arange(200) < i) & (t >= t[i] - w)
            assert c[i] == earlier.sum()
            assert wins[i] == y[earlier].sum()
    # a query at the end equals the online window counts
    ks = KeyState()
    for tt, yy in zip(t[group == 1], y[group == 1]):
        ks.update(int(yy), 0, LAMS, 0.0, float(tt), horizon=1000.0)
    now = float(t[group == 1][-1]) + 50
    c, wins = idx.query(np.array([1]), np.array([now]), 1000.0)
    assert ks.window_counts(now, (1000.0,))[0] == (c[0], wins[0])

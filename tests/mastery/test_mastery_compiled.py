"""The compiled kernels (numba) give the numpy reference's statistics, and a design
computed range by range of whole students equals the whole-table design."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import edu_recsys.mastery.features as features_mod
from edu_recsys.mastery import compiled, make_model
from edu_recsys.mastery.answers import answer_range, build_answers, student_chunks
from edu_recsys.mastery.features import HistoryFeatures
from edu_recsys.mastery.history import GroupOrder, KeyState, Stats, WindowIndex, scan
from edu_recsys.simulate import simulate_class

needs_numba = pytest.mark.skipif(not compiled.available(), reason="numba is not installed")

LAMS = (0.5, 0.9, 0.99)
WINDOWS = (60.0, 3600.0, np.inf)


def _events(draw_groups, draw_y, draw_dt):
    """Events grouped in time order within each group (any interleaving of groups)."""
    group = np.asarray(draw_groups)
    y = np.asarray(draw_y, dtype=float)
    t = np.cumsum(np.asarray(draw_dt, dtype=float)) + 1.7e9
    return group, y, t


@needs_numba
@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 4), st.integers(0, 1), st.floats(0, 5000), st.floats(-1, 1)),
        min_size=0,
        max_size=80,
    ),
    st.booleans(),
    st.booleans(),
)
def test_scan_compiled_equals_numpy(ev, with_r, with_t):
    group, y, t = _events([e[0] for e in ev], [e[1] for e in ev], [e[2] for e in ev])
    r = np.array([e[3] for e in ev]) if with_r else None
    t = t if with_t else None
    pos = np.arange(len(ev))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(compiled.ENV, "0")
        ref = scan(group, pos, y, LAMS, r=r, t=t)
    got = scan(group, pos, y, LAMS, r=r, t=t)
    for name in Stats.__dataclass_fields__:
        a, b = getattr(got, name), getattr(ref, name)
        assert a.dtype == b.dtype and a.shape == b.shape, name
        if a.dtype.kind == "f":
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12, err_msg=name)
        else:
            np.testing.assert_array_equal(a, b, err_msg=name)


def _brute_windows(group, t, y, windows):
    """The definition: earlier answers of the same group whose whole-second time (a
    missing one counts as 0) lies in [this one's - window, this one's]; an unbounded
    window counts every earlier answer."""
    key = np.floor(np.nan_to_num(t, nan=0.0))
    out = np.zeros((len(group), len(windows), 2))
    for i in range(len(group)):
        earlier = np.flatnonzero(group[:i] == group[i])
        for j, w in enumerate(windows):
            if np.isfinite(w):
                k = key[earlier]
                earlier_w = earlier[(k >= key[i] - np.ceil(w)) & (k <= key[i])]
            else:
                earlier_w = earlier
            out[i, j] = len(earlier_w), y[earlier_w].sum()
    return out


_times = st.one_of(st.just(np.nan), st.sampled_from([0.0, 0.4, 30.0, 59.0, 61.0, 2000.0]))


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 3), st.integers(0, 1), _times), min_size=1, max_size=60),
    st.booleans(),
)
def test_window_counts_follow_the_definition(ev, ordered):
    """In order or not (missing times, clocks going back), both paths count by the
    definition; the batch index's queries and the online state too."""
    group = np.array([e[0] for e in ev])
    y = np.array([e[1] for e in ev], dtype=float)
    steps = np.array([e[2] for e in ev])
    # in order: cumulative steps (missing ones stay missing); else the raw offsets
    t = 1.7e9 + (np.cumsum(np.nan_to_num(steps)) if ordered else steps * 50)
    t[np.isnan(steps)] = np.nan
    want = _brute_windows(group, t, y, WINDOWS)
    go = GroupOrder.of(group)
    idx = WindowIndex(group, t, y, order=go)
    for j, w in enumerate(WINDOWS):
        n, k = idx.at_events(w)
        np.testing.assert_array_equal(n, want[:, j, 0], err_msg=f"numpy attempts {w}")
        np.testing.assert_array_equal(k, want[:, j, 1], err_msg=f"numpy wins {w}")
    if compiled.available():
        order = go.order if go.order is not None else np.arange(len(group))
        got = compiled.window_counts(order, go.start, t, y, WINDOWS)
        np.testing.assert_array_equal(got, want)
    # a query after the whole history, at the time of the last answer + 10 s
    now = np.nan_to_num(t, nan=0.0).max() + 10.0
    for gk in np.unique(group):
        states = KeyState()
        for gg, yy, tt in zip(group, y, t):
            if gg == gk:
                states.update(int(yy), 0, LAMS, t=float(tt), horizon=max(WINDOWS[:-1]))
        mine = np.flatnonzero(group == gk)
        key = np.floor(np.nan_to_num(t[mine], nan=0.0))
        for w in WINDOWS:
            inside = key <= np.floor(now)
            if np.isfinite(w):
                inside &= key >= np.floor(now) - np.ceil(w)
            c, wins = idx.query(np.array([gk]), np.array([now]), w)
            assert (c[0], wins[0]) == (inside.sum(), y[mine][inside].sum()), (gk, w)
            online = states.window_counts(now, (w,))[0]
            if np.isfinite(w):
                assert online == (inside.sum(), y[mine][inside].sum()), (gk, w)
            else:  # online: every answer so far
                assert online == (len(mine), y[mine].sum())


@needs_numba
def test_window_counts_by_hand():
    # one group, answers at 0, 10, 70 and 75 s: the 60-s window before the last
    # holds the answers at 70 (and 10 is 65 s back: out)
    group = np.zeros(4, np.int64)
    t = np.array([0.0, 10.0, 70.0, 75.0])
    y = np.array([1.0, 0.0, 1.0, 1.0])
    go = GroupOrder.of(group)
    got = compiled.window_counts(np.arange(4), go.start, t, y, (60.0, np.inf))
    assert got[:, 0, 0].tolist() == [0, 1, 1, 1]
    assert got[:, 0, 1].tolist() == [0, 1, 0, 1]
    assert got[:, 1, 0].tolist() == [0, 1, 2, 3]
    assert got[:, 1, 1].tolist() == [0, 1, 1, 2]


@needs_numba
def test_pair_kernels_equal_bincount():
    rng = np.random.default_rng(0)
    n = 50
    pair_row = np.sort(rng.integers(0, n, 120))
    w = rng.random(120)
    v = rng.normal(size=120)
    np.testing.assert_array_equal(
        compiled.pair_sum(pair_row, v, w, n),
        np.bincount(pair_row, weights=v * w, minlength=n),
    )
    codes = rng.integers(0, 15, 120)
    ref = np.stack(
        [np.bincount(pair_row, weights=(codes == j) * w, minlength=n) for j in range(15)]
    )
    np.testing.assert_array_equal(compiled.onehot_pair_mean(pair_row, codes, w, 15, n), ref)
    rows = rng.integers(0, 15, n)
    np.testing.assert_array_equal(
        compiled.onehot_rows(rows, 15), np.stack([(rows == j).astype(float) for j in range(15)])
    )


@pytest.fixture(scope="module")
def table():
    from edu_recsys.graph import load_graph

    sim = simulate_class(load_graph("math-7-9"), n_students=30, weeks=2, random_state=3)
    return sim.interactions


@pytest.mark.parametrize("use_numba", ["1", "0"])
def test_chunked_design_equals_whole_table(table, monkeypatch, use_numba):
    monkeypatch.setenv(compiled.ENV, use_numba)
    f = make_model("default").features.fit(table)
    ans = build_answers(table, merge_expanded=f.merge_expanded)
    S0, Z0 = f.encode_split(f.history_batch(ans))
    Su0, Zu0 = f.encode_split(f.history_batch(ans), scaled=False)
    p = np.linspace(0.2, 0.9, ans.n_answers)
    Sp0, Zp0 = f.encode_split(f.history_batch(ans, item_p=p))
    X0 = f.transform(table)
    monkeypatch.setattr(features_mod, "DESIGN_CHUNK", 97)  # many ranges
    assert len(student_chunks(ans, 97)) > 5
    # compiled: a recurrence per group, the same numbers whatever the ranges; numpy:
    # a whole-range filter minus each group's base, whose rounding depends on the
    # groups before (1e-13)
    tol = 0.0 if use_numba == "1" and compiled.available() else 1e-12

    def same(a, b):
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=0, atol=tol)

    S1, Z1 = f.design(ans)
    same(S1.toarray(), S0.toarray())
    same(Z1, Z0)
    assert Z1.flags["F_CONTIGUOUS"]  # column by column, as the solvers expect
    Su1, Zu1 = f.design(ans, scaled=False)
    same(Su1.toarray(), Su0.toarray())
    same(Zu1, Zu0)
    Sp1, Zp1 = f.design(ans, item_p=p)
    same(Sp1.toarray(), Sp0.toarray())
    same(Zp1, Zp0)
    same(f.transform(table).toarray(), X0.toarray())


@pytest.mark.parametrize("preset", ["das3h", "default"])
def test_missing_times_give_the_same_designs_on_every_path(table, monkeypatch, preset):
    """5% of the timestamps missing: compiled = numpy, ranges = whole table."""
    df = table.copy()
    rng = np.random.default_rng(0)
    df.loc[rng.random(len(df)) < 0.05, "timestamp"] = pd.NaT
    f = make_model(preset).features.fit(df)
    ans = build_answers(df, merge_expanded=f.merge_expanded)
    got = {}
    for flag in (["1"] if compiled.available() else []) + ["0"]:
        monkeypatch.setenv(compiled.ENV, flag)
        monkeypatch.setattr(features_mod, "DESIGN_CHUNK", 1 << 16)
        S, Z = f.encode_split(f.history_batch(ans))
        monkeypatch.setattr(features_mod, "DESIGN_CHUNK", 97)
        S2, Z2 = f.design(ans)
        np.testing.assert_allclose(S2.toarray(), S.toarray(), rtol=0, atol=1e-12)
        np.testing.assert_allclose(Z2, Z, rtol=0, atol=1e-12)
        got[flag] = (S, Z)
    if "1" in got:
        np.testing.assert_allclose(got["1"][0].toarray(), got["0"][0].toarray(), atol=1e-11)
        np.testing.assert_allclose(got["1"][1], got["0"][1], atol=1e-11)


def test_numba_and_numpy_designs_agree(table, monkeypatch):
    if not compiled.available():
        pytest.skip("numba is not installed")
    f = make_model("default").features.fit(table)
    monkeypatch.setenv(compiled.ENV, "0")
    ref = f.transform(table)
    monkeypatch.setenv(compiled.ENV, "1")
    got = f.transform(table)
    assert abs(got - ref).max() < 1e-11


def test_chunked_predictions_equal(table, monkeypatch):
    model = make_model("default").fit(table)
    p0 = model.predict_proba(table)
    monkeypatch.setattr(features_mod, "DESIGN_CHUNK", 50)
    # the same designs; the matrix-vector products may round differently (1 ulp)
    np.testing.assert_allclose(model.predict_proba(table), p0, rtol=1e-12, atol=0)


def test_answer_range_is_a_table_of_its_own(table):
    ans = build_answers(table)
    (a, b), *_ = student_chunks(ans, 100)
    sub = answer_range(ans, a, b)
    ref = build_answers(table[table["student_id"].isin(set(ans.student_ids[ans.student[a:b]]))])
    np.testing.assert_array_equal(sub.y, ref.y)
    np.testing.assert_array_equal(sub.pos, ref.pos)
    np.testing.assert_array_equal(sub.pair_answer, ref.pair_answer)
    np.testing.assert_array_equal(
        sub.concept_ids[sub.pair_concept], ref.concept_ids[ref.pair_concept]
    )


def test_enabled_follows_the_environment(monkeypatch):
    monkeypatch.setenv(compiled.ENV, "0")
    assert not compiled.enabled()
    monkeypatch.setenv(compiled.ENV, "1")
    assert compiled.enabled() == compiled.available()


def test_design_needs_a_fitted_transformer(table):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        HistoryFeatures().design(build_answers(table))


def test_dense_out_of_the_wrong_shape_is_refused(table):
    f = make_model("default").features.fit(table)
    q = f.history_batch(build_answers(table))
    with pytest.raises(ValueError, match="dense buffer"):
        f.encode_split(q, dense_out=np.empty((3, 3)))
    with pytest.raises(ValueError, match="fitting"):
        f.encode_split(q, fitting=True, dense_out=np.empty((3, 3)))


def test_a_table_without_timestamps_for_a_model_fitted_with_them_is_refused(table):
    from edu_recsys.exceptions import InvalidDataError

    model = make_model("default").fit(table)
    with pytest.raises(InvalidDataError, match="timestamp"):
        model.predict_proba(table.drop(columns=["timestamp"]))
    with pytest.raises(InvalidDataError, match="timestamp"):
        model.features_.transform(table.drop(columns=["timestamp"]))

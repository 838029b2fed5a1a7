"""Online updates equal batch recomputation; mastery and predict_next contracts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from edu_recsys.mastery import MASTERY_COLUMNS, make_model


@pytest.fixture(scope="module")
def split(sim_time):
    students = sim_time["student_id"].unique()
    train = sim_time[sim_time["student_id"].isin(students[:80])].reset_index(drop=True)
    test = sim_time[sim_time["student_id"].isin(students[80:])].reset_index(drop=True)
    return train, test


@pytest.mark.parametrize("name", ["default", "das3h", "best_lr", "irt", "bkt", "bkt_forget"])
def test_online_updates_equal_batch_recomputation(name, split):
    train, test = split
    model = make_model(name).fit(train)
    cut = len(test) // 2
    state = model.online_state(test.iloc[:cut])
    has_t = "timestamp" in test.columns
    for r in test.iloc[cut:].itertuples(index=False):
        state.update(
            r.student_id, r.item_id, r.concept_ids, r.correct, r.timestamp if has_t else None
        )
    batch = model.mastery(test)
    for sid in test["student_id"].unique()[::7]:
        online = state.mastery(sid)
        b = batch[batch.student_id == sid].set_index("concept_id")["mastery"]
        np.testing.assert_allclose([online[c] for c in b.index], b.to_numpy(), atol=1e-9)
    # next-answer predictions agree too
    cand = test.groupby("student_id", sort=False).tail(1)[["student_id", "item_id", "concept_ids"]]
    p_batch = model.predict_next(test, cand)
    p_online = [state.predict(s, i, c) for s, i, c in cand.itertuples(index=False)]
    np.testing.assert_allclose(p_online, p_batch, atol=1e-9)


def test_online_state_from_nothing_equals_batch(split):
    train, test = split
    model = make_model("default").fit(train)
    state = model.online_state()
    one = test[test["student_id"] == test["student_id"].iloc[0]]
    for r in one.itertuples(index=False):
        state.update(r.student_id, r.item_id, r.concept_ids, r.correct, r.timestamp)
    b = model.mastery(one).set_index("concept_id")["mastery"]
    online = state.mastery(one["student_id"].iloc[0])
    np.testing.assert_allclose([online[c] for c in b.index], b.to_numpy(), atol=1e-9)


def test_predict_next_matches_predict_proba_of_the_appended_answer(split):
    train, test = split
    model = make_model("default").fit(train)
    # the last answer of each student, predicted from the rest, both ways
    last = test.groupby("student_id", sort=False).tail(1)
    history = test.drop(index=last.index)
    p_next = model.predict_next(history, last[["student_id", "item_id", "concept_ids"]])
    p_full = model.predict_proba(test)[last.index.to_numpy()]
    # timestamps of the next answer are unknown to predict_next (elapsed = 0)
    nt = model.predict_next(history.drop(columns="timestamp"), last.drop(columns="timestamp"))
    pf = make_model("best_lr").fit(train)
    np.testing.assert_allclose(
        pf.predict_next(history, last[["student_id", "item_id", "concept_ids"]]),
        pf.predict_proba(test)[last.index.to_numpy()],
        atol=1e-9,
    )
    assert np.corrcoef(p_next, p_full)[0, 1] > 0.9
    assert nt.shape == p_next.shape


def test_mastery_table_contract_and_fallbacks(split):
    train, test = split
    model = make_model("default").fit(train)
    m = model.mastery(test, students=["s80", "nobody"], concepts=["c0", "c1", "brand_new"])
    assert m.columns.tolist() == MASTERY_COLUMNS
    assert len(m) == 6
    assert m["mastery"].between(0, 1).all()
    flags = m.set_index(["student_id", "concept_id"])["fallback"]
    assert flags[("s80", "c0")] == ""
    assert flags[("nobody", "c0")] == "unseen_student"
    assert flags[("s80", "brand_new")] == "unseen_concept"
    assert flags[("nobody", "brand_new")] == "unseen_student|unseen_concept"
    ev = m.set_index(["student_id", "concept_id"])["evidence"]
    hist = test[test["student_id"] == "s80"]
    assert ev[("s80", "c0")] == sum("c0" in c for c in hist["concept_ids"])
    assert ev[("nobody", "c0")] == 0
    # a new student gets the same prior for a concept whatever the history holds
    m2 = model.mastery(train.iloc[:0], students=["nobody"], concepts=["c0"])
    assert m2["mastery"].iloc[0] == pytest.approx(
        m.set_index(["student_id", "concept_id"]).loc[("nobody", "c0"), "mastery"]
    )


def test_predict_next_unseen_item_is_flagged_and_uses_concept_rate(split):
    train, test = split
    model = make_model("default").fit(train)
    cand = pd.DataFrame(
        {
            "student_id": ["s80", "s80", "ghost"],
            "item_id": ["q1", "never_seen", "q1"],
            "concept_ids": [("c0",), ("c0",), ("c0",)],
        }
    )
    p, flags = model.predict_next(test, cand, return_fallback=True)
    assert flags.tolist() == ["", "unseen_item", "unseen_student"]
    assert np.all((p > 0) & (p < 1))


def test_bkt_mastery_rises_after_right_answers(split):
    train, _ = split
    model = make_model("bkt").fit(train)
    state = model.online_state()
    before = state.mastery("new", ["c0"])["c0"]
    for _ in range(3):
        state.update("new", "q", ("c0",), 1)
    after = state.mastery("new", ["c0"])["c0"]
    assert after > before
    for _ in range(3):
        state.update("new", "q", ("c0",), 0)
    assert state.mastery("new", ["c0"])["c0"] < after


def test_feature_online_mastery_moves_with_answers(split):
    train, _ = split
    model = make_model("default").fit(train)
    state = model.online_state()
    base = state.mastery("new")["c1"]
    for _ in range(5):
        state.update("new", "q1", ("c1",), 1)
    up = state.mastery("new")["c1"]
    assert up > base
    assert "new" in state.students


def test_mastery_in_chunks_equals_one_batch(split, monkeypatch):
    import edu_recsys.mastery.tracer as tracer_module

    train, test = split
    model = make_model("default").fit(train)
    whole = model.mastery(test)
    monkeypatch.setattr(tracer_module, "_QUERY_CHUNK", 7)
    chunked = model.mastery(test)
    pd.testing.assert_frame_equal(whole.drop(columns="mastery"), chunked.drop(columns="mastery"))
    np.testing.assert_allclose(whole["mastery"], chunked["mastery"], atol=1e-12)

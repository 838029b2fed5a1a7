"""The ``transition``, ``item_transition`` and ``long_ability`` feature blocks: meaning, no leak,
online = batch."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from edu_recsys.mastery import HistoryFeatures, make_model

NEW_BLOCKS = (
    "item",
    "concept",
    "total_counts",
    "item_prior",
    "transition",
    "long_ability",
    "item_transition",
)


def _tiny() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "student_id": ["a", "a", "a", "b", "b"],
            "item_id": ["q1", "q2", "q3", "q1", "q3"],
            "concept_ids": [("x",), ("y",), ("x", "y"), ("y",), ("x",)],
            "correct": [0, 1, 1, 1, 0],
        }
    )


def test_transition_columns_are_the_previous_answer_concept_and_outcome():
    df = _tiny()
    hf = HistoryFeatures(blocks=("transition",)).fit(df)
    names = hf.get_feature_names_out().tolist()
    X = hf.transform(df).toarray()
    assert X.shape[1] == 2 * 2 * 2  # (2 concepts) x (2 outcomes) x (2 concepts)

    def active(row):
        return {names[j]: X[row, j] for j in np.flatnonzero(X[row])}

    assert active(0) == {} and active(3) == {}  # first answers: nothing earlier
    assert active(1) == {"transition:x=0->y": 1.0}  # a: x wrong, now y
    # a multi-concept answer after a single-concept one: one column per own concept
    assert active(2) == {"transition:y=1->x": 1.0, "transition:y=1->y": 1.0}
    assert active(4) == {"transition:y=1->x": 1.0}


def test_transition_spreads_over_the_previous_answer_concepts():
    df = _tiny().iloc[[0, 1, 2, 2]].reset_index(drop=True)
    df.loc[3, ["item_id", "concept_ids", "correct"]] = ["q9", ("x",), 0]
    hf = HistoryFeatures(blocks=("transition",)).fit(df)
    names = hf.get_feature_names_out().tolist()
    row = hf.transform(df).toarray()[3]
    got = {names[j]: row[j] for j in np.flatnonzero(row)}
    assert got == {"transition:x=1->x": 0.5, "transition:y=1->x": 0.5}


def test_transition_vocabulary_is_capped_by_answer_counts(sim):
    hf = HistoryFeatures(blocks=("transition",), transition_concepts=2).fit(sim)
    assert hf.transform(sim).shape[1] == 2 * 3 * 3  # two concepts + "other"
    counts = sim["concept_ids"].explode().value_counts()
    names = hf.get_feature_names_out()
    top = {n.split(":")[1].split("=")[0] for n in names} - {"other"}
    assert top == set(counts.index[:2])


def test_long_ability_is_the_undecayed_mean_residual(sim):
    hf = HistoryFeatures(blocks=("item_prior", "long_ability")).fit(sim)
    Xa, ans = hf.transform_answers(sim)
    j = hf.dense_names_.index("total:ability_all")
    raw = Xa.toarray()[:, hf.n_sparse_ + j] * hf.dense_scale_[j] + hf.dense_mean_[j]
    # brute force for one student: sum of earlier (outcome - item prior) / (n + 1)
    p = hf.item_prior(ans.item_ids[ans.item], ans.pair_answer, hf._local_maps(ans)[1])
    rows = np.flatnonzero(ans.student == 3)
    r = ans.y[rows] - p[rows]
    expect = np.r_[0.0, np.cumsum(r)[:-1]] / (np.arange(len(rows)) + 1.0)
    np.testing.assert_allclose(raw[rows], expect, atol=1e-9)


def _raw_item_transition(hf, X):
    j = [hf.dense_names_.index(c) for c in ("item_transition:rate", "item_transition:support")]
    Z = X[:, [hf.n_sparse_ + k for k in j]]
    return Z * hf.dense_scale_[j] + hf.dense_mean_[j]


def test_item_transition_counts_and_shrinkage():
    df = pd.DataFrame(
        {
            "student_id": ["a", "a", "b", "b", "c", "c", "d", "d"],
            "item_id": ["q1", "q2"] * 4,
            "concept_ids": [("x",)] * 8,
            "correct": [0, 1, 0, 1, 0, 0, 1, 1],
        }
    )
    hf = HistoryFeatures(blocks=("item_prior", "item_transition"), item_prior_strength=2.0)
    hf.fit(df)
    # after q1 wrong, q2 was answered 3 times, right twice; after q1 right once, right
    new = pd.DataFrame(
        {
            "student_id": ["e", "e", "f", "f"],
            "item_id": ["q1", "q2", "q1", "q2"],
            "concept_ids": [("x",)] * 4,
            "correct": [0, 1, 1, 1],
        }
    )
    got = _raw_item_transition(hf, hf.transform(new).toarray())
    p2 = hf.item_prior(np.array(["q2"], dtype=object), np.array([0]), np.array([0]))[0]

    def shift(w, n):
        q = (w + 2.0 * p2) / (n + 2.0)
        return np.log(q / (1 - q)) - np.log(p2 / (1 - p2))

    np.testing.assert_allclose(got[[0, 2]], 0.0, atol=1e-12)  # first answers
    np.testing.assert_allclose(got[1], [shift(2, 3), np.log1p(3)], atol=1e-9)
    np.testing.assert_allclose(got[3], [shift(1, 1), np.log1p(1)], atol=1e-9)


def test_item_transition_is_cross_fitted_in_fit(sim):
    """A training answer's transition value never includes its own label."""
    blocks = ("item_prior", "item_transition")
    hf1 = HistoryFeatures(blocks=blocks)
    X1 = _raw_item_transition(hf1, hf1.fit_transform(sim).toarray())
    j = int(np.flatnonzero(np.abs(X1[:, 1]) > 0)[3])
    flipped = sim.copy()
    flipped.loc[j, "correct"] = 1 - flipped.loc[j, "correct"]
    hf2 = HistoryFeatures(blocks=blocks)
    X2 = _raw_item_transition(hf2, hf2.fit_transform(flipped).toarray())
    np.testing.assert_allclose(X2[j], X1[j], atol=1e-12)
    # but the fitted counts (used for new students) do change
    assert not np.array_equal(hf1.item_transition_w_, hf2.item_transition_w_)


@pytest.fixture(scope="module")
def new_blocks_model(sim_time):
    students = sim_time["student_id"].unique()
    train = sim_time[sim_time["student_id"].isin(students[:80])].reset_index(drop=True)
    test = sim_time[sim_time["student_id"].isin(students[80:])].reset_index(drop=True)
    model = make_model(
        "best_lr", features__blocks=NEW_BLOCKS, features__block_scale={"transition": 0.5}
    ).fit(train)
    return model, test


def test_new_blocks_never_see_the_future(new_blocks_model):
    model, test = new_blocks_model
    p = model.predict_proba(test)
    rng = np.random.default_rng(1)
    s = test["student_id"].to_numpy()
    for sid in rng.choice(np.unique(s), size=4, replace=False):
        rows = np.flatnonzero(s == sid)
        cut = rows[len(rows) // 2]
        future = rows[rows > cut]
        changed = test.copy()
        changed.loc[future, "correct"] = 1 - changed.loc[future, "correct"].to_numpy()
        changed.loc[future, "item_id"] = rng.permutation(changed.loc[future, "item_id"].to_numpy())
        changed.loc[future, "concept_ids"] = pd.Series(
            rng.permutation(changed.loc[future, "concept_ids"].to_numpy()), index=future
        )
        q = model.predict_proba(changed)
        past = rows[rows <= cut]
        np.testing.assert_allclose(q[past], p[past], rtol=0, atol=1e-12)
        np.testing.assert_allclose(q[s != sid], p[s != sid], rtol=0, atol=1e-12)
        assert not np.allclose(q[future], p[future])  # the change itself is seen later


def test_new_blocks_online_equals_batch(new_blocks_model):
    model, test = new_blocks_model
    cut = len(test) // 2
    state = model.online_state(test.iloc[:cut])
    for r in test.iloc[cut:].itertuples(index=False):
        state.update(r.student_id, r.item_id, r.concept_ids, r.correct, r.timestamp)
    batch = model.mastery(test)
    for sid in test["student_id"].unique()[::5]:
        online = state.mastery(sid)
        b = batch[batch.student_id == sid].set_index("concept_id")["mastery"]
        np.testing.assert_allclose([online[c] for c in b.index], b.to_numpy(), atol=1e-9)
    cand = test.groupby("student_id", sort=False).tail(1)[["student_id", "item_id", "concept_ids"]]
    p_online = [state.predict(s, i, c) for s, i, c in cand.itertuples(index=False)]
    np.testing.assert_allclose(p_online, model.predict_next(test, cand), atol=1e-9)
    # predict_next of each student's last answer = predict_proba of that answer
    last = test.groupby("student_id", sort=False).tail(1)
    hist = test.drop(index=last.index)
    p_next = model.predict_next(hist, last[["student_id", "item_id", "concept_ids"]])
    np.testing.assert_allclose(p_next, model.predict_proba(test)[last.index], atol=1e-9)

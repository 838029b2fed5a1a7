"""BKT: parameter recovery on simulated data, degenerate-fit warnings, speed path."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from edu_recsys.mastery import BKT

TRUE = {
    "a": {"prior": 0.3, "learn": 0.15, "guess": 0.2, "slip": 0.1, "forget": 0.0},
    "b": {"prior": 0.5, "learn": 0.05, "guess": 0.25, "slip": 0.05, "forget": 0.0},
}


def simulate_bkt(params: dict, n_students=1500, length=15, random_state=0) -> pd.DataFrame:
    rng = np.random.default_rng(random_state)
    rows = []
    for s in range(n_students):
        for c, p in params.items():
            known = rng.random() < p["prior"]
            for t in range(length):
                right = rng.random() < ((1 - p["slip"]) if known else p["guess"])
                rows.append((f"s{s}", f"{c}{t}", (c,), int(right)))
                if known:
                    known = rng.random() >= p["forget"]
                else:
                    known = rng.random() < p["learn"]
    return pd.DataFrame(rows, columns=["student_id", "item_id", "concept_ids", "correct"])


def test_parameters_are_recovered():
    df = simulate_bkt(TRUE)
    model = BKT(prior_strength=0.0, tol=1e-7, max_iter=300).fit(df)
    for c, p in TRUE.items():
        est = model.params_.loc[c]
        for k in ("prior", "learn", "guess", "slip"):
            assert est[k] == pytest.approx(p[k], abs=0.04), (c, k, est[k])


def test_forgetting_is_recovered():
    params = {"f": {"prior": 0.4, "learn": 0.2, "guess": 0.15, "slip": 0.1, "forget": 0.1}}
    df = simulate_bkt(params, n_students=2000, length=20, random_state=1)
    model = BKT(forgetting=True, prior_strength=0.0, tol=1e-7, max_iter=300).fit(df)
    assert model.params_.loc["f", "forget"] == pytest.approx(0.1, abs=0.04)
    assert model.params_.loc["f", "learn"] == pytest.approx(0.2, abs=0.05)
    # no forgetting when not asked for
    assert (BKT().fit(df).params_["forget"] == 0).all()


def test_fit_is_deterministic_and_restarts_keep_the_best():
    df = simulate_bkt(TRUE, n_students=200, random_state=2)
    a = BKT(n_init=3, random_state=0).fit(df)
    b = BKT(n_init=3, random_state=0).fit(df)
    pd.testing.assert_frame_equal(a.params_, b.params_)
    one = BKT(n_init=1).fit(df)
    assert (a.params_["loglik"] >= one.params_["loglik"] - 1e-6).all()


def test_degenerate_fits_are_reported():
    df = pd.DataFrame(
        {
            "student_id": ["a", "a", "b", "b", "a", "b"],
            "item_id": list("xyzwuv"),
            "concept_ids": [("bad",)] * 4 + [("good",)] * 2,
            "correct": [0, 0, 0, 0, 1, 0],
        }
    )
    with pytest.warns(RuntimeWarning, match="only wrong"):
        model = BKT().fit(df)
    assert any("only wrong" in w for w in model.warnings_)
    # guess + slip >= 1 is reported when the bounds allow it
    rng = np.random.default_rng(0)
    anti = pd.DataFrame(
        {
            "student_id": np.repeat([f"s{i}" for i in range(300)], 10),
            "item_id": np.tile([f"q{i}" for i in range(10)], 300),
            "concept_ids": [("k",)] * 3000,
            # mostly right first, then mostly wrong: "learning" makes answers worse
            "correct": np.concatenate(
                [(rng.random(10) < np.linspace(0.95, 0.05, 10)).astype(int) for _ in range(300)]
            ),
        }
    )
    with pytest.warns(RuntimeWarning, match="guess \\+ slip >= 1"):
        BKT(max_guess=0.99, max_slip=0.99, prior_strength=0.0).fit(anti)


def test_unknown_concept_uses_default_parameters_and_is_flagged():
    df = simulate_bkt(TRUE, n_students=100)
    model = BKT().fit(df)
    m = model.mastery(df.iloc[:15], concepts=["a", "zzz"])
    assert m.set_index("concept_id").loc["zzz", "fallback"] == "unseen_concept"
    d = model.default_params_
    prior_p = d["prior"] * (1 - d["slip"]) + (1 - d["prior"]) * d["guess"]
    assert m.set_index("concept_id").loc["zzz", "mastery"] == pytest.approx(prior_p)
    new = df.iloc[:3].assign(concept_ids=[("zzz",)] * 3)
    assert np.all(np.isfinite(model.predict_proba(new)))

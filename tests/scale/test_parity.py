"""One implementation, two drivers: the Dask path equals the in-memory path."""

from __future__ import annotations

import dask
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.metrics import roc_auc_score

from edu_recsys.mastery import make_model
from edu_recsys.scale.features import fit_features, transform_partition
from edu_recsys.scale.io import (
    MANIFEST,
    from_pandas,
    partition_by_student,
    read_log,
    write_log,
)
from edu_recsys.scale.score import nightly_mastery, score_answers
from edu_recsys.scale.simlog import SimLogParams, simulate_log
from edu_recsys.scale.train import fit_dask


@pytest.fixture(scope="module")
def logs(dask_threads, tmp_path_factory):
    """Train and test students of a simulated log, partitioned by student on disk."""
    df = simulate_log(
        SimLogParams(n_students=240, n_answers=9_000, n_items=200, n_concepts=20, random_state=7)
    )
    test_ids = set(df["student_id"].drop_duplicates().sample(frac=0.25, random_state=0))
    out = {}
    root = tmp_path_factory.mktemp("parity")
    for name, part in (
        ("train", df[~df["student_id"].isin(test_ids)]),
        ("test", df[df["student_id"].isin(test_ids)]),
    ):
        ddf = partition_by_student(from_pandas(part, npartitions=2), npartitions=3)
        write_log(ddf, str(root / name))
        back = read_log(str(root / name))
        # the in-memory table is the same rows in the same order
        whole = back.compute().drop(columns="_seq").reset_index(drop=True)
        assert set(whole["concept_ids"].explode()) == set(part["concept_ids"].explode())
        out[name] = (back, whole)
    out["root"] = root
    return out


@pytest.fixture(scope="module")
def memory_model(logs):
    return make_model("default").fit(logs["train"][1])


def _attrs_equal(a, b) -> list[str]:
    bad = []
    for name, v in vars(a).items():
        if not name.endswith("_") or name.startswith("__"):
            continue
        w = getattr(b, name, None)
        if isinstance(v, np.ndarray) and v.dtype != object:
            ok = w is not None and v.shape == w.shape and np.allclose(v, w, rtol=1e-9, atol=1e-12)
        elif isinstance(v, pd.Index):
            ok = v.equals(w)
        elif isinstance(v, np.ndarray):
            ok = w is not None and v.tolist() == w.tolist()
        else:
            ok = v == w
        if not ok:
            bad.append(name)
    return bad


def test_fitted_features_equal_the_in_memory_fit(logs, memory_model):
    ddf, whole = logs["train"]
    fitted = fit_features(make_model("default").features, list(ddf.to_delayed()))
    assert _attrs_equal(memory_model.features_, fitted.features) == []
    assert _attrs_equal(fitted.features, memory_model.features_) == []


def test_partition_features_equal_in_memory_rows(logs, memory_model):
    ddf, whole = logs["test"]
    feats = memory_model.features_
    per_part = dask.compute(
        *[dask.delayed(transform_partition)(p, feats) for p in ddf.to_delayed()]
    )
    import scipy.sparse as sp

    stacked = sp.vstack(per_part).tocsr()
    ref = feats.transform(whole)
    assert stacked.shape == ref.shape
    # the same code on the same rows: equal up to rounding (the in-memory decayed sums
    # run over the whole sorted table, so other students shift the last bits)
    assert abs(stacked - ref).max() < 1e-11


def test_same_model_scored_by_dask_is_identical(logs, memory_model, tmp_path):
    ddf, whole = logs["test"]
    man = score_answers(ddf, memory_model, str(tmp_path / "scores"))
    assert (tmp_path / "scores" / MANIFEST).exists() and man["rows"] == len(whole)
    got = pd.concat(pd.read_parquet(tmp_path / "scores" / f["path"]) for f in man["files"])
    p_mem = memory_model.predict_proba(whole)
    np.testing.assert_allclose(got["p_correct"].to_numpy(), p_mem, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(got["item_id"].to_numpy(), whole["item_id"].to_numpy())


def test_nightly_mastery_equals_in_memory(logs, memory_model, tmp_path):
    ddf, whole = logs["test"]
    man = nightly_mastery(ddf, memory_model, str(tmp_path / "mastery"))
    got = pd.concat(pd.read_parquet(tmp_path / "mastery" / f["path"]) for f in man["files"])
    ref = memory_model.mastery(whole)
    key = ["student_id", "concept_id"]
    got = got.sort_values(key).reset_index(drop=True)
    ref = ref.sort_values(key).reset_index(drop=True)
    assert got[key].astype(str).equals(ref[key].astype(str))
    np.testing.assert_allclose(got["mastery"].to_numpy(), ref["mastery"].to_numpy(), atol=1e-12)
    np.testing.assert_array_equal(got["evidence"].to_numpy(), ref["evidence"].to_numpy(float))
    assert man["rows"] == whole["student_id"].nunique() * len(memory_model.concepts_)


@pytest.fixture(scope="module")
def best_lr(logs):
    # the classifier-fit tests use Best-LR's features: the same solver code as the
    # default model, far fewer L-BFGS iterations (the test budget)
    return make_model("best_lr").fit(logs["train"][1])


def _objective(model, X, y) -> float:
    """The classifier's objective: (C * sum of log losses + |w|^2 / 2) / (C n)."""
    w = model.classifier_.coef_[0]
    z = X @ w + model.classifier_.intercept_[0]
    C = model.classifier_.C
    return (C * np.sum(np.logaddexp(0.0, z) - y * z) + 0.5 * w @ w) / (C * len(y))


# (preset, classifier tolerances, max |p_mem - p_dask|): Best-LR at the default
# tolerances; the default model's objective is flat along its collinear interaction
# columns, so its fits agree as closely as they are solved (1.3e-3 at tol=1e-6 on this
# small log, 4e-5 at tol=1e-8)
SEPARATE_FITS = [
    ("best_lr", {}, 1e-9),
    ("default", {"classifier__tol": 1e-8, "classifier__ftol": 1e-14}, 2e-4),
]


@pytest.mark.parametrize("preset,tols,max_dp", SEPARATE_FITS)
def test_separate_fits_give_the_same_model(logs, best_lr, preset, tols, max_dp):
    """A Dask fit and an in-memory fit of the same rows reach the same weights: the
    same objective, the same solver and steps (only the rounding of the partition
    sums differs)."""
    train, train_whole = logs["train"]
    test, test_whole = logs["test"]
    mem = best_lr if preset == "best_lr" else make_model(preset, **tols).fit(train_whole)
    model, report = fit_dask(train, make_model(preset, **tols), solver="lbfgs")
    assert type(model) is type(mem)
    assert report["answers"] == mem.n_answers_fit_
    assert report["classifier"]["converged"]
    Xa, ans = clone(mem.features)._fit_answers(train_whole)
    o_dask, o_mem = _objective(model, Xa, ans.y), _objective(mem, Xa, ans.y)
    assert abs(o_dask - o_mem) < 1e-8 * o_mem
    p_mem = mem.predict_proba(test_whole)
    p_dask = model.predict_proba(test_whole)
    assert np.abs(p_mem - p_dask).max() < max_dp
    y = test_whole["correct"].to_numpy()
    assert abs(roc_auc_score(y, p_mem) - roc_auc_score(y, p_dask)) < 1e-4
    m_mem = mem.mastery(test_whole)["mastery"].to_numpy()
    m_dask = model.mastery(test_whole)["mastery"].to_numpy()
    assert np.abs(m_mem - m_dask).max() < max_dp


def test_streamed_sgd_fit_is_close(logs, best_lr):
    train, _ = logs["train"]
    _, test_whole = logs["test"]
    # a few thousand answers need larger steps than the province-size default
    model, report = fit_dask(train, make_model("best_lr"), solver="sgd", epochs=5, sgd_eta0=0.05)
    assert report["solver"] == "sgd" and not report["designs_kept"]
    # the designs kept from the features' pass: the same data, the same SGD path
    cached, rep2 = fit_dask(
        train, make_model("best_lr"), solver="sgd", epochs=5, sgd_eta0=0.05, cache_designs=True
    )
    assert rep2["designs_kept"]
    np.testing.assert_allclose(cached.classifier_.coef_, model.classifier_.coef_, atol=1e-10)
    y = test_whole["correct"].to_numpy()
    auc_mem = roc_auc_score(y, best_lr.predict_proba(test_whole))
    auc_sgd = roc_auc_score(y, model.predict_proba(test_whole))
    assert abs(auc_mem - auc_sgd) < 0.02  # a few thousand answers: SGD is still moving


def test_kept_designs_equal_the_in_memory_training_design(logs, dask_threads):
    import scipy.sparse as sp

    from edu_recsys.scale.features import standardise_designs

    ddf, whole = logs["train"]
    template = make_model("default").features  # with its interaction columns
    fitted = fit_features(template, list(ddf.to_delayed()), keep_designs=True)
    designs = dask_threads.gather(standardise_designs(fitted))
    ref, ans = clone(template)._fit_answers(whole, split=True)
    S = sp.vstack([X.sparse for X, _ in designs]).tocsr()
    Z = np.vstack([X.dense for X, _ in designs])
    assert abs(S - ref.sparse.tocsr()).max() < 1e-12
    np.testing.assert_allclose(Z, ref.dense, rtol=0, atol=1e-9)
    np.testing.assert_array_equal(np.concatenate([y for _, y in designs]), ans.y)

"""scikit-learn estimator contract of every preset.

``parametrize_with_checks`` does not fit these estimators: its checks feed numeric
arrays, while a tracer's input is an interactions table (student, item, concepts,
correctness, in time order) whose rows depend on each other. The checks that do not
need such input run individually below; the rest of the contract (clone, fit returns
self, not-fitted errors, pickling, GroupKFold / cross_validate / GridSearchCV) is
tested on interactions tables.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, GroupKFold, cross_validate
from sklearn.utils.estimator_checks import (
    check_get_params_invariance,
    check_no_attributes_set_in_init,
    check_parameters_default_constructible,
    check_set_params,
)

from edu_recsys.evaluate import TRACER_SCORERS, StudentKFold
from edu_recsys.mastery import (
    BKT,
    FeatureTracer,
    HistoryFeatures,
    SparseDenseLogisticRegression,
    list_models,
    make_model,
)

PRESETS = list_models()


@pytest.mark.parametrize("name", PRESETS)
def test_sklearn_checks_without_array_input(name):
    est = make_model(name)
    check_no_attributes_set_in_init(name, est)
    check_get_params_invariance(name, est)
    check_set_params(name, est)


@pytest.mark.parametrize(
    "cls", [FeatureTracer, BKT, HistoryFeatures, SparseDenseLogisticRegression]
)
def test_default_constructible(cls):
    check_parameters_default_constructible(cls.__name__, cls())


@pytest.mark.parametrize("name", PRESETS)
def test_fit_returns_self_clone_and_pickle(name, sim):
    est = make_model(name)
    params = est.get_params(deep=True)
    assert clone(est).get_params(deep=True).keys() == params.keys()
    with pytest.raises(NotFittedError):
        est.predict_proba(sim)
    with pytest.raises(NotFittedError):
        est.mastery(sim)
    assert est.fit(sim) is est
    p = est.predict_proba(sim)
    assert p.shape == (len(sim),) and np.all((p > 0) & (p < 1))
    again = pickle.loads(pickle.dumps(est))
    np.testing.assert_allclose(again.predict_proba(sim), p)
    # clone is unfitted and independent
    with pytest.raises(NotFittedError):
        clone(est).predict_proba(sim)
    # same seed, same output
    np.testing.assert_allclose(make_model(name).fit(sim).predict_proba(sim), p)


def test_y_argument_overrides_correct(sim):
    flipped = 1 - sim["correct"].to_numpy()
    other = sim.assign(correct=flipped)
    a = make_model("best_lr").fit(sim, flipped)
    b = make_model("best_lr").fit(other)
    np.testing.assert_allclose(a.predict_proba(other), b.predict_proba(other))


def test_cross_validate_with_group_kfold_and_student_kfold(sim):
    model = make_model("best_lr")
    res = cross_validate(
        model,
        sim,
        sim["correct"],
        groups=sim["student_id"],
        cv=GroupKFold(n_splits=3),
        scoring=TRACER_SCORERS,
        error_score="raise",
    )
    assert np.all(res["test_auc"] > 0.6)
    # scikit-learn's own roc_auc scorer works through decision_function (per row)
    res2 = cross_validate(
        model,
        sim,
        sim["correct"],
        cv=StudentKFold(n_splits=3),
        scoring="roc_auc",
        error_score="raise",
    )
    assert np.all(res2["test_score"] > 0.6)


def test_grid_search_over_nested_params(sim):
    gs = GridSearchCV(
        make_model("best_lr"),
        {"classifier__C": [0.1, 1.0]},
        cv=StudentKFold(n_splits=2),
        scoring=TRACER_SCORERS["auc"],
    ).fit(sim)
    assert gs.best_params_["classifier__C"] in (0.1, 1.0)
    assert gs.predict_proba(sim).shape == (len(sim),)


def test_unknown_preset_and_bad_params():
    with pytest.raises(ValueError, match="unknown model"):
        make_model("nope")
    with pytest.raises(ValueError, match="unknown feature blocks"):
        FeatureTracer(HistoryFeatures(blocks=("items",))).fit(
            __import__("pandas").DataFrame(
                {"student_id": ["a"], "item_id": ["q"], "concept_ids": [("c",)], "correct": [1]}
            )
        )


def test_missing_column_is_a_clear_error(sim):
    from edu_recsys.exceptions import InvalidDataError

    with pytest.raises(InvalidDataError, match="concept_ids"):
        make_model("bkt").fit(sim.drop(columns=["concept_ids"]))
    model = make_model("best_lr").fit(sim)
    with pytest.raises(InvalidDataError, match="correct"):
        model.predict_proba(sim.assign(correct=2))

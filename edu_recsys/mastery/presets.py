"""Named model presets: ``make_model(name)``.

================  =====================================================================
name              model
================  =====================================================================
``irt``           Rasch / 1PL IRT: student ability + item difficulty (logistic
                  regression on one-hot student and item). Under the student-level
                  protocol test students are new, so their ability is the mean (0).
``pfa``           Performance Factor Analysis (Pavlik et al. 2009): per concept an
                  easiness and slopes on earlier wins and fails (raw counts).
``das3h``         DAS3H (Choffin et al. 2019) without the student term: item,
                  concepts, and per concept log1p attempts and wins in the windows
                  hour, day, week, month and all time (all time only when there are
                  no timestamps).
``best_lr``       Best-LR (Gervet et al. 2020): item, concepts, log1p earlier attempts
                  and wins per concept, on the item and in total.
``default``       Our model: Best-LR's features plus an item prior shrunk towards the
                  concept's rate (cross-fitted), decayed success rates and Elo-like
                  abilities (half-lives 1-100 answers) and an undecayed ability,
                  recent outcome patterns and streaks, practice gaps, concept
                  transitions (previous answer's concept and outcome -> this
                  concept), pairwise products of the key columns and (with
                  timestamps) DAS3H windows and elapsed times; L2 logistic
                  regression. Blocks, half-lives, the transition weight and C were
                  chosen by student-grouped inner CV on training folds only.
``default_plus``  ``default`` plus the ``item_transition`` block (the item's training
                  success rate after the same previous item and outcome,
                  cross-fitted). More accurate, but the Dask training of
                  :mod:`edu_recsys.scale` does not compute its transition counts yet,
                  so it trains in memory only.
``bkt``           Bayesian Knowledge Tracing, four parameters per concept (EM).
``bkt_forget``    BKT with a forgetting parameter.
================  =====================================================================

All feature-based presets evaluate answers (not expanded rows) and use features of
strictly earlier answers only; see :mod:`edu_recsys.mastery.features`.
"""

from __future__ import annotations

from collections.abc import Callable

from sklearn.base import BaseEstimator

from edu_recsys.mastery.bkt import BKT
from edu_recsys.mastery.features import DAS3H_WINDOWS, HistoryFeatures
from edu_recsys.mastery.linear import SparseDenseLogisticRegression
from edu_recsys.mastery.tracer import FeatureTracer

__all__ = ["make_model", "PRESETS", "DEFAULT_BLOCKS", "BEST_LR_BLOCKS", "list_models"]

BEST_LR_BLOCKS = ("item", "concept", "concept_counts", "item_counts", "total_counts")
DEFAULT_BLOCKS = BEST_LR_BLOCKS + (
    "item_prior",
    "rates",
    "recent",
    "gap",
    "ability",
    "elapsed",
    "interactions",
    "transition",
    "long_ability",
)


def _irt() -> FeatureTracer:
    return FeatureTracer(
        HistoryFeatures(blocks=("student", "item")), SparseDenseLogisticRegression(C=1.0)
    )


def _pfa() -> FeatureTracer:
    return FeatureTracer(
        HistoryFeatures(
            blocks=("concept", "concept_counts"),
            count_kinds=("wins", "fails"),
            count_transform="raw",
        ),
        SparseDenseLogisticRegression(C=1.0),
    )


def _das3h() -> FeatureTracer:
    return FeatureTracer(
        HistoryFeatures(blocks=("item", "concept", "concept_counts"), windows=DAS3H_WINDOWS),
        SparseDenseLogisticRegression(C=1.0),
    )


def _best_lr() -> FeatureTracer:
    return FeatureTracer(
        HistoryFeatures(blocks=BEST_LR_BLOCKS), SparseDenseLogisticRegression(C=1.0)
    )


def _default() -> FeatureTracer:
    return FeatureTracer(
        HistoryFeatures(
            blocks=DEFAULT_BLOCKS,
            windows=DAS3H_WINDOWS,
            halflives=(1.0, 3.0, 10.0, 30.0, 100.0),
            item_prior_strength=10.0,
            block_scale={"transition": 0.5},
        ),
        SparseDenseLogisticRegression(C=0.5),
    )


def _default_plus() -> FeatureTracer:
    model = _default()
    model.features.set_params(blocks=DEFAULT_BLOCKS + ("item_transition",))
    return model


#: name -> factory of a fresh, unfitted estimator
PRESETS: dict[str, Callable[[], BaseEstimator]] = {
    "irt": _irt,
    "pfa": _pfa,
    "das3h": _das3h,
    "best_lr": _best_lr,
    "default": _default,
    "default_plus": _default_plus,
    "bkt": lambda: BKT(),
    "bkt_forget": lambda: BKT(forgetting=True),
}


def list_models() -> list[str]:
    """The preset names accepted by :func:`make_model`."""
    return list(PRESETS)


def make_model(name: str = "default", **params) -> BaseEstimator:
    """A fresh, unfitted estimator of the named preset.

    Parameters
    ----------
    name : str
        One of :func:`list_models`.
    **params
        Passed to ``set_params`` (nested names allowed, e.g.
        ``classifier__C=0.5`` or ``features__halflives=(5.0,)``).

    Examples
    --------
    >>> make_model("best_lr").features.blocks
    ('item', 'concept', 'concept_counts', 'item_counts', 'total_counts')
    >>> make_model("bkt", forgetting=True).forgetting
    True
    """
    try:
        factory = PRESETS[name]
    except KeyError:
        raise ValueError(f"unknown model {name!r}; known: {', '.join(PRESETS)}") from None
    model = factory()
    if params:
        model.set_params(**params)
    return model

"""Mastery estimation (knowledge tracing) as scikit-learn estimators.

>>> from edu_recsys.mastery import make_model
>>> model = make_model("default")  # or default_plus, irt, pfa, das3h, best_lr, bkt, bkt_forget

Every model follows the tracer contract of :mod:`edu_recsys.mastery.tracer`:
``fit(interactions)``, ``predict_proba(interactions)`` (1-D P(correct) per row from
strictly earlier answers), ``mastery(history, students=None, concepts=None)``,
``predict_next(history, candidates)`` and ``online_state(history)``. Persistence:
:func:`save_model` / :func:`load_model`.
"""

from edu_recsys.mastery.answers import Answers, build_answers
from edu_recsys.mastery.bkt import BKT, BKTOnlineState
from edu_recsys.mastery.features import BLOCKS, DAS3H_WINDOWS, HistoryFeatures
from edu_recsys.mastery.linear import SparseDenseLogisticRegression
from edu_recsys.mastery.online import FeatureOnlineState
from edu_recsys.mastery.persistence import (
    FORMAT_VERSION,
    ModelFormatError,
    load_model,
    save_model,
)
from edu_recsys.mastery.presets import PRESETS, list_models, make_model
from edu_recsys.mastery.state import FALLBACKS
from edu_recsys.mastery.tracer import MASTERY_COLUMNS, BaseTracer, FeatureTracer

__all__ = [
    "Answers",
    "BKT",
    "BKTOnlineState",
    "BLOCKS",
    "BaseTracer",
    "DAS3H_WINDOWS",
    "FALLBACKS",
    "FORMAT_VERSION",
    "FeatureOnlineState",
    "FeatureTracer",
    "HistoryFeatures",
    "MASTERY_COLUMNS",
    "ModelFormatError",
    "PRESETS",
    "SparseDenseLogisticRegression",
    "build_answers",
    "list_models",
    "load_model",
    "make_model",
    "save_model",
]

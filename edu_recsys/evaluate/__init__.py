"""Evaluation of mastery models: metrics, the student-level k-fold protocol, segments.

The protocol (:func:`cross_validate_tracer`): for each fold, fit on the other folds'
students and predict every answer of the fold's students from their own earlier
answers; metrics per answer (headline) and per expanded row.
"""

from edu_recsys.evaluate.metrics import (
    METRICS,
    accuracy,
    auc,
    expected_calibration_error,
    log_loss,
    rmse,
    score_all,
)
from edu_recsys.evaluate.protocol import (
    TRACER_SCORERS,
    StudentKFold,
    cross_validate_tracer,
    evaluate_predictions,
    student_folds,
)
from edu_recsys.evaluate.segments import answer_segments, segment_scores

__all__ = [
    "METRICS",
    "TRACER_SCORERS",
    "StudentKFold",
    "accuracy",
    "answer_segments",
    "auc",
    "cross_validate_tracer",
    "evaluate_predictions",
    "expected_calibration_error",
    "log_loss",
    "rmse",
    "score_all",
    "segment_scores",
    "student_folds",
]

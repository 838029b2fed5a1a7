"""Evaluation of mastery models: metrics, the student-level k-fold protocol, segments."""

from edu_recsys.evaluate.metrics import (
    METRICS,
    accuracy,
    auc,
    expected_calibration_error,
    log_loss,
    rmse,
    score_all,
)

__all__ = [
    "METRICS",
    "accuracy",
    "auc",
    "expected_calibration_error",
    "log_loss",
    "rmse",
    "score_all",
]

"""Save and load fitted models with joblib, with a format version check.

A saved file holds a small envelope: the format version, the edu_recsys and
scikit-learn versions that wrote it, free metadata (data set, figures) and the model.
Loading a file of another format version raises :class:`ModelFormatError` with both
versions and what to do (refit, or install the matching edu_recsys); a different
scikit-learn version only logs a warning, as scikit-learn itself does.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import joblib
import sklearn

from edu_recsys.exceptions import EduRecsysError

__all__ = ["FORMAT_VERSION", "ModelFormatError", "save_model", "load_model", "read_metadata"]

log = logging.getLogger(__name__)

#: Bumped whenever a fitted model's attributes change incompatibly.
FORMAT_VERSION = 2  # 2: HistoryFeatures.transition_concepts, transition / long_ability blocks

_MAGIC = "edu_recsys.mastery.model"


class ModelFormatError(EduRecsysError):
    """The file is not an edu_recsys model, or has another format version."""


def _package_version() -> str:
    try:
        from importlib.metadata import version

        return version("edu-recsys")
    except Exception:  # pragma: no cover - not installed as a distribution
        return "unknown"


def save_model(
    model: Any, path: str | os.PathLike, metadata: dict | None = None, compress: int = 3
) -> Path:
    """Write a fitted model (any estimator of :mod:`edu_recsys.mastery`) to ``path``.

    Examples
    --------
    >>> import tempfile, pandas as pd
    >>> from edu_recsys.mastery import make_model
    >>> df = pd.DataFrame({"student_id": list("aabb"), "item_id": list("xyxy"),
    ...                    "concept_ids": [("c",)] * 4, "correct": [0, 1, 1, 1]})
    >>> m = make_model("bkt").fit(df)
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = save_model(m, d + "/m.joblib", metadata={"data": "toy"})
    ...     load_model(p).predict_proba(df).shape
    (4,)
    """
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    envelope = {
        "magic": _MAGIC,
        "format_version": FORMAT_VERSION,
        "edu_recsys_version": _package_version(),
        "sklearn_version": sklearn.__version__,
        "metadata": dict(metadata or {}),
        "model": model,
    }
    joblib.dump(envelope, p, compress=compress)
    return p


def _read(path: str | os.PathLike) -> dict:
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"model file not found: {p}")
    try:
        env = joblib.load(p)
    except Exception as e:
        raise ModelFormatError(f"{p}: not a readable model file ({type(e).__name__}: {e})") from e
    if not isinstance(env, dict) or env.get("magic") != _MAGIC:
        raise ModelFormatError(f"{p}: not an edu_recsys model file (use save_model to write one)")
    return env


def read_metadata(path: str | os.PathLike) -> dict:
    """The envelope of a saved model without the model (versions and metadata)."""
    env = _read(path)
    return {k: v for k, v in env.items() if k != "model"}


def load_model(path: str | os.PathLike) -> Any:
    """Read a model written by :func:`save_model`.

    Raises
    ------
    ModelFormatError
        When the file is not a model file or its format version differs from
        :data:`FORMAT_VERSION`.
    """
    env = _read(path)
    v = env.get("format_version")
    if v != FORMAT_VERSION:
        raise ModelFormatError(
            f"{path}: model format version {v} (written by edu_recsys "
            f"{env.get('edu_recsys_version')}), this edu_recsys reads version "
            f"{FORMAT_VERSION}; refit the model, or load it with the edu_recsys version "
            "that wrote it"
        )
    if env.get("sklearn_version") != sklearn.__version__:
        log.warning(
            "model written with scikit-learn %s, running %s",
            env.get("sklearn_version"),
            sklearn.__version__,
        )
    return env["model"]

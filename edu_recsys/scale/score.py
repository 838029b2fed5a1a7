"""Batch scoring jobs on partitions of students, published only when complete.

Each job maps an in-memory function of the library over partitions that hold whole
students (or whole classes) and writes one Parquet file per partition. The output
folder appears at its final location, with ``_manifest.json`` written last, only when
every partition has been written (:func:`edu_recsys.scale.io.write_parquet_dataset`);
a failed job raises :class:`~edu_recsys.scale.errors.JobFailedError` and leaves
nothing behind. A reader must treat a folder without a manifest as absent.

Jobs:

* :func:`score_answers`: P(correct) of every answer from the student's strictly
  earlier answers (``tracer.predict_proba`` per partition).
* :func:`nightly_mastery`: the mastery long table (``student_id, concept_id, mastery,
  evidence, fallback``) of every student (``tracer.mastery`` per partition).
* :func:`class_reports` and :func:`class_homework`: per class, from a roster
  (``student_id, class_id``), with :mod:`edu_recsys.classroom`, on partitions that
  hold whole classes (:func:`partition_by_class`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

import dask.dataframe as dd
import numpy as np
import pandas as pd

from edu_recsys.data.schema import CORRECT, ITEM, STUDENT, TIMESTAMP
from edu_recsys.scale.io import _SEQ, write_parquet_dataset

__all__ = [
    "OUTPUT_FORMAT",
    "run_partitioned_job",
    "score_answers",
    "nightly_mastery",
    "predictions_frame",
    "model_info",
    "partition_by_class",
    "class_reports",
    "class_homework",
]

log = logging.getLogger(__name__)

OUTPUT_FORMAT = "edu-recsys/batch-output/1"


def model_info(model: Any) -> dict:
    """A short JSON-ready description of a fitted model for manifests."""
    info: dict[str, Any] = {"class": f"{type(model).__module__}.{type(model).__qualname__}"}
    for attr in ("name", "format_version", "fitted_at_", "n_features_in_"):
        v = getattr(model, attr, None)
        if isinstance(v, (str, int, float)):
            info[attr.rstrip("_")] = v
    return info


def run_partitioned_job(
    ddf: dd.DataFrame,
    func: Callable[..., pd.DataFrame],
    out: str,
    *,
    meta: pd.DataFrame,
    job: str,
    manifest: Mapping[str, Any] | None = None,
    overwrite: bool = False,
    storage_options: Mapping[str, Any] | None = None,
    retries: int = 1,
    **func_kwargs: Any,
) -> dict:
    """Apply ``func`` to every partition and publish the results as one dataset.

    Parameters
    ----------
    ddf : dask DataFrame
        Input partitions (whole students, or whole classes, per partition).
    func : callable
        ``func(partition, **func_kwargs) -> DataFrame``; must be deterministic
        (a retried partition overwrites its own file).
    out : str
        Output folder (local path or fsspec URL).
    meta : DataFrame
        Empty frame with the output's columns and dtypes.
    job : str
        Job name recorded in the manifest.
    retries : int
        Extra attempts for a partition whose task raised (a partition whose worker
        died is rescheduled by Dask up to ``distributed.scheduler.allowed-failures``).

    Returns
    -------
    dict
        The manifest.

    Raises
    ------
    JobFailedError
        Nothing was published.
    """
    t0 = time.time()
    result = ddf.map_partitions(func, meta=meta, **func_kwargs)
    man = write_parquet_dataset(
        result,
        out,
        manifest={"job": job, "input_partitions": ddf.npartitions, **dict(manifest or {})},
        storage_options=storage_options,
        overwrite=overwrite,
        format=OUTPUT_FORMAT,
        retries=retries,
    )
    log.info("job %s: %d rows in %.1f s", job, man["rows"], time.time() - t0)
    return man


# ------------------------------------------------------------------------ predictions


def predictions_frame(df: pd.DataFrame, p: np.ndarray) -> pd.DataFrame:
    """The output rows of :func:`score_answers` for one partition."""
    out = pd.DataFrame(
        {
            STUDENT: df[STUDENT].to_numpy(),
            ITEM: df[ITEM].to_numpy(),
            CORRECT: df[CORRECT].to_numpy() if CORRECT in df.columns else -1,
            "p_correct": np.asarray(p, dtype=float),
        }
    )
    if TIMESTAMP in df.columns:
        out[TIMESTAMP] = df[TIMESTAMP].to_numpy()
    if _SEQ in df.columns:
        out[_SEQ] = df[_SEQ].to_numpy()
    return out


class _Predict:
    def __init__(self, model):
        self.model = model

    def __call__(self, df: pd.DataFrame) -> pd.DataFrame:
        if not len(df):
            return predictions_frame(df, np.zeros(0))
        return predictions_frame(df, self.model.predict_proba(df))


def _predictions_meta(ddf: dd.DataFrame) -> pd.DataFrame:
    m = ddf._meta
    return predictions_frame(m, np.zeros(0))


def score_answers(
    ddf: dd.DataFrame,
    model: Any,
    out: str | None = None,
    *,
    overwrite: bool = False,
    storage_options: Mapping[str, Any] | None = None,
    retries: int = 1,
) -> dict | dd.DataFrame:
    """P(correct) of every answer from that student's strictly earlier answers.

    ``ddf`` must hold whole students per partition (see
    :func:`~edu_recsys.scale.io.partition_by_student`); the model's own
    ``predict_proba`` runs on each partition, so the values equal the in-memory
    ``model.predict_proba(table)`` row for row.

    Returns the manifest when ``out`` is given, else the lazy Dask frame
    (``student_id, item_id, correct, p_correct[, timestamp]``).
    """
    fn = _Predict(model)
    meta = _predictions_meta(ddf)
    if out is None:
        return ddf.map_partitions(fn, meta=meta)
    return run_partitioned_job(
        ddf,
        fn,
        out,
        meta=meta,
        job="score_answers",
        manifest={"model": model_info(model)},
        overwrite=overwrite,
        storage_options=storage_options,
        retries=retries,
    )


# --------------------------------------------------------------------------- mastery

_MASTERY_META = pd.DataFrame(
    {
        STUDENT: pd.Series([], dtype="str"),
        "concept_id": pd.Series([], dtype="str"),
        "mastery": pd.Series([], dtype=float),
        "evidence": pd.Series([], dtype=float),
        "fallback": pd.Series([], dtype="str"),
    }
)


class _Mastery:
    def __init__(self, model, concepts):
        self.model, self.concepts = model, concepts

    def __call__(self, df: pd.DataFrame) -> pd.DataFrame:
        if not len(df):
            return _MASTERY_META.copy()
        hist = df.drop(columns=[_SEQ], errors="ignore")
        m = self.model.mastery(hist, concepts=self.concepts)
        out = pd.DataFrame({c: m[c].to_numpy() for c in _MASTERY_META.columns if c in m.columns})
        for c in _MASTERY_META.columns:
            if c not in out.columns:
                out[c] = "" if c == "fallback" else np.nan
        return out.astype(_MASTERY_META.dtypes.to_dict())


def nightly_mastery(
    ddf: dd.DataFrame,
    model: Any,
    out: str,
    *,
    concepts: list[str] | None = None,
    overwrite: bool = False,
    storage_options: Mapping[str, Any] | None = None,
    retries: int = 1,
) -> dict:
    """Mastery of every student on every concept (the contract's long table).

    Runs ``model.mastery(partition)`` per partition of whole students. Each
    student's state depends only on their own history, so the rows equal the
    in-memory ``model.mastery(table)`` for the same students.
    """
    return run_partitioned_job(
        ddf,
        _Mastery(model, concepts),
        out,
        meta=_MASTERY_META,
        job="nightly_mastery",
        manifest={"model": model_info(model)},
        overwrite=overwrite,
        storage_options=storage_options,
        retries=retries,
    )


# --------------------------------------------------------------------- per-class jobs

CLASS = "class_id"

_CLASS_META = pd.DataFrame(
    {
        CLASS: pd.Series([], dtype="str"),
        "n_students": pd.Series([], dtype=np.int64),
        "n_rows": pd.Series([], dtype=np.int64),
        "status": pd.Series([], dtype="str"),
        "json": pd.Series([], dtype="str"),
    }
)


def _check_roster(roster: pd.DataFrame) -> pd.DataFrame:
    from edu_recsys.exceptions import InvalidDataError

    for col in (STUDENT, CLASS):
        if col not in roster.columns:
            raise InvalidDataError(
                "missing roster column", column=col, expected="student_id and class_id"
            )
    out = roster.copy()
    out[STUDENT] = out[STUDENT].astype(str)
    out[CLASS] = out[CLASS].astype(str)
    return out.drop_duplicates([STUDENT, CLASS]).reset_index(drop=True)


class _WithClass:
    def __init__(self, roster: pd.DataFrame):
        self.roster = roster[[STUDENT, CLASS]]

    def __call__(self, df: pd.DataFrame) -> pd.DataFrame:
        # a student in several classes (one roster per subject) joins each of them
        return df.merge(self.roster, on=STUDENT, how="inner", sort=False)


def partition_by_class(
    ddf: dd.DataFrame, roster: pd.DataFrame, npartitions: int | None = None
) -> dd.DataFrame:
    """The log's rows of rostered students, shuffled so that every class is whole.

    Adds ``class_id`` from ``roster`` (``student_id, class_id``); inside a partition
    rows are ordered by class, student and time.
    """
    from edu_recsys.scale.io import partition_by_student

    r = _check_roster(roster)
    joined = ddf.map_partitions(
        _WithClass(r), meta=ddf._meta.assign(**{CLASS: pd.Series([], dtype="str")})
    )
    return partition_by_student(joined, npartitions=npartitions or ddf.npartitions, key=CLASS)


def _clean(o: Any) -> Any:
    """JSON-ready values: NaN/inf -> None, numpy scalars -> Python."""
    if isinstance(o, float):
        return None if (np.isnan(o) or np.isinf(o)) else o
    if isinstance(o, Mapping):
        return {str(k): _clean(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_clean(v) for v in o]
    if isinstance(o, np.generic):
        return _clean(o.item())
    return o


def _json(obj: Any) -> str:
    import json

    return json.dumps(_clean(obj), ensure_ascii=False, default=str)


class _PerClass:
    """Runs ``what`` (report or homework) for every class of a partition."""

    def __init__(self, what, model, G, roster, kwargs):
        self.what, self.model, self.G, self.kwargs = what, model, G, kwargs
        self.roster = roster

    def __call__(self, df: pd.DataFrame) -> pd.DataFrame:
        rows = []
        hist_all = df.drop(columns=[_SEQ], errors="ignore")
        for cid, hist in hist_all.groupby(CLASS, sort=True):
            ids = self.roster.loc[self.roster[CLASS] == cid, STUDENT].tolist()
            hist = hist.drop(columns=[CLASS]).reset_index(drop=True)
            mastery = self.model.mastery(hist, students=ids)
            res = self.what(mastery, self.G, ids, hist, **self.kwargs)
            d = res.to_dict()
            status = (
                str(d.get("summary", {}).get("status", "ok"))
                if isinstance(d.get("summary"), dict)
                else "ok"
            )
            rows.append(
                {
                    CLASS: str(cid),
                    "n_students": len(ids),
                    "n_rows": len(hist),
                    "status": status,
                    "json": _json(d),
                }
            )
        if not rows:
            return _CLASS_META.copy()
        return pd.DataFrame(rows).astype(_CLASS_META.dtypes.to_dict())


def _report(mastery, G, ids, hist, **kw):
    from edu_recsys.classroom import class_report

    return class_report(mastery, G, roster=ids, **kw)


def _homework(mastery, G, ids, hist, *, items, model=None, **kw):
    from edu_recsys.classroom import personal_homework, predict_success

    p = predict_success(model, hist, ids, items) if model is not None else None
    return personal_homework(mastery, G, items, roster=ids, history=hist, p_success=p, **kw)


def class_reports(
    by_class: dd.DataFrame,
    model: Any,
    G,
    roster: pd.DataFrame,
    out: str,
    *,
    overwrite: bool = False,
    storage_options: Mapping[str, Any] | None = None,
    retries: int = 1,
    **report_kwargs: Any,
) -> dict:
    """The class report of every class (:func:`edu_recsys.classroom.class_report`).

    ``by_class`` comes from :func:`partition_by_class`. Output rows: ``class_id,
    n_students, n_rows, status, json`` (the report's ``to_dict()``), one per class
    with answers; ``report_kwargs`` go to ``class_report`` (``current_unit``,
    ``lang``, ...).
    """
    r = _check_roster(roster)
    return run_partitioned_job(
        by_class,
        _PerClass(_report, model, G, r, report_kwargs),
        out,
        meta=_CLASS_META,
        job="class_reports",
        manifest={"model": model_info(model)},
        overwrite=overwrite,
        storage_options=storage_options,
        retries=retries,
    )


def class_homework(
    by_class: dd.DataFrame,
    model: Any,
    G,
    roster: pd.DataFrame,
    items: pd.DataFrame,
    out: str,
    *,
    grade: int,
    predict_next: bool = False,
    overwrite: bool = False,
    storage_options: Mapping[str, Any] | None = None,
    retries: int = 1,
    **homework_kwargs: Any,
) -> dict:
    """Personalised homework for every student of every class
    (:func:`edu_recsys.classroom.personal_homework`, within the daily time limits).

    Output rows: ``class_id, n_students, n_rows, status, json`` (the ``Homework``'s
    ``to_dict()``: every student's items with reasons and minutes, and the share of
    the budget used). With ``predict_next`` the success of every student on every
    item comes from ``model.predict_next`` (students x items queries per class);
    otherwise from the mastery table (flagged ``p_from_mastery`` by the classroom
    module), which is much cheaper at province scale.
    """
    r = _check_roster(roster)
    kw = {"items": items, "grade": grade, **homework_kwargs}
    if predict_next:
        kw["model"] = model
    return run_partitioned_job(
        by_class,
        _PerClass(_homework, model, G, r, kw),
        out,
        meta=_CLASS_META,
        job="class_homework",
        manifest={"model": model_info(model), "grade": grade},
        overwrite=overwrite,
        storage_options=storage_options,
        retries=retries,
    )

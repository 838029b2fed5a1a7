"""The end-to-end batch job: split students, fit, score, nightly mastery.

:func:`run_pipeline` is what ``edu-recsys batch run`` and ``edu-recsys bench scale``
execute on a log partitioned by student:

1. students are split into training and held-out students by a seeded hash of
   their id (the same split in memory and on any cluster, whatever the partitioning);
2. the mastery model is fitted on the training students (:func:`~edu_recsys.scale.
   train.fit_dask`) and saved;
3. every held-out answer is scored from that student's strictly earlier answers
   (:func:`~edu_recsys.scale.score.score_answers`), and the AUC computed;
4. optionally, the nightly mastery table of every student is written
   (:func:`~edu_recsys.scale.score.nightly_mastery`).

Every output folder is published with its manifest only when complete.
"""

from __future__ import annotations

import logging
import posixpath
import time
from collections.abc import Mapping
from typing import Any

import dask.dataframe as dd
import fsspec
import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from edu_recsys.data.schema import STUDENT
from edu_recsys.scale.io import (
    is_partitioned_by_student,
    partition_by_student,
    read_log,
    read_manifest,
)
from edu_recsys.scale.score import nightly_mastery, score_answers
from edu_recsys.scale.train import fit_dask, save_model

__all__ = ["heldout_mask", "split_students", "run_pipeline", "read_predictions"]

log = logging.getLogger(__name__)


def heldout_mask(students: pd.Series | np.ndarray, test_share: float, seed: int = 0):
    """Whether each student is held out: a seeded hash of the id, so the split is the
    same for a student wherever (and in whatever partition) it is computed.

    Examples
    --------
    >>> m = heldout_mask(np.array([f"s{i}" for i in range(1000)]), 0.2)
    >>> 150 < int(m.sum()) < 250
    True
    """
    ids = np.asarray(students, dtype=object).astype(str).astype(object)
    key = f"edu-recsys{seed:06d}"[:16]
    h = pd.util.hash_array(ids, hash_key=key, categorize=True)
    return (h % np.uint64(1_000_000)) < np.uint64(int(round(test_share * 1_000_000)))


class _Keep:
    def __init__(self, test: bool, share: float, seed: int):
        self.test, self.share, self.seed = test, share, seed

    def __call__(self, df: pd.DataFrame) -> pd.DataFrame:
        m = heldout_mask(df[STUDENT].to_numpy(), self.share, self.seed)
        return df.loc[m if self.test else ~m].reset_index(drop=True)


def split_students(
    ddf: dd.DataFrame, test_share: float = 0.2, seed: int = 0
) -> tuple[dd.DataFrame, dd.DataFrame]:
    """Training and held-out students, partition by partition (no shuffle)."""
    meta = ddf._meta
    train = ddf.map_partitions(_Keep(False, test_share, seed), meta=meta)
    test = ddf.map_partitions(_Keep(True, test_share, seed), meta=meta)
    return train, test


def read_predictions(urlpath: str, storage_options: Mapping[str, Any] | None = None):
    """``correct`` and ``p_correct`` of a published predictions folder."""
    man = read_manifest(urlpath, storage_options)
    if man is None:
        from edu_recsys.scale.errors import IncompleteDatasetError

        raise IncompleteDatasetError(f"{urlpath}: no manifest (not a finished job)")
    fs, root = fsspec.core.url_to_fs(urlpath, **dict(storage_options or {}))
    frames = []
    for f in man["files"]:
        with fs.open(posixpath.join(root.rstrip("/"), f["path"]), "rb") as fh:
            frames.append(pd.read_parquet(fh, columns=["correct", "p_correct"]))
    return pd.concat(frames, ignore_index=True)


def run_pipeline(
    log_url: str,
    out_url: str,
    *,
    model: str = "default",
    solver: str = "auto",
    epochs: int = 1,
    test_share: float = 0.2,
    seed: int = 0,
    mastery: bool = True,
    max_files: int | None = None,
    rows_per_partition: int = 500_000,
    overwrite: bool = False,
    storage_options: Mapping[str, Any] | None = None,
    client=None,
    **fit_kwargs: Any,
) -> dict:
    """Fit, score and (optionally) compute nightly mastery; return a timing report.

    Outputs under ``out_url``: ``model.joblib``, ``predictions/`` (held-out answers)
    and ``mastery/`` (every student), each folder with its manifest.
    """
    from distributed import default_client

    client = client or default_client()
    t0 = time.time()
    so = dict(storage_options or {})
    ddf = read_log(log_url, storage_options=so or None, max_files=max_files)
    man = read_manifest(log_url, so or None)
    if not is_partitioned_by_student(man):
        ddf = partition_by_student(ddf, rows_per_partition=rows_per_partition)
    train, test = split_students(ddf, test_share, seed)
    report: dict[str, Any] = {"log": log_url, "partitions": ddf.npartitions, "stages": {}}
    tracer, fit_report = fit_dask(
        train,
        model,
        solver=solver,
        epochs=epochs,
        random_state=seed,
        client=client,
        **fit_kwargs,
    )
    report["fit"] = fit_report
    report["stages"]["fit_s"] = fit_report["fit_s"]
    fs, root = fsspec.core.url_to_fs(out_url, **so)
    fs.makedirs(root, exist_ok=True)
    model_path = posixpath.join(root.rstrip("/"), "model.joblib")
    if fs.protocol in ("file", "local") or "file" in (fs.protocol or ()):
        save_model(tracer, model_path)
    else:  # remote: save locally then upload
        import tempfile

        with tempfile.NamedTemporaryFile(suffix=".joblib") as tmp:
            save_model(tracer, tmp.name)
            fs.put(tmp.name, model_path)
    report["model_path"] = model_path
    t1 = time.time()
    pred_url = out_url.rstrip("/") + "/predictions"
    pman = score_answers(test, tracer, pred_url, overwrite=overwrite, storage_options=so or None)
    report["stages"]["score_s"] = round(time.time() - t1, 3)
    preds = read_predictions(pred_url, so or None)
    y = preds["correct"].to_numpy()
    report["test_answers"] = int(pman["rows"])
    report["auc"] = (
        float(roc_auc_score(y, preds["p_correct"].to_numpy()))
        if len(np.unique(y)) == 2
        else float("nan")
    )
    report["answers"] = int(fit_report["answers"]) + int(pman["rows"])
    report["wall_fit_score_s"] = round(time.time() - t0, 3)
    if mastery:
        t2 = time.time()
        mman = nightly_mastery(
            ddf,
            tracer,
            out_url.rstrip("/") + "/mastery",
            overwrite=overwrite,
            storage_options=so or None,
        )
        report["stages"]["mastery_s"] = round(time.time() - t2, 3)
        report["mastery_rows"] = int(mman["rows"])
    report["wall_s"] = round(time.time() - t0, 3)
    return report

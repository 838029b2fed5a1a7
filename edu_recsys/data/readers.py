"""Reading interaction logs from files in the formats people have.

Column names are inferred from the common public formats (documented in
:data:`COLUMN_ALIASES`) and can always be overridden with ``columns=``.

Inference, in order of preference for each canonical column:

=============  ============================================================================
canonical      recognised source columns (case- and space-insensitive)
=============  ============================================================================
student_id     student_id, user_id, Anon Student Id, student, learner_id, userid, actor
item_id        item_id, problem_id, question_id, exercise_id, exercise, item; DataShop:
               ``Problem Name`` + ``Step Name`` joined by ``::`` (one item per step)
concept_ids    concept_ids, skill_id, KC(Default), KC(...) (first KC model), tags, skill,
               skills, knowledge_point, concept, skill_name (only when nothing else)
correct        correct, Correct First Attempt, is_correct, answer_correct; or EdNet's
               ``user_answer == correct_answer``
timestamp      timestamp, Step Start Time, First Transaction Time, start_time, time,
               created_at
duration_s     duration_s, Step Duration (sec), ms_first_response (ms),
               elapsed_time (ms)
score, resource_id, event_id, fold: the same names
=============  ============================================================================

ASSISTments' ``order_id`` orders the rows when there is no timestamp (it is
chronological). A leading unnamed pandas index column is ignored.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from edu_recsys.data.schema import (
    CONCEPTS,
    CORRECT,
    DURATION,
    EVENT,
    FOLD,
    ITEM,
    RESOURCE,
    SCORE,
    STUDENT,
    TIMESTAMP,
)
from edu_recsys.data.validate import validate_interactions
from edu_recsys.exceptions import InvalidDataError

__all__ = ["read_interactions", "infer_columns", "read_table", "COLUMN_ALIASES"]

log = logging.getLogger(__name__)

#: Recognised source names per canonical column, most preferred first.
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    STUDENT: (
        "student_id",
        "user_id",
        "anon student id",
        "student",
        "learner_id",
        "userid",
        "actor",
        "stu_id",
        "uid",
    ),
    ITEM: (
        "item_id",
        "problem_id",
        "question_id",
        "exercise_id",
        "exercise",
        "item",
        "problem name",
    ),
    CONCEPTS: (
        "concept_ids",
        "skill_id",
        "kc(default)",
        "tags",
        "skill",
        "skills",
        "knowledge_point",
        "concept",
        "concept_id",
        "skill_ids",
        "kc",
        "skill_name",
    ),
    CORRECT: ("correct", "correct first attempt", "is_correct", "answer_correct", "correctness"),
    TIMESTAMP: (
        "timestamp",
        "step start time",
        "first transaction time",
        "start_time",
        "time",
        "created_at",
        "datetime",
    ),
    DURATION: ("duration_s", "step duration (sec)", "ms_first_response", "elapsed_time"),
    SCORE: ("score",),
    RESOURCE: ("resource_id",),
    EVENT: ("event_id",),
    FOLD: ("fold",),
}
# Source columns holding milliseconds rather than seconds.
_MS_COLUMNS = {"ms_first_response", "elapsed_time"}
_ORDER_COLUMNS = ("order_id",)


def _norm(name: str) -> str:
    return " ".join(str(name).strip().lower().split())


def infer_columns(
    columns: Iterable[str], overrides: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Map canonical column names to the source table's names.

    Parameters
    ----------
    columns : iterable of str
        The source table's column names.
    overrides : mapping, optional
        canonical name -> source name; wins over inference. A source name that is not
        a column raises :class:`InvalidDataError`.

    Returns
    -------
    dict
        canonical -> source, only for the columns found.

    Examples
    --------
    >>> infer_columns(["user_id", "problem_id", "skill_id", "skill_name", "correct", "order_id"])
    {'student_id': 'user_id', 'item_id': 'problem_id', 'concept_ids': 'skill_id', \
'correct': 'correct'}
    >>> infer_columns(["Anon Student Id", "Correct First Attempt", "KC(Default)"])["correct"]
    'Correct First Attempt'
    """
    cols = [str(c) for c in columns]
    by_norm: dict[str, str] = {}
    for c in cols:
        by_norm.setdefault(_norm(c), c)
    found: dict[str, str] = {}
    overrides = dict(overrides or {})
    for canon, src in overrides.items():
        if src not in cols:
            raise InvalidDataError(
                f"columns override maps {canon!r} to {src!r}, which is not a column; "
                f"columns present: {cols[:30]}",
                column=src,
            )
        found[canon] = src
    taken = set(found.values())
    for canon, aliases in COLUMN_ALIASES.items():
        if canon in found:
            continue
        for a in aliases:
            src = by_norm.get(a)
            if src is not None and src not in taken:
                found[canon] = src
                taken.add(src)
                break
        if canon == CONCEPTS and canon not in found:
            # DataShop exports may carry several KC models: KC(<model name>)
            kc = [c for c in cols if _norm(c).startswith("kc(") and c not in taken]
            if kc:
                found[canon] = kc[0]
                taken.add(kc[0])
    return {k: found[k] for k in COLUMN_ALIASES if k in found}


def read_table(path: str | os.PathLike, sep: str | None = None, **kwargs) -> pd.DataFrame:
    """Read a CSV / TSV / Parquet file (optionally gzip-compressed) as it is.

    The separator is sniffed from the first line unless given; Parquet is chosen by
    the ``.parquet`` / ``.pq`` suffix.
    """
    p = Path(path)
    if not p.exists():
        raise InvalidDataError("file not found", source=str(p))
    suffixes = [s.lower() for s in p.suffixes]
    if ".parquet" in suffixes or ".pq" in suffixes or p.is_dir():
        return pd.read_parquet(p, **kwargs)
    if sep is None:
        import gzip

        opener = gzip.open if suffixes and suffixes[-1] == ".gz" else open
        with opener(p, "rt", encoding="utf-8-sig", errors="replace") as fh:
            head = fh.readline()
        sep = "\t" if head.count("\t") > head.count(",") else ","
    try:
        return pd.read_csv(p, sep=sep, encoding="utf-8-sig", low_memory=False, **kwargs)
    except (pd.errors.ParserError, UnicodeDecodeError) as e:
        raise InvalidDataError(f"cannot parse as a delimited text file: {e}", source=str(p)) from e


def read_interactions(
    path_or_df: str | os.PathLike | pd.DataFrame,
    columns: Mapping[str, str] | None = None,
    *,
    sep: str | None = None,
    q_matrix: Mapping[str, Iterable[str]] | pd.DataFrame | None = None,
    drop_duplicates: bool = False,
    concept_sep: str | None = None,
    keep_extra: bool = True,
    return_report: bool = False,
):
    """Read an interaction log into the canonical, validated table.

    Parameters
    ----------
    path_or_df : path or DataFrame
        CSV, TSV or Parquet file (``.gz`` too), or a DataFrame with source columns.
    columns : mapping, optional
        Explicit canonical -> source column names; the rest is inferred (see the
        module docstring for the inference table).
    sep : str, optional
        Field separator of a text file (sniffed: tab or comma).
    q_matrix : mapping or DataFrame, optional
        item -> concepts, for logs without concept columns.
    drop_duplicates, concept_sep, return_report
        Passed to :func:`~edu_recsys.data.validate.validate_interactions`.
    keep_extra : bool, default True
        Keep the source's other columns after the canonical ones.

    Returns
    -------
    DataFrame
        The validated interactions (see :mod:`edu_recsys.data.schema`).

    Raises
    ------
    InvalidDataError
        Naming the file, the column, the first offending file lines and what was
        expected.

    Examples
    --------
    >>> raw = pd.DataFrame({"user_id": [7, 7], "problem_id": [3, 4], "skill_id": [1.0, None],
    ...                     "correct": [0, 1], "order_id": [20, 10]})
    >>> df = read_interactions(raw)
    >>> df[["student_id", "item_id", "concept_ids", "correct"]].values.tolist()
    [['7', '4', (), 1], ['7', '3', ('1',), 0]]
    """
    source = None
    line_offset = None
    if isinstance(path_or_df, pd.DataFrame):
        raw = path_or_df
    else:
        source = str(path_or_df)
        raw = read_table(path_or_df, sep=sep)
        suffixes = [s.lower() for s in Path(source).suffixes]
        if ".parquet" not in suffixes and ".pq" not in suffixes:
            line_offset = 2  # header is line 1
    raw = raw.loc[:, [c for c in raw.columns if not str(c).startswith("Unnamed: 0")]]
    mapping = infer_columns(raw.columns, columns)
    if source:
        log.info("%s: column mapping %s", source, mapping)

    out = pd.DataFrame(index=raw.index)
    norm_cols = {_norm(c): c for c in raw.columns}
    # DataShop: an item is a (problem, step) pair
    if (
        ITEM not in (columns or {})
        and mapping.get(ITEM) == norm_cols.get("problem name")
        and "step name" in norm_cols
    ):
        out[ITEM] = (
            raw[norm_cols["problem name"]].astype(str)
            + "::"
            + raw[norm_cols["step name"]].astype(str)
        )
    for canon, src in mapping.items():
        if canon in out.columns:
            continue
        col = raw[src]
        if canon == DURATION and _norm(src) in _MS_COLUMNS:
            col = pd.to_numeric(col, errors="coerce") / 1000.0
        out[canon] = col
    # DataShop leaves Step Start Time empty on some steps; the first transaction time is
    # the next best record of when the step was answered.
    if TIMESTAMP in out.columns and _norm(mapping[TIMESTAMP]) == "step start time":
        ftt = norm_cols.get("first transaction time")
        if ftt is not None:
            missing = out[TIMESTAMP].isna()
            if missing.any():
                out[TIMESTAMP] = out[TIMESTAMP].where(~missing, raw[ftt])
                log.info(
                    "%d empty Step Start Time values filled from First Transaction Time",
                    int(missing.sum()),
                )
    # EdNet: correctness from the chosen option and the answer key
    if CORRECT not in out.columns and {"user_answer", "correct_answer"} <= set(norm_cols):
        ua = raw[norm_cols["user_answer"]]
        ca = raw[norm_cols["correct_answer"]]
        out[CORRECT] = (ua.astype(str).str.strip() == ca.astype(str).str.strip()).astype(np.int8)
        out.loc[ua.isna(), CORRECT] = np.nan
    if DURATION in out.columns:
        # negative response times occur in ASSISTments' raw logs: unknown, not an error
        d = pd.to_numeric(out[DURATION], errors="coerce")
        neg = d < 0
        if neg.any():
            log.warning("%d negative durations set to missing", int(neg.sum()))
            out[DURATION] = d.mask(neg)
    order_src = next((norm_cols[o] for o in _ORDER_COLUMNS if o in norm_cols), None)
    if order_src is not None and not keep_extra:
        out["_row"] = np.arange(len(out))
    if keep_extra:
        used = set(mapping.values())
        for c in raw.columns:
            if c not in used and c not in out.columns:
                out[c] = raw[c]
    result = validate_interactions(
        out,
        q_matrix=q_matrix,
        drop_duplicates=drop_duplicates,
        concept_sep=concept_sep,
        return_report=True,
        source=source,
        line_offset=line_offset,
    )
    df, report = result
    if TIMESTAMP not in df.columns and order_src is not None:
        # ASSISTments: order_id is chronological; validation kept file order, so
        # put each student's rows in order_id order now (students keep their order).
        if order_src not in df.columns:
            df[order_src] = raw[order_src].to_numpy()[df.pop("_row").to_numpy()]
        codes, _ = pd.factorize(df[STUDENT])
        key = pd.to_numeric(df[order_src], errors="coerce").to_numpy()
        order = np.lexsort((np.arange(len(df)), key, codes))
        report.reordered = report.reordered or bool((order != np.arange(len(df))).any())
        df = df.iloc[order].reset_index(drop=True)
    df = df.drop(columns="_row", errors="ignore")
    return (df, report) if return_report else df

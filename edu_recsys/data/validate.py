"""Validation of interactions tables into the canonical shape.

:func:`validate_interactions` is the single gate every table passes through before
any model sees it: it types the columns, checks the values and puts each student's
rows in time order. It never drops a row silently: bad rows raise
:class:`~edu_recsys.exceptions.InvalidDataError` naming the column and rows, and the
rows dropped on request (duplicates) are counted in the :class:`ValidationReport`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from edu_recsys.data.qmatrix import apply_q_matrix
from edu_recsys.data.schema import (
    CANONICAL_COLUMNS,
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
from edu_recsys.exceptions import InvalidDataError

__all__ = ["validate_interactions", "ValidationReport", "parse_concepts", "normalise_id"]

log = logging.getLogger(__name__)

_TRUE = {"1", "1.0", "true", "t", "yes", "y", "correct"}
_FALSE = {"0", "0.0", "false", "f", "no", "n", "incorrect", "wrong"}


@dataclass
class ValidationReport:
    """What validation did to a table (nothing is dropped without being counted here)."""

    rows_in: int = 0
    rows_out: int = 0
    duplicates_dropped: int = 0
    rows_without_concepts: int = 0
    reordered: bool = False
    students: int = 0
    items: int = 0
    concepts: int = 0
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def normalise_id(values: pd.Series) -> pd.Series:
    """Ids as strings; integral floats lose their ``.0`` (``12.0`` -> ``"12"``).

    Examples
    --------
    >>> normalise_id(pd.Series([1.0, 2.5, None])).tolist()
    ['1', '2.5', None]
    """
    s = values
    if pd.api.types.is_float_dtype(s.dtype):
        finite = s.notna()
        integral = finite & (s.fillna(0) % 1 == 0)
        out = pd.Series(np.full(len(s), None, dtype=object), index=s.index)
        out[integral] = s[integral].astype(np.int64).astype(str)
        rest = finite & ~integral
        out[rest] = s[rest].astype(str)
        return out
    if pd.api.types.is_integer_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype):
        return s.astype(str).astype(object)
    out = s.astype(object)
    mask = out.notna()
    out[mask] = out[mask].map(str).str.strip()
    return out


def _split_concepts(value: str, sep: str | None) -> tuple[str, ...]:
    parts = value.split(sep) if sep else [value]
    out = []
    for p in parts:
        p = p.strip()
        if p.endswith(".0") and p[:-2].lstrip("-").isdigit():
            p = p[:-2]
        if p and p.lower() != "nan":
            out.append(p)
    return tuple(dict.fromkeys(out))


def parse_concepts(values: Iterable, sep: str | None = None) -> list[tuple[str, ...]]:
    """Turn a column of concept annotations into tuples of concept-id strings.

    Accepts tuples, lists, arrays, strings separated by ``~~`` (DataShop), ``;``
    (EdNet), ``|`` or ``,`` (one separator per column: the first of these that occurs,
    unless ``sep`` is given), numbers, and missing values (-> empty tuple).
    Duplicates within a row are removed, order kept.

    Examples
    --------
    >>> parse_concepts(["a~~b", ("c",), None, 3.0, "x, y~~z"])
    [('a', 'b'), ('c',), (), ('3',), ('x, y', 'z')]
    >>> parse_concepts(["1;2", "5"])
    [('1', '2'), ('5',)]
    """
    values = list(values)
    if sep is None:
        # one separator per column: a comma inside a KC name must not split it when
        # the column uses ~~ elsewhere
        strings = {v for v in values if isinstance(v, str)}
        for cand in ("~~", ";", "|", ","):
            if any(cand in v for v in strings):
                sep = cand
                break
    cache: dict = {}
    out: list[tuple[str, ...]] = []
    for v in values:
        if isinstance(v, tuple) and all(isinstance(c, str) for c in v):
            out.append(v)
            continue
        if isinstance(v, str):
            r = cache.get(v)
            if r is None:
                r = cache[v] = _split_concepts(v, sep)
            out.append(r)
        elif v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
            out.append(())
        elif isinstance(v, (list, tuple, np.ndarray, set, frozenset)):
            items = []
            for c in v:
                if isinstance(c, float):
                    if np.isnan(c):
                        continue
                    c = int(c) if c.is_integer() else c
                items.append(str(c).strip())
            out.append(tuple(dict.fromkeys(i for i in items if i)))
        elif isinstance(v, (int, np.integer)):
            out.append((str(int(v)),))
        elif isinstance(v, (float, np.floating)):
            out.append((str(int(v)) if float(v).is_integer() else str(v),))
        else:
            out.append((str(v),))
    return out


def _err(msg: str, column: str | None, mask: np.ndarray | None, expected: str | None, ctx: dict):
    rows = np.flatnonzero(mask).tolist() if mask is not None else None
    return InvalidDataError(msg, column=column, rows=rows, expected=expected, **ctx)


def _coerce_binary(s: pd.Series, ctx: dict) -> np.ndarray:
    if pd.api.types.is_bool_dtype(s.dtype):
        return s.to_numpy().astype(np.int8)
    null = s.isna().to_numpy()
    if null.any():
        raise _err("missing values", CORRECT, null, "0 or 1 on every row", ctx)
    if pd.api.types.is_numeric_dtype(s.dtype):
        v = s.to_numpy(dtype=float)
        bad = ~np.isin(v, (0.0, 1.0))
        if bad.any():
            partial = bad & (v > 0) & (v < 1)
            hint = (
                " (partial credit belongs in a 'score' column in [0, 1])" if partial.any() else ""
            )
            raise _err(
                f"non-binary values such as {float(v[bad][0])!r}{hint}", CORRECT, bad, "0 or 1", ctx
            )
        return v.astype(np.int8)
    low = s.astype(str).str.strip().str.lower()
    is_true = low.isin(_TRUE).to_numpy()
    is_false = low.isin(_FALSE).to_numpy()
    bad = ~(is_true | is_false)
    if bad.any():
        raise _err(
            f"non-binary values such as {s[bad].iloc[0]!r}",
            CORRECT,
            bad,
            "0/1 (or true/false)",
            ctx,
        )
    return is_true.astype(np.int8)


def _parse_timestamps(s: pd.Series, ctx: dict) -> pd.Series:
    present = s.notna().to_numpy()
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        ts = s.dt.tz_localize("UTC") if s.dt.tz is None else s.dt.tz_convert("UTC")
    elif pd.api.types.is_numeric_dtype(s.dtype):
        # Epoch numbers: milliseconds (EdNet) when large, else seconds.
        v = s.to_numpy(dtype=float)
        unit = "ms" if np.nanmedian(np.abs(v)) > 1e11 else "s"
        ts = pd.to_datetime(s, unit=unit, utc=True, errors="coerce")
    else:
        ts = pd.to_datetime(s, utc=True, errors="coerce", format="mixed")
    bad = present & ts.isna().to_numpy()
    if bad.any():
        raise _err(
            f"unparseable timestamps such as {s[bad].iloc[0]!r}",
            TIMESTAMP,
            bad,
            "ISO 8601 date-times or epoch seconds/milliseconds",
            ctx,
        )
    return ts.astype("datetime64[ns, UTC]")


def validate_interactions(
    df: pd.DataFrame,
    *,
    q_matrix: Mapping[str, Iterable[str]] | pd.DataFrame | None = None,
    drop_duplicates: bool = False,
    require_concepts: bool = False,
    concept_sep: str | None = None,
    return_report: bool = False,
    source: str | None = None,
    line_offset: int | None = None,
) -> pd.DataFrame | tuple[pd.DataFrame, ValidationReport]:
    """Return a clean, typed, time-ordered copy of an interactions table.

    Parameters
    ----------
    df : DataFrame
        A table with at least ``student_id``, ``item_id`` and ``correct`` (see
        :mod:`edu_recsys.data.schema`); ``concept_ids`` is required unless
        ``q_matrix`` is given.
    q_matrix : mapping or DataFrame, optional
        item id -> concept ids; fills (or replaces) ``concept_ids``. Items missing from
        it are an error.
    drop_duplicates : bool, default False
        Duplicates are answers with the same ``event_id``, or (when timestamps exist)
        the same student, item and timestamp. By default they raise; with True they are
        dropped (first kept) and counted in the report.
    require_concepts : bool, default False
        Raise when a row has no concept. Otherwise such rows are kept and counted.
    concept_sep : str, optional
        Separator for string concept annotations (auto: ``~~``, ``;``, ``|``, ``,``).
    return_report : bool, default False
        Also return the :class:`ValidationReport`.
    source, line_offset
        Used in error messages (file name; file line of row 0).

    Returns
    -------
    DataFrame (and ValidationReport when ``return_report``)
        Canonical columns first, then any extra columns, index reset. Students appear
        in order of their first row; each student's rows are stably sorted by
        ``timestamp`` when present, otherwise kept in the given order.

    Raises
    ------
    InvalidDataError
        Naming the column, the first offending rows and what was expected.

    Examples
    --------
    >>> raw = pd.DataFrame({"student_id": [1, 1, 2], "item_id": ["q1", "q2", "q1"],
    ...                     "concept_ids": ["a", "a~~b", "a"], "correct": [1, 0, True]})
    >>> clean = validate_interactions(raw)
    >>> clean["concept_ids"].tolist(), clean["correct"].tolist()
    ([('a',), ('a', 'b'), ('a',)], [1, 0, 1])
    >>> validate_interactions(raw.assign(correct=[1, 2, 0]))
    Traceback (most recent call last):
    ...
    edu_recsys.exceptions.InvalidDataError: column 'correct': non-binary values such as 2.0; \
expected 0 or 1 (rows 1)
    """
    ctx = {"source": source, "line_offset": line_offset}
    if not isinstance(df, pd.DataFrame):
        raise InvalidDataError(
            f"expected a pandas DataFrame, got {type(df).__name__}", source=source
        )
    report = ValidationReport(rows_in=len(df))
    out = df.copy()
    out.columns = [str(c) for c in out.columns]
    if out.columns.duplicated().any():
        dup = out.columns[out.columns.duplicated()][0]
        raise InvalidDataError("duplicate column name", column=dup, **{"source": source})

    if CORRECT not in out.columns and SCORE in out.columns:
        # Full marks count as correct; partial credit stays in `score`.
        sc = pd.to_numeric(out[SCORE], errors="coerce")
        out[CORRECT] = (sc >= 1.0).astype(np.int8).where(sc.notna(), np.nan)
        report.notes.append("correct derived from score (score >= 1)")
    for col in (STUDENT, ITEM, CORRECT):
        if col not in out.columns:
            raise InvalidDataError(
                f"missing required column; columns present: {list(df.columns)[:20]}",
                column=col,
                expected="a column of that name (pass columns={...} to read_interactions "
                "to map your names)",
                source=source,
            )
    if q_matrix is not None:
        out = apply_q_matrix(out, q_matrix)
    elif CONCEPTS not in out.columns:
        raise InvalidDataError(
            "missing required column",
            column=CONCEPTS,
            expected="concept ids per row, or a separate Q-matrix (q_matrix=...)",
            source=source,
        )

    # ids
    for col in (STUDENT, ITEM):
        ids = normalise_id(out[col])
        bad = (ids.isna() | (ids.astype(str) == "")).to_numpy()
        if bad.any():
            raise _err("missing or empty ids", col, bad, "a non-empty id on every row", ctx)
        out[col] = ids.astype(str)

    out[CORRECT] = _coerce_binary(out[CORRECT], ctx)

    if SCORE in out.columns:
        sc = pd.to_numeric(out[SCORE], errors="coerce")
        bad = (sc.isna() & out[SCORE].notna()) | (sc < 0) | (sc > 1)
        if bad.any():
            raise _err("scores outside [0, 1]", SCORE, bad.to_numpy(), "numbers in [0, 1]", ctx)
        out[SCORE] = sc.astype(float)

    concepts = parse_concepts(out[CONCEPTS].tolist(), concept_sep)
    out[CONCEPTS] = pd.Series(concepts, index=out.index, dtype=object)
    empty = np.fromiter((len(c) == 0 for c in concepts), dtype=bool, count=len(concepts))
    report.rows_without_concepts = int(empty.sum())
    if empty.any():
        if require_concepts:
            raise _err("rows without any concept", CONCEPTS, empty, "at least one concept", ctx)
        log.info("%d rows have no concept (kept, counted in the report)", empty.sum())

    if TIMESTAMP in out.columns:
        out[TIMESTAMP] = _parse_timestamps(out[TIMESTAMP], ctx)
    if DURATION in out.columns:
        d = pd.to_numeric(out[DURATION], errors="coerce")
        bad = (d.isna() & out[DURATION].notna()) | (d < 0)
        if bad.any():
            raise _err(
                "invalid durations", DURATION, bad.to_numpy(), "seconds >= 0 (or empty)", ctx
            )
        out[DURATION] = d.astype(float)
    if FOLD in out.columns:
        f = pd.to_numeric(out[FOLD], errors="coerce")
        bad = f.isna() | (f % 1 != 0)
        if bad.any():
            raise _err("invalid fold numbers", FOLD, bad.to_numpy(), "integers", ctx)
        out[FOLD] = f.astype(np.int8)
    for col in (RESOURCE, EVENT):
        if col in out.columns:
            ids = normalise_id(out[col])
            out[col] = ids.where(ids.notna(), None)

    # duplicates
    dup = np.zeros(len(out), dtype=bool)
    what = ""
    if EVENT in out.columns:
        ev = out[EVENT]
        dup |= (ev.notna() & ev.duplicated(keep="first")).to_numpy()
        what = "the same event_id"
    if TIMESTAMP in out.columns:
        dup |= out.duplicated(subset=[STUDENT, ITEM, TIMESTAMP], keep="first").to_numpy() & (
            out[TIMESTAMP].notna().to_numpy()
        )
        what = (what + " or " if what else "") + "the same student, item and timestamp"
    if dup.any():
        if not drop_duplicates:
            raise _err(
                f"{int(dup.sum())} duplicate answers ({what})",
                EVENT if EVENT in out.columns else TIMESTAMP,
                dup,
                "each answer once (pass drop_duplicates=True to drop and count them)",
                ctx,
            )
        report.duplicates_dropped = int(dup.sum())
        log.warning("dropped %d duplicate answers (%s)", dup.sum(), what)
        out = out.loc[~dup]

    # order: students by first appearance, each student's rows stably by time
    codes, _ = pd.factorize(out[STUDENT])
    first = np.full(codes.max() + 1 if len(codes) else 0, len(codes), dtype=np.int64)
    np.minimum.at(first, codes, np.arange(len(codes)))
    keys = [np.arange(len(out)), first[codes]]
    if TIMESTAMP in out.columns:
        t = out[TIMESTAMP].dt.tz_convert(None).to_numpy("datetime64[ns]").view(np.int64)
        t = np.where(out[TIMESTAMP].isna().to_numpy(), np.iinfo(np.int64).max, t)
        keys = [np.arange(len(out)), t, first[codes]]
    order = np.lexsort(keys)
    report.reordered = bool((order != np.arange(len(order))).any())
    out = out.iloc[order].reset_index(drop=True)

    cols = [c for c in CANONICAL_COLUMNS if c in out.columns]
    cols += [c for c in out.columns if c not in cols]
    out = out[cols]
    report.rows_out = len(out)
    report.students = int(out[STUDENT].nunique())
    report.items = int(out[ITEM].nunique())
    report.concepts = len({c for cs in set(out[CONCEPTS]) for c in cs})
    if return_report:
        return out, report
    return out

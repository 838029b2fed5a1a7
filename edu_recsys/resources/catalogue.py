"""The :class:`Catalogue` container and validation of its three tables.

Validation never drops a row silently: a bad row raises :class:`InvalidDataError`
naming the column, the rows (file lines when read from a file) and what was
expected. Rows may only be dropped on explicit request, and are then counted.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from pydantic import TypeAdapter, ValidationError

from edu_recsys.exceptions import InvalidDataError
from edu_recsys.resources.schema import (
    DEFAULT_MINUTES,
    DEFAULT_MINUTES_OTHER,
    RATING_COLUMNS,
    RESOURCE_COLUMNS,
    USAGE_COLUMNS,
    ResourceRow,
)

__all__ = [
    "Catalogue",
    "validate_resources",
    "validate_usage",
    "validate_ratings",
    "empty_resources",
    "as_catalogue",
    "default_minutes",
]

log = logging.getLogger(__name__)

_ROWS = TypeAdapter(list[ResourceRow])


def empty_resources() -> pd.DataFrame:
    """An empty resources table with the contract's columns and dtypes."""
    return _typed(pd.DataFrame({c: [] for c in RESOURCE_COLUMNS}))


def _typed(df: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame(
        {
            "resource_id": df["resource_id"].astype(str),
            "title": df["title"].astype(str),
            "type": df["type"].astype(str),
            "concept_ids": pd.Series(list(df["concept_ids"]), index=df.index, dtype=object),
            "grade": pd.array(df["grade"], dtype="Int64"),
            "subject": df["subject"].astype("str"),
            "minutes": pd.to_numeric(df["minutes"]).astype(float),
            "difficulty": pd.to_numeric(df["difficulty"]).astype(float),
            "source": df["source"].astype("str"),
            "is_quality": df["is_quality"].astype(bool),
        }
    )
    # missing subject/source stay missing, not the string "None"
    for c in ("subject", "source"):
        out[c] = out[c].where(df[c].notna().to_numpy(), None)
    return out.reset_index(drop=True)


def validate_resources(
    df: pd.DataFrame | Iterable[dict],
    *,
    source: str | None = None,
    line_offset: int | None = None,
) -> pd.DataFrame:
    """Return a clean, typed copy of a resources table or raise naming the problem.

    Every row is checked against :class:`~edu_recsys.resources.schema.ResourceRow`
    (pydantic); ``resource_id`` must be unique. Extra columns are kept after the
    contract's columns.

    Parameters
    ----------
    df : DataFrame or iterable of dict
        The resources; ``resource_id`` and ``type`` are required.
    source, line_offset : optional
        File name and the file line of row 0, for error messages.

    Raises
    ------
    InvalidDataError
        The first failing field, every row where it fails, and what was expected.

    Examples
    --------
    >>> raw = pd.DataFrame({"resource_id": ["v1", "e1"], "type": ["video", "exercise"],
    ...                     "concept_ids": ["a", "a;b"], "minutes": [8, None]})
    >>> validate_resources(raw)[["resource_id", "type", "concept_ids", "minutes"]]
      resource_id          type concept_ids  minutes
    0          v1         video        (a,)      8.0
    1          e1  exercise_set      (a, b)      NaN
    >>> validate_resources(raw.assign(minutes=[8, -1]))
    Traceback (most recent call last):
    ...
    edu_recsys.exceptions.InvalidDataError: column 'minutes': Input should be greater than 0; \
expected a positive number of minutes (rows 1)
    """
    if not isinstance(df, pd.DataFrame):
        df = pd.DataFrame(list(df))
    if len(df.columns) == 0 and len(df) == 0:
        return empty_resources()
    df = df.copy()
    df.columns = [str(c) for c in df.columns]
    for col in ("resource_id", "type"):
        if col not in df.columns:
            raise InvalidDataError(
                f"missing required column; columns present: {list(df.columns)[:20]}",
                column=col,
                expected="a column of that name",
                source=source,
            )
    records = df.to_dict(orient="records")
    try:
        rows = _ROWS.validate_python(records)
    except ValidationError as e:
        raise _first_error(e, source, line_offset) from None
    out = pd.DataFrame([r.model_dump() for r in rows], columns=list(RESOURCE_COLUMNS))
    if len(out) == 0:
        out = empty_resources()
    out = _typed(out)
    dup = out["resource_id"].duplicated(keep=False).to_numpy()
    if dup.any():
        raise InvalidDataError(
            f"duplicate resource ids such as {out['resource_id'][dup].iloc[0]!r}",
            column="resource_id",
            rows=np.flatnonzero(dup),
            expected="one row per resource",
            source=source,
            line_offset=line_offset,
        )
    extra = [c for c in df.columns if c not in RESOURCE_COLUMNS]
    for c in extra:
        out[c] = df[c].to_numpy()
    n_empty = int((out["concept_ids"].map(len) == 0).sum())
    if n_empty:
        log.warning("%d resource(s) teach no concept: they are kept but never candidates", n_empty)
    return out


_EXPECTED = {
    "resource_id": "a non-empty id",
    "type": "a type such as video, exercise_set, reading, courseware",
    "grade": "an integer grade 1..12 or empty",
    "minutes": "a positive number of minutes",
    "difficulty": "a number in [0, 1] (0.5 = typical) or empty",
    "is_quality": "true/false, 1/0 or 是/否",
    "concept_ids": "concept ids separated by ';'",
}


def _first_error(e: ValidationError, source: str | None, line_offset: int | None):
    errs = e.errors()
    field_name = str(errs[0]["loc"][1]) if len(errs[0]["loc"]) > 1 else None
    rows = sorted(
        {int(x["loc"][0]) for x in errs if len(x["loc"]) > 1 and str(x["loc"][1]) == field_name}
    )
    msg = errs[0]["msg"]
    return InvalidDataError(
        msg,
        column=field_name,
        rows=rows,
        expected=_EXPECTED.get(field_name or ""),
        source=source,
        line_offset=line_offset,
    )


def _ids(s: pd.Series, col: str, source, line_offset) -> pd.Series:
    bad = s.isna().to_numpy() | (s.astype(str).str.strip() == "").to_numpy()
    if bad.any():
        raise InvalidDataError(
            "missing ids",
            column=col,
            rows=np.flatnonzero(bad),
            expected="a non-empty id on every row",
            source=source,
            line_offset=line_offset,
        )
    num = pd.api.types.is_float_dtype(s)
    out = s.map(lambda v: str(int(v)) if num and float(v).is_integer() else str(v).strip())
    return out.astype(str)


def _timestamps(s: pd.Series, source, line_offset) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(s):
        return s.dt.tz_localize("UTC") if s.dt.tz is None else s.dt.tz_convert("UTC")
    if pd.api.types.is_numeric_dtype(s):
        # Unix time: seconds or milliseconds (EdNet) by magnitude
        unit = "ms" if s.abs().max() > 1e11 else "s"
        return pd.to_datetime(s, unit=unit, utc=True)
    ts = pd.to_datetime(s, utc=True, errors="coerce", format="mixed")
    bad = ts.isna().to_numpy() & s.notna().to_numpy()
    if bad.any():
        raise InvalidDataError(
            f"unparseable timestamps such as {s[bad].tolist()[0]!r}",
            column="timestamp",
            rows=np.flatnonzero(bad),
            expected="ISO 8601 dates/times or Unix time",
            source=source,
            line_offset=line_offset,
        )
    return ts


def _numeric(df, col, lo, hi, what, source, line_offset, *, required=False) -> pd.Series:
    v = pd.to_numeric(df[col], errors="coerce").astype(float)
    bad = (v.isna() & df[col].notna()).to_numpy() | ((v < lo) | (v > hi)).to_numpy()
    if required:
        bad |= v.isna().to_numpy()
    if bad.any():
        raise InvalidDataError(
            f"values out of range or not numbers, such as {df[col][bad].tolist()[0]!r}",
            column=col,
            rows=np.flatnonzero(bad),
            expected=what,
            source=source,
            line_offset=line_offset,
        )
    return v


def _require(df: pd.DataFrame, cols, source) -> None:
    for col in cols:
        if col not in df.columns:
            raise InvalidDataError(
                f"missing required column; columns present: {list(df.columns)[:20]}",
                column=col,
                expected="a column of that name",
                source=source,
            )


def validate_usage(
    df: pd.DataFrame | None,
    *,
    source: str | None = None,
    line_offset: int | None = None,
) -> pd.DataFrame:
    """Clean, typed copy of a usage log (vectorised; logs can be large).

    ``completed`` accepts 0/1/true/false; ``progress`` in [0, 1] (when ``completed``
    is absent, ``progress >= 0.9`` counts as completed). Rows are sorted by student
    and time (stable) when timestamps exist.

    Examples
    --------
    >>> u = validate_usage(pd.DataFrame({"student_id": [1, 2], "resource_id": ["v1", "v1"],
    ...                                  "progress": [1.0, 0.3]}))
    >>> u["completed"].tolist()
    [1.0, 0.0]
    """
    if df is None:
        return pd.DataFrame(
            {"student_id": pd.Series([], dtype=str), "resource_id": pd.Series([], dtype=str)}
        )
    df = df.copy()
    df.columns = [str(c) for c in df.columns]
    _require(df, ("student_id", "resource_id"), source)
    out = pd.DataFrame(index=df.index)
    out["student_id"] = _ids(df["student_id"], "student_id", source, line_offset)
    out["resource_id"] = _ids(df["resource_id"], "resource_id", source, line_offset)
    if "timestamp" in df.columns:
        out["timestamp"] = _timestamps(df["timestamp"], source, line_offset)
    if "minutes" in df.columns:
        out["minutes"] = _numeric(
            df, "minutes", 0, 24 * 60, "minutes >= 0 or empty", source, line_offset
        )
    if "progress" in df.columns:
        out["progress"] = _numeric(df, "progress", 0, 1, "a share in [0, 1]", source, line_offset)
    if "completed" in df.columns:
        c = df["completed"]
        if c.dtype == object or pd.api.types.is_string_dtype(c):
            c = c.map(
                lambda v: (
                    {"true": 1, "false": 0, "yes": 1, "no": 0, "是": 1, "否": 0}.get(
                        str(v).strip().lower(), v
                    )
                    if isinstance(v, str)
                    else v
                )
            )
        out["completed"] = _numeric(
            pd.DataFrame({"completed": c}), "completed", 0, 1, "0 or 1", source, line_offset
        )
        frac = out["completed"].dropna()
        if ((frac != 0) & (frac != 1)).any():
            bad = np.flatnonzero(((out["completed"] != 0) & (out["completed"] != 1)).to_numpy())
            bad = [b for b in bad if not np.isnan(out["completed"].iloc[b])]
            raise InvalidDataError(
                "non-binary completion flags",
                column="completed",
                rows=bad,
                expected="0 or 1 (use 'progress' for shares)",
                source=source,
                line_offset=line_offset,
            )
    elif "progress" in out.columns:
        out["completed"] = (out["progress"] >= 0.9).astype(float).where(out["progress"].notna())
    for c in df.columns:
        if c not in USAGE_COLUMNS:
            out[c] = df[c].to_numpy()
    if "timestamp" in out.columns:
        out = out.sort_values(["student_id", "timestamp"], kind="stable")
    return out.reset_index(drop=True)


def validate_ratings(
    df: pd.DataFrame | None,
    *,
    source: str | None = None,
    line_offset: int | None = None,
) -> pd.DataFrame:
    """Clean, typed copy of a ratings table (``rating`` in 1..5).

    Examples
    --------
    >>> validate_ratings(pd.DataFrame({"student_id": ["s"], "resource_id": ["v1"],
    ...                                "rating": [7]}))
    Traceback (most recent call last):
    ...
    edu_recsys.exceptions.InvalidDataError: column 'rating': values out of range or not \
numbers, such as 7; expected a rating from 1 to 5 (rows 0)
    """
    if df is None:
        return pd.DataFrame(
            {
                "student_id": pd.Series([], dtype=str),
                "resource_id": pd.Series([], dtype=str),
                "rating": pd.Series([], dtype=float),
            }
        )
    df = df.copy()
    df.columns = [str(c) for c in df.columns]
    _require(df, ("student_id", "resource_id", "rating"), source)
    out = pd.DataFrame(index=df.index)
    out["student_id"] = _ids(df["student_id"], "student_id", source, line_offset)
    out["resource_id"] = _ids(df["resource_id"], "resource_id", source, line_offset)
    out["rating"] = _numeric(
        df, "rating", 1, 5, "a rating from 1 to 5", source, line_offset, required=True
    )
    if "timestamp" in df.columns:
        out["timestamp"] = _timestamps(df["timestamp"], source, line_offset)
    for c in df.columns:
        if c not in RATING_COLUMNS:
            out[c] = df[c].to_numpy()
    return out.reset_index(drop=True)


def default_minutes(resources: pd.DataFrame) -> np.ndarray:
    """Minutes per resource, with the documented per-type default where missing.

    Examples
    --------
    >>> df = validate_resources([{"resource_id": "a", "type": "video"},
    ...                          {"resource_id": "b", "type": "reading", "minutes": 4}])
    >>> default_minutes(df).tolist()
    [8.0, 4.0]
    """
    m = resources["minutes"].to_numpy(dtype=float, na_value=np.nan)
    fill = resources["type"].map(DEFAULT_MINUTES).fillna(DEFAULT_MINUTES_OTHER).to_numpy(float)
    return np.where(np.isnan(m), fill, m)


@dataclass
class Catalogue:
    """Resources plus their usage and rating records.

    Build it with :func:`as_catalogue` (which validates) or the readers in
    :mod:`edu_recsys.resources.io`. ``provenance`` says where it came from and any
    documented defaults applied; ``truth`` holds hidden ground truth for synthetic
    catalogues (never read by the recommender).
    """

    resources: pd.DataFrame
    usage: pd.DataFrame = field(default_factory=lambda: validate_usage(None))
    ratings: pd.DataFrame = field(default_factory=lambda: validate_ratings(None))
    provenance: dict = field(default_factory=dict)
    truth: pd.DataFrame | None = None

    def __len__(self) -> int:
        return len(self.resources)

    @property
    def resource_ids(self) -> list[str]:
        return self.resources["resource_id"].tolist()

    def concepts(self) -> list[str]:
        """Every concept taught by some resource, in order of first appearance."""
        seen: dict[str, None] = {}
        for t in self.resources["concept_ids"]:
            for c in t:
                seen.setdefault(c, None)
        return list(seen)

    def unknown_resource_rows(self) -> dict[str, int]:
        """Usage/rating rows that name a resource missing from ``resources``."""
        known = set(self.resources["resource_id"])
        return {
            "usage": int((~self.usage["resource_id"].isin(known)).sum()),
            "ratings": int((~self.ratings["resource_id"].isin(known)).sum()),
        }


def as_catalogue(
    resources: pd.DataFrame | Catalogue | Iterable[dict],
    usage: pd.DataFrame | None = None,
    ratings: pd.DataFrame | None = None,
    *,
    on_unknown: str = "raise",
) -> Catalogue:
    """Validate and bundle the three tables.

    Parameters
    ----------
    on_unknown : {"raise", "drop"}
        What to do with usage/rating rows naming a resource not in the catalogue:
        raise (default, naming the rows) or drop them, counting the drops in
        ``provenance["dropped"]``.

    Examples
    --------
    >>> cat = as_catalogue([{"resource_id": "v1", "type": "video", "concept_ids": "a"}],
    ...                    usage=pd.DataFrame({"student_id": ["s1"], "resource_id": ["zz"]}),
    ...                    on_unknown="drop")
    >>> len(cat), len(cat.usage), cat.provenance["dropped"]
    (1, 0, {'usage': 1, 'ratings': 0})
    """
    if isinstance(resources, Catalogue):
        if usage is None and ratings is None:
            return resources
        base = resources
        resources = base.resources
        usage = base.usage if usage is None else usage
        ratings = base.ratings if ratings is None else ratings
    res = validate_resources(resources)
    us = validate_usage(usage)
    ra = validate_ratings(ratings)
    cat = Catalogue(res, us, ra)
    unknown = cat.unknown_resource_rows()
    if any(unknown.values()):
        if on_unknown == "raise":
            known = set(res["resource_id"])
            for name, tab in (("usage", us), ("ratings", ra)):
                bad = np.flatnonzero(~tab["resource_id"].isin(known).to_numpy())
                if len(bad):
                    raise InvalidDataError(
                        f"{name} rows name resources missing from the catalogue, such as "
                        f"{tab['resource_id'].iloc[bad[0]]!r}",
                        column="resource_id",
                        rows=bad,
                        expected="ids present in the resources table (or on_unknown='drop')",
                        source=name,
                    )
        if on_unknown != "drop":
            raise ValueError("on_unknown must be 'raise' or 'drop'")
        known = set(res["resource_id"])
        cat.usage = us[us["resource_id"].isin(known)].reset_index(drop=True)
        cat.ratings = ra[ra["resource_id"].isin(known)].reset_index(drop=True)
        log.warning("dropped rows naming unknown resources: %s", unknown)
    cat.provenance["dropped"] = unknown if any(unknown.values()) else {"usage": 0, "ratings": 0}
    return cat

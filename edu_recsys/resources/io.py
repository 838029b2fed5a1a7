"""Reading and writing catalogues: CSV / TSV / Parquet / JSON / JSON Lines.

Formats
-------
- **CSV/TSV/Parquet**: one table per file, columns as in
  :mod:`edu_recsys.resources.schema`; ``concept_ids`` separated by ``;`` in text files.
- **JSON**: a list of resource objects, or one object
  ``{"resources": [...], "usage": [...], "ratings": [...]}`` (usage/ratings optional);
  ``concept_ids`` may be a list or a ``;``-separated string.
- **JSON Lines** (``.jsonl``): one resource object per line.
- **A folder** holding ``resources.*`` and optionally ``usage.*`` and ``ratings.*``.

Errors name the file and the file line (text tables) or the list position (JSON).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd

from edu_recsys.data.readers import read_table
from edu_recsys.exceptions import InvalidDataError
from edu_recsys.resources.catalogue import (
    Catalogue,
    as_catalogue,
    validate_ratings,
    validate_resources,
    validate_usage,
)

__all__ = ["read_resources", "read_usage", "read_ratings", "read_catalogue", "write_catalogue"]

_TABLE_SUFFIXES = (".csv", ".tsv", ".txt", ".parquet", ".pq", ".gz")


def _suffixes(p: Path) -> list[str]:
    return [s.lower() for s in p.suffixes]


def _is_json(p: Path) -> bool:
    s = _suffixes(p)
    return bool(s) and s[0] in (".json", ".jsonl")


def _read_json(p: Path) -> object:
    try:
        if ".jsonl" in _suffixes(p):
            with p.open(encoding="utf-8-sig") as fh:
                return [json.loads(line) for line in fh if line.strip()]
        return json.loads(p.read_text(encoding="utf-8-sig"))
    except json.JSONDecodeError as e:
        raise InvalidDataError(f"invalid JSON at line {e.lineno}: {e.msg}", source=str(p)) from e


def _table(path: str | os.PathLike, key: str) -> tuple[pd.DataFrame, dict]:
    """Read one table; returns the frame and the error context."""
    p = Path(path)
    if not p.exists():
        raise InvalidDataError("file not found", source=str(p))
    if _is_json(p):
        obj = _read_json(p)
        if isinstance(obj, dict):
            if key not in obj:
                raise InvalidDataError(
                    f"JSON object has no {key!r} list (keys: {list(obj)[:10]})", source=str(p)
                )
            obj = obj[key]
        if not isinstance(obj, list) or not all(isinstance(r, dict) for r in obj):
            raise InvalidDataError(f"expected a list of {key} objects", source=str(p))
        return pd.DataFrame(obj), {"source": f"{p} [{key}]", "line_offset": None}
    # text tables: keep ids as strings (leading zeros matter)
    text = not any(s in (".parquet", ".pq") for s in _suffixes(p))
    kw = {"dtype": {"resource_id": str, "student_id": str}, "keep_default_na": True} if text else {}
    df = read_table(p, **kw)
    return df, {"source": str(p), "line_offset": 2 if text else None}


def read_resources(path: str | os.PathLike) -> pd.DataFrame:
    """Read and validate a resources table (see the module docstring for formats).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "res.csv").write_text("resource_id,type,concept_ids,minutes\\n"
    ...                                "v1,video,a;b,8\\nv2,video,a,-3\\n")
    >>> read_resources(d / "res.csv")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    edu_recsys.exceptions.InvalidDataError: .../res.csv: column 'minutes': ... (file lines 3)
    """
    df, ctx = _table(path, "resources")
    return validate_resources(df, **ctx)


def read_usage(path: str | os.PathLike) -> pd.DataFrame:
    """Read and validate a usage log (``student_id, resource_id[, timestamp, ...]``)."""
    df, ctx = _table(path, "usage")
    return validate_usage(df, **ctx)


def read_ratings(path: str | os.PathLike) -> pd.DataFrame:
    """Read and validate a ratings table (``student_id, resource_id, rating``)."""
    df, ctx = _table(path, "ratings")
    return validate_ratings(df, **ctx)


def _find(folder: Path, stem: str) -> Path | None:
    for p in sorted(folder.iterdir()):
        if p.name.split(".")[0] == stem and p.is_file():
            return p
    return None


def read_catalogue(
    path: str | os.PathLike,
    usage: str | os.PathLike | None = None,
    ratings: str | os.PathLike | None = None,
    *,
    on_unknown: str = "raise",
) -> Catalogue:
    """Read a whole catalogue: a folder, a combined JSON file, or a resources file.

    Parameters
    ----------
    path : path
        A folder with ``resources.*`` (+ optional ``usage.*``, ``ratings.*``), a JSON
        object with those keys, or a single resources table.
    usage, ratings : path, optional
        Separate files for the records (override the ones found with ``path``).
    on_unknown : {"raise", "drop"}
        Records naming resources absent from the catalogue (see :func:`as_catalogue`).
    """
    p = Path(path)
    if not p.exists():
        raise InvalidDataError("file or folder not found", source=str(p))
    res_df = us_df = ra_df = None
    if p.is_dir():
        rp = _find(p, "resources")
        if rp is None:
            raise InvalidDataError("folder has no resources.csv/.json/.parquet", source=str(p))
        res_df = read_resources(rp)
        up, rtp = _find(p, "usage"), _find(p, "ratings")
        us_df = read_usage(up) if up else None
        ra_df = read_ratings(rtp) if rtp else None
    elif _is_json(p) and isinstance(obj := _read_json(p), dict):
        res_df = validate_resources(pd.DataFrame(obj.get("resources", [])), source=f"{p}")
        if "usage" in obj:
            us_df = validate_usage(pd.DataFrame(obj["usage"]), source=f"{p} [usage]")
        if "ratings" in obj:
            ra_df = validate_ratings(pd.DataFrame(obj["ratings"]), source=f"{p} [ratings]")
    else:
        res_df = read_resources(p)
    if usage is not None:
        us_df = read_usage(usage)
    if ratings is not None:
        ra_df = read_ratings(ratings)
    cat = as_catalogue(res_df, us_df, ra_df, on_unknown=on_unknown)
    cat.provenance["path"] = str(p)
    return cat


def write_catalogue(catalogue: Catalogue, folder: str | os.PathLike) -> Path:
    """Write ``resources.csv`` (+ ``usage.csv``, ``ratings.csv`` when non-empty).

    ``concept_ids`` are joined with ``;``. Reading the folder back with
    :func:`read_catalogue` gives the same tables.
    """
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    res = catalogue.resources.copy()
    res["concept_ids"] = res["concept_ids"].map(";".join)
    res.to_csv(out / "resources.csv", index=False)
    if len(catalogue.usage):
        catalogue.usage.to_csv(out / "usage.csv", index=False)
    if len(catalogue.ratings):
        catalogue.ratings.to_csv(out / "ratings.csv", index=False)
    return out

"""Partitioned interaction logs on local disk or any fsspec URL, read as Dask frames.

Every history feature depends only on one student's earlier answers, so the scale
drivers work on logs **partitioned by student**: each partition holds whole students,
each student's rows in time order. Such a dataset is a folder of Parquet part files
plus a manifest (``_manifest.json``) that says so:

.. code-block:: json

    {"format": "edu-recsys/partitioned-log/1", "partitioned_by": "student_id",
     "complete": true, "rows": 2000000, "students": 20000,
     "files": [{"path": "part-00000.parquet", "rows": 500123, "students": 5000}, ...]}

A folder without a manifest is either not partitioned by student (any Parquet or CSV
dataset: read it with :func:`read_log`, then :func:`partition_by_student`) or not
finished; :func:`write_log` writes the part files to a temporary folder and publishes
the folder with its manifest only once every part is written, so a reader never takes
a partial output for a complete one.

In memory, the columns are those of :mod:`edu_recsys.data.schema` (``concept_ids`` a
tuple of str). In Parquet, ``concept_ids`` is a ``list<string>`` column; a string
column with separators (``a~~b``, ``a;b``) is read too.
"""

from __future__ import annotations

import json
import logging
import posixpath
import time
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import dask.dataframe as dd
import fsspec
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from edu_recsys.data.readers import infer_columns
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
from edu_recsys.data.validate import parse_concepts
from edu_recsys.exceptions import InvalidDataError
from edu_recsys.scale.errors import (
    IncompleteDatasetError,
    OutputExistsError,
    PartitioningError,
)

__all__ = [
    "MANIFEST",
    "LOG_FORMAT",
    "read_log",
    "read_manifest",
    "write_log",
    "write_parquet_dataset",
    "partition_by_student",
    "check_student_partitions",
    "is_partitioned_by_student",
    "canonical_partition",
    "from_pandas",
    "concepts_to_arrow",
    "concepts_from_arrow",
    "frame_to_arrow",
]

log = logging.getLogger(__name__)

MANIFEST = "_manifest.json"
LOG_FORMAT = "edu-recsys/partitioned-log/1"
_SEP = "\x1f"  # joins concept ids inside Arrow; never part of an id
_SEQ = "_seq"  # global row order, kept through the shuffle to order ties
_PARQUET_SUFFIXES = (".parquet", ".parq", ".pq")
_CSV_SUFFIXES = (".csv", ".tsv", ".csv.gz", ".tsv.gz", ".txt")


# --------------------------------------------------------------------------- arrow


def _parse_unique(values: list, sep: str | None) -> list[tuple[str, ...]]:
    """Distinct concept strings -> tuples; also undoes Dask's ``str(tuple)``.

    ``dask.dataframe`` turns object columns into strings, so a tuple ``("a", "b")``
    may arrive as the text ``"('a', 'b')"``.
    """
    import ast

    out: list = [None] * len(values)
    rest = []
    for i, v in enumerate(values):
        if isinstance(v, str) and len(v) >= 2 and v[0] in "([" and v[-1] in ")]":
            try:
                lit = ast.literal_eval(v)
            except (ValueError, SyntaxError):
                lit = None
            if isinstance(lit, (tuple, list)):
                out[i] = tuple(str(c) for c in lit)
                continue
        rest.append(i)
    if rest:
        parsed = parse_concepts([values[i] for i in rest], sep)
        for i, t in zip(rest, parsed):
            out[i] = t
    return out


def concepts_from_arrow(arr: pa.Array | pa.ChunkedArray, sep: str | None = None) -> np.ndarray:
    """An object array of concept tuples from an Arrow list or string column.

    Vectorised: only the distinct values are parsed in Python.

    Examples
    --------
    >>> concepts_from_arrow(pa.array([["a", "b"], [], None, ["a", "b"]])).tolist()
    [('a', 'b'), (), (), ('a', 'b')]
    >>> concepts_from_arrow(pa.array(["a~~b", "c", None])).tolist()
    [('a', 'b'), ('c',), ()]
    """
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    typ = arr.type
    if pa.types.is_dictionary(typ):
        arr = arr.cast(typ.value_type)
        typ = arr.type
    if pa.types.is_list(typ) or pa.types.is_large_list(typ):
        values = arr.values.cast(pa.string()) if not pa.types.is_string(typ.value_type) else None
        if values is not None:
            arr = type(arr).from_arrays(arr.offsets, values)
        joined = pc.binary_join(arr, _SEP)
        enc = pc.fill_null(joined, "").dictionary_encode()
        uniq = [tuple(u.split(_SEP)) if u else () for u in enc.dictionary.to_pylist()]
    else:
        enc = pc.fill_null(arr.cast(pa.string()), "").dictionary_encode()
        uniq = _parse_unique(enc.dictionary.to_pylist(), sep)
    table = np.empty(len(uniq), dtype=object)
    for i, t in enumerate(uniq):
        table[i] = tuple(t)
    idx = enc.indices.to_numpy(zero_copy_only=False)
    return table[idx] if len(idx) else np.empty(0, dtype=object)


def _joined_from_arrow(arr: pa.Array | pa.ChunkedArray, sep: str | None) -> pa.Array:
    """Concepts as ``\x1f``-joined strings, straight from Arrow (lists or strings)."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if pa.types.is_dictionary(arr.type):
        arr = arr.cast(arr.type.value_type)
    if pa.types.is_list(arr.type) or pa.types.is_large_list(arr.type):
        return pc.fill_null(pc.binary_join(arr, _SEP), "")
    # separated strings: parse the distinct values only
    enc = pc.fill_null(arr.cast(pa.string()), "").dictionary_encode()
    uniq = _parse_unique(enc.dictionary.to_pylist(), sep)
    return pa.array([_SEP.join(t) for t in uniq], pa.string()).take(enc.indices)


def concepts_to_arrow(values: pd.Series | np.ndarray | Sequence) -> pa.Array:
    """A ``list<string>`` Arrow array from a column of concept tuples (vectorised).

    Examples
    --------
    >>> concepts_to_arrow(pd.Series([("a", "b"), (), ("a", "b")], dtype=object)).to_pylist()
    [['a', 'b'], [], ['a', 'b']]
    """
    obj = pd.Series(np.asarray(values, dtype=object), dtype=object)
    codes, uniq = pd.factorize(obj, use_na_sentinel=True)
    uniq_list = [list(u) if isinstance(u, (tuple, list)) else [str(u)] for u in uniq]
    dictionary = pa.array(uniq_list, type=pa.list_(pa.string()))
    if (codes < 0).any():  # missing -> empty tuple
        dictionary = pa.concat_arrays([dictionary, pa.array([[]], type=pa.list_(pa.string()))])
        codes = np.where(codes < 0, len(uniq_list), codes)
    return dictionary.take(pa.array(codes, type=pa.int32()))


def frame_to_arrow(df: pd.DataFrame) -> pa.Table:
    """An Arrow table of a canonical (or any) frame; concept tuples become lists."""
    cols = {}
    for c in df.columns:
        s = df[c]
        if c == CONCEPTS or (s.dtype == object and len(s) and isinstance(s.iloc[0], tuple)):
            cols[str(c)] = concepts_to_arrow(s)
        else:
            cols[str(c)] = pa.array(s, from_pandas=True)
    return pa.table(cols)


# ------------------------------------------------------------------- canonical frames


def canonical_partition(
    df: pd.DataFrame | pa.Table,
    columns: Mapping[str, str] | None = None,
    *,
    concept_sep: str | None = None,
    source: str | None = None,
    joined_concepts: bool = False,
) -> pd.DataFrame:
    """Type one partition of a raw log into the canonical columns (vectorised).

    Column names are inferred as in :func:`edu_recsys.data.read_interactions` (and can
    be given with ``columns``). Unlike :func:`~edu_recsys.data.validate_interactions`,
    rows are not reordered: the partitioning step orders them. With
    ``joined_concepts`` (Arrow input only), ``concept_ids`` is left as ``\x1f``-joined
    strings: Dask's IO layer turns object columns into strings, so tuples are made
    after it.

    Raises
    ------
    InvalidDataError
        Missing required columns, missing ids, non-binary ``correct``.
    """
    table = df if isinstance(df, pa.Table) else None
    names = table.column_names if table is not None else [str(c) for c in df.columns]
    mapping = infer_columns(names, columns)
    for need in (STUDENT, ITEM, CONCEPTS, CORRECT):
        if need not in mapping:
            raise InvalidDataError(
                f"missing required column; columns present: {names[:20]}",
                column=need,
                expected="a column of that name (or a columns={...} mapping)",
                source=source,
            )
    out: dict[str, Any] = {}
    for canon, src in mapping.items():
        if table is not None:
            col = table.column(src)
            if canon == CONCEPTS:
                if joined_concepts:
                    out[canon] = _joined_from_arrow(col, concept_sep).to_pandas()
                else:
                    out[canon] = concepts_from_arrow(col, concept_sep)
                continue
            out[canon] = col.to_pandas()
        else:
            col = df[src]
            if canon == CONCEPTS:
                if col.dtype == object and len(col) and isinstance(col.iloc[0], tuple):
                    out[canon] = col.to_numpy()
                else:
                    out[canon] = concepts_from_arrow(
                        pa.array(col.to_numpy(dtype=object), from_pandas=True), concept_sep
                    )
                continue
            out[canon] = col.reset_index(drop=True)
    res = pd.DataFrame(
        {k: (v.reset_index(drop=True) if isinstance(v, pd.Series) else v) for k, v in out.items()}
    )
    for col in (STUDENT, ITEM):
        s = res[col]
        if pd.api.types.is_float_dtype(s.dtype):  # ids read as floats: 12.0 -> "12"
            s = s.astype("Int64")
        bad = np.asarray(s.isna(), dtype=bool)
        s = s.astype("str")
        bad = bad | np.asarray(s == "", dtype=bool)
        if bad.any():
            raise InvalidDataError(
                "missing or empty ids", column=col, rows=np.flatnonzero(bad), source=source
            )
        res[col] = s
    c = res[CORRECT]
    if pd.api.types.is_bool_dtype(c.dtype):
        res[CORRECT] = c.astype(np.int8)
    else:
        v = pd.to_numeric(c, errors="coerce").to_numpy(dtype=float)
        bad = ~np.isin(v, (0.0, 1.0))
        if bad.any():
            raise InvalidDataError(
                "non-binary values",
                column=CORRECT,
                rows=np.flatnonzero(bad),
                expected="0 or 1",
                source=source,
            )
        res[CORRECT] = v.astype(np.int8)
    if TIMESTAMP in res.columns:
        ts = res[TIMESTAMP]
        if pd.api.types.is_datetime64_any_dtype(ts.dtype):
            ts = ts.dt.tz_localize("UTC") if ts.dt.tz is None else ts.dt.tz_convert("UTC")
        elif pd.api.types.is_numeric_dtype(ts.dtype):
            unit = "ms" if np.nanmedian(np.abs(ts.to_numpy(dtype=float))) > 1e11 else "s"
            ts = pd.to_datetime(ts, unit=unit, utc=True)
        else:
            ts = pd.to_datetime(ts, utc=True, format="mixed")
        res[TIMESTAMP] = ts.astype("datetime64[ns, UTC]")
    for col in (DURATION, SCORE):
        if col in res.columns:
            res[col] = pd.to_numeric(res[col], errors="coerce").astype(float)
    if FOLD in res.columns:
        res[FOLD] = pd.to_numeric(res[FOLD], errors="coerce").astype(np.int8)
    for col in (RESOURCE, EVENT):
        if col in res.columns:
            res[col] = res[col].astype("str")
    return res


# --------------------------------------------------------------------- files, manifest


def _fs(urlpath: str, storage_options: Mapping[str, Any] | None):
    fs, root = fsspec.core.url_to_fs(str(urlpath), **dict(storage_options or {}))
    return fs, root.rstrip("/") or root


def read_manifest(urlpath: str, storage_options: Mapping[str, Any] | None = None) -> dict | None:
    """The manifest of a dataset folder, or ``None`` when it has none.

    Raises
    ------
    IncompleteDatasetError
        The manifest exists but does not say the dataset is complete.
    """
    fs, root = _fs(urlpath, storage_options)
    path = posixpath.join(root, MANIFEST)
    if not fs.exists(path):
        return None
    with fs.open(path, "r") as fh:
        man = json.load(fh)
    if not man.get("complete"):
        raise IncompleteDatasetError(f"{urlpath}: the manifest does not mark it complete")
    return man


def _list_files(fs, root: str, fmt: str | None) -> tuple[list[str], str]:
    if fs.isfile(root):
        files = [root]
    else:
        files = sorted(
            p
            for p in fs.find(root)
            if not posixpath.basename(p).startswith(("_", "."))
            and (fmt is not None or p.lower().endswith(_PARQUET_SUFFIXES + _CSV_SUFFIXES))
        )
    if not files:
        raise InvalidDataError("no data files found", source=root)
    if fmt is None:
        fmt = "parquet" if files[0].lower().endswith(_PARQUET_SUFFIXES) else "csv"
    return files, fmt


def _read_parquet_file(
    path: str,
    *,
    fs,
    columns: Mapping[str, str] | None,
    concept_sep: str | None,
    file_index: int,
) -> pd.DataFrame:
    table = pq.read_table(path, filesystem=fs)
    df = canonical_partition(
        table, columns, concept_sep=concept_sep, source=path, joined_concepts=True
    )
    df[_SEQ] = (np.int64(file_index) << 36) + np.arange(len(df), dtype=np.int64)
    return df


class _FileReader:
    """Picklable per-file reader for :func:`dask.dataframe.from_map`."""

    def __init__(self, fs, columns, concept_sep):
        self.fs, self.columns, self.concept_sep = fs, columns, concept_sep

    def __call__(self, indexed: tuple[int, str]) -> pd.DataFrame:
        i, path = indexed
        return _read_parquet_file(
            path, fs=self.fs, columns=self.columns, concept_sep=self.concept_sep, file_index=i
        )


class _Canonical:
    """Picklable :func:`canonical_partition` for ``map_partitions``."""

    def __init__(self, columns, concept_sep):
        self.columns, self.concept_sep = columns, concept_sep

    def __call__(self, df: pd.DataFrame) -> pd.DataFrame:
        return canonical_partition(df, self.columns, concept_sep=self.concept_sep)


def read_log(
    urlpath: str,
    *,
    columns: Mapping[str, str] | None = None,
    format: str | None = None,
    concept_sep: str | None = None,
    storage_options: Mapping[str, Any] | None = None,
    blocksize: str | int | None = "128MiB",
    max_files: int | None = None,
) -> dd.DataFrame:
    """Read a log folder (or file) on local disk or any fsspec URL as a Dask frame.

    Parameters
    ----------
    urlpath : str
        A folder or file (``s3://``, ``gs://``, ``hdfs://``, ``memory://``, local
        paths, ...) of Parquet (``.parquet``) or CSV (``.csv``, ``.csv.gz``) files.
    columns : mapping, optional
        canonical -> source column names (the rest is inferred as in
        :func:`edu_recsys.data.read_interactions`).
    format : {"parquet", "csv"}, optional
        Forced format (default: from the file suffix).
    concept_sep : str, optional
        Separator of string concept annotations (auto-detected).
    storage_options : mapping, optional
        Passed to fsspec (credentials, endpoint, ...).
    blocksize : str or int, optional
        Partition size for inputs that are not partitioned by student (Dask's
        ``read_parquet``/``read_csv``; compressed CSV is read one file per partition).
    max_files : int, optional
        Read only the first files of a partitioned dataset (slices for benchmarks).

    Returns
    -------
    dask.dataframe.DataFrame
        The canonical columns. When the folder carries a manifest with
        ``partitioned_by == "student_id"`` (written by :func:`write_log` or
        :mod:`edu_recsys.scale.simlog`) there is one partition per file, each
        holding whole students in time order, plus ``_seq`` (input order); otherwise
        pass the frame to :func:`partition_by_student` before computing features.

    Raises
    ------
    IncompleteDatasetError
        The folder has a manifest that is not complete, or misses listed files.
    InvalidDataError
        No data files, missing required columns.
    """
    fs, root = _fs(urlpath, storage_options)
    man = read_manifest(urlpath, storage_options) if fs.isdir(root) else None
    if is_partitioned_by_student(man):
        files = [posixpath.join(root, f["path"]) for f in man["files"]]
        if max_files is not None:
            files = files[:max_files]
        missing = [f for f in files if not fs.exists(f)]
        if missing:
            raise IncompleteDatasetError(
                f"{urlpath}: {len(missing)} files listed in the manifest are missing, "
                f"e.g. {missing[:3]}"
            )
        reader = _FileReader(fs, columns, concept_sep)
        meta = reader((0, files[0])).iloc[:0]
        joined = dd.from_map(
            reader, list(enumerate(files)), meta=meta, label="read-log", enforce_metadata=False
        )
        return joined.map_partitions(
            _restore_concepts, meta=meta.assign(**{CONCEPTS: pd.Series([], dtype=object)})
        )
    files, fmt = _list_files(fs, root, format)
    if max_files is not None:
        files = files[:max_files]
    proto = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
    urls = [f if proto in ("file", "local") else f"{proto}://{f}" for f in files]
    so = dict(storage_options or {})
    if fmt == "parquet":
        raw = dd.read_parquet(urls, storage_options=so or None, blocksize=blocksize)
    else:
        compressed = any(f.endswith((".gz", ".bz2", ".xz", ".zip")) for f in files)
        raw = dd.read_csv(
            urls,
            dtype=str,
            blocksize=None if compressed else blocksize,
            storage_options=so or None,
            keep_default_na=True,
        )
    fn = _Canonical(columns, concept_sep)
    meta = fn(raw._meta).iloc[:0]
    return raw.map_partitions(fn, meta=meta)


# ------------------------------------------------------------------------ partitioning


def _sort_students(df: pd.DataFrame, group: str | None = None) -> pd.DataFrame:
    """Rows ordered by [group,] student, then time, then input order (deterministic)."""
    if not len(df):
        return df.reset_index(drop=True)
    keys = [df[_SEQ].to_numpy()] if _SEQ in df.columns else [np.arange(len(df))]
    if TIMESTAMP in df.columns:
        t = df[TIMESTAMP].dt.tz_convert(None).to_numpy("datetime64[ns]").view(np.int64)
        t = np.where(df[TIMESTAMP].isna().to_numpy(), np.iinfo(np.int64).max, t)
        keys.append(t)
    codes, _ = pd.factorize(df[STUDENT], sort=True)
    keys.append(codes)
    if group is not None and group != STUDENT:
        keys.append(pd.factorize(df[group], sort=True)[0])
    order = np.lexsort(keys)
    return df.iloc[order].reset_index(drop=True)


def _join_concepts(values: np.ndarray, sep: str | None = None) -> np.ndarray:
    """Concept tuples as ``\x1f``-joined strings (cheap to shuffle through Arrow).

    Strings (separated ids, or tuples that Dask turned into text) are parsed first.
    """
    codes, uniq = pd.factorize(pd.Series(values, dtype=object), use_na_sentinel=True)
    uniq = list(uniq)
    if any(not isinstance(u, tuple) for u in uniq):
        uniq = _parse_unique(uniq, sep)
    joined = np.array([_SEP.join(u) for u in uniq] + [""], dtype=object)
    return joined[codes]  # code -1 (missing) -> ""


def _split_concepts(values: np.ndarray | pd.Series) -> np.ndarray:
    """Inverse of :func:`_join_concepts` (distinct values split once). An Arrow-backed
    column is encoded as it is (no round trip through Python strings)."""
    arrow = getattr(getattr(values, "array", None), "__arrow_array__", None)
    if arrow is not None:
        arr = arrow()
        arr = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
        arr = arr.cast(pa.string())
    else:
        arr = pa.array(np.asarray(values, dtype=object), type=pa.string(), from_pandas=True)
    enc = pc.fill_null(arr, "")
    enc = enc.dictionary_encode()
    uniq = enc.dictionary.to_pylist()
    table = np.empty(len(uniq), dtype=object)
    for i, u in enumerate(uniq):
        table[i] = tuple(u.split(_SEP)) if u else ()
    idx = enc.indices.to_numpy(zero_copy_only=False)
    return table[idx] if len(idx) else np.empty(0, dtype=object)


def from_pandas(df: pd.DataFrame, npartitions: int) -> dd.DataFrame:
    """A Dask frame of a canonical in-memory table, keeping ``concept_ids`` tuples.

    :func:`dask.dataframe.from_pandas` turns object columns (the concept tuples) into
    text; this helper ships them as joined strings and restores the tuples in each
    partition. Rows stay in order (``sort=False``), split into contiguous chunks.
    """
    out = df.reset_index(drop=True).copy()
    out[CONCEPTS] = pd.Series(_join_concepts(out[CONCEPTS].to_numpy()), dtype="str")
    joined = dd.from_pandas(out, npartitions=npartitions, sort=False)
    meta = df.iloc[:0].reset_index(drop=True)
    return joined.map_partitions(_restore_concepts, meta=meta)


def _restore_concepts(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    out[CONCEPTS] = _split_concepts(df[CONCEPTS])
    return out


def _pre_shuffle(df: pd.DataFrame, partition_info=None) -> pd.DataFrame:
    out = df.copy()
    if _SEQ not in out.columns:
        i = (partition_info or {}).get("number", 0)
        out[_SEQ] = (np.int64(i) << 36) + np.arange(len(out), dtype=np.int64)
    out[CONCEPTS] = pd.Series(
        _join_concepts(out[CONCEPTS].to_numpy()), index=out.index, dtype="str"
    )
    return out


def _post_shuffle(df: pd.DataFrame, group: str | None = None) -> pd.DataFrame:
    out = _sort_students(df, group)
    out[CONCEPTS] = _split_concepts(out[CONCEPTS])
    return out


def partition_by_student(
    ddf: dd.DataFrame,
    npartitions: int | None = None,
    *,
    rows_per_partition: int | None = None,
    total_rows: int | None = None,
    shuffle_method: str | None = None,
    key: str = STUDENT,
) -> dd.DataFrame:
    """Shuffle a log so that every partition holds whole students, in time order.

    Rows are hashed by ``student_id`` into ``npartitions`` partitions (Dask's own
    shuffle); inside each partition rows are sorted by student, then ``timestamp``
    (when present), then input order (the ``_seq`` column), so that a student's
    answers keep their time order even when they were spread over several files.

    Parameters
    ----------
    ddf : dask DataFrame
        A canonical log (e.g. from :func:`read_log`).
    npartitions : int, optional
        Number of output partitions (default: from ``rows_per_partition``, else the
        input's count).
    rows_per_partition : int, optional
        Target rows per partition; needs ``total_rows`` or computes the length.
    shuffle_method : str, optional
        ``"tasks"`` or ``"p2p"`` (Dask's default when None).
    key : str
        Column whose values are kept whole (default ``student_id``; e.g. ``class_id``
        for per-class jobs, each class's students then sorted as above).
    """
    if npartitions is None and rows_per_partition:
        n = total_rows if total_rows is not None else int(ddf.shape[0].compute())
        npartitions = max(1, int(np.ceil(n / rows_per_partition)))
    meta = _pre_shuffle(ddf._meta).iloc[:0]
    ready = ddf.map_partitions(_pre_shuffle, meta=meta)
    kw = {"shuffle_method": shuffle_method} if shuffle_method else {}
    shuffled = ready.shuffle(on=key, npartitions=npartitions, ignore_index=True, **kw)
    out_meta = meta.assign(**{CONCEPTS: pd.Series([], dtype=object)})
    return shuffled.map_partitions(_post_shuffle, key, meta=out_meta)


def _partition_students(df: pd.DataFrame, partition_info=None) -> pd.DataFrame:
    ids = pd.unique(df[STUDENT].to_numpy())
    first = (
        np.r_[True, df[STUDENT].to_numpy()[1:] != df[STUDENT].to_numpy()[:-1]] if len(df) else []
    )
    contiguous = int(np.sum(first)) == len(ids)
    return pd.DataFrame(
        {
            STUDENT: pd.Series(ids, dtype="str"),
            "partition": (partition_info or {}).get("number", -1),
            "contiguous": contiguous,
        }
    )


def check_student_partitions(ddf: dd.DataFrame) -> int:
    """Check that no student is split across partitions; return the student count.

    Also checks that each student's rows are contiguous inside its partition.

    Raises
    ------
    PartitioningError
        Naming the first students found in several partitions.
    """
    meta = pd.DataFrame(
        {
            STUDENT: pd.Series([], dtype="str"),
            "partition": pd.Series([], dtype=np.int64),
            "contiguous": pd.Series([], dtype=bool),
        }
    )
    per = ddf.map_partitions(_partition_students, meta=meta).compute()
    dup = per[STUDENT].duplicated(keep=False)
    if dup.any():
        ids = per.loc[dup, STUDENT].unique()
        raise PartitioningError(
            f"{len(ids)} students are split across partitions, e.g. {list(ids[:5])}"
        )
    if not per["contiguous"].all():
        bad = per.loc[~per["contiguous"], "partition"].unique()[:5].tolist()
        raise PartitioningError(f"students' rows are not contiguous in partitions {bad}")
    return len(per)


# ---------------------------------------------------------------------------- writing


def _write_part(
    df: pd.DataFrame, fs, tmp: str, partition_info=None, *, prefix: str = "part"
) -> pd.DataFrame:
    i = (partition_info or {}).get("number", 0)
    name = f"{prefix}-{i:05d}.parquet"
    table = frame_to_arrow(df.drop(columns=[_SEQ], errors="ignore"))
    with fs.open(posixpath.join(tmp, name), "wb") as fh:
        pq.write_table(table, fh, compression="zstd")
    students = int(df[STUDENT].nunique()) if STUDENT in df.columns else 0
    return pd.DataFrame(
        {"path": [name], "rows": [len(df)], "students": [students], "partition": [i]}
    )


def _publish(fs, tmp: str, root: str, manifest: dict, overwrite: bool) -> None:
    """Move a finished temporary folder to ``root`` and write the manifest last."""
    if fs.exists(root):
        if not overwrite:
            fs.rm(tmp, recursive=True)
            raise OutputExistsError(f"{root} exists (pass overwrite=True to replace it)")
        old = f"{root}.old-{uuid.uuid4().hex[:8]}"
        fs.mv(root, old, recursive=True)
    else:
        old = None
    fs.mv(tmp, root, recursive=True)
    # the manifest is the commit marker: a folder without it is never read as complete
    with fs.open(posixpath.join(root, MANIFEST), "w") as fh:
        json.dump(manifest, fh, indent=1)
    if old is not None:
        fs.rm(old, recursive=True)


def _describe(e: BaseException) -> str:
    name = type(e).__name__
    if name == "KilledWorker":
        return (
            f"a worker died while running {getattr(e, 'task', '?')} (KilledWorker: every "
            "allowed attempt lost its worker; out of memory? see the worker logs)"
        )
    return f"{name}: {e}"


def compute_with_retries(collection, retries: int = 1):
    """``collection.compute()``, with task retries when a distributed client is active."""
    try:
        from distributed import default_client

        default_client()
    except (ImportError, ValueError):
        return collection.compute()
    return collection.compute(retries=retries)


def write_parquet_dataset(
    ddf: dd.DataFrame,
    urlpath: str,
    *,
    manifest: Mapping[str, Any] | None = None,
    storage_options: Mapping[str, Any] | None = None,
    overwrite: bool = False,
    prefix: str = "part",
    format: str = LOG_FORMAT,
    retries: int = 1,
) -> dict:
    """Write one Parquet file per partition and publish the folder with a manifest.

    Part files go to a temporary sibling folder; only when every partition has been
    written is the folder moved to ``urlpath`` and the manifest written (last). A
    partition's file name depends only on its number, so a retried task overwrites
    its own file (idempotent). Dask reschedules the tasks of a worker that dies;
    ``retries`` more attempts are allowed for a task that raises. When the job
    still fails, the temporary folder is removed and :class:`JobFailedError` is
    raised: nothing is published.

    Returns
    -------
    dict
        The manifest (also written as ``urlpath/_manifest.json``).
    """
    from edu_recsys.scale.errors import JobFailedError

    fs, root = _fs(urlpath, storage_options)
    if fs.exists(root) and not overwrite:
        raise OutputExistsError(f"{urlpath} exists (pass overwrite=True to replace it)")
    tmp = f"{root}.tmp-{uuid.uuid4().hex[:8]}"
    fs.makedirs(tmp, exist_ok=True)
    meta = pd.DataFrame(
        {
            "path": pd.Series([], dtype="str"),
            "rows": pd.Series([], dtype=np.int64),
            "students": pd.Series([], dtype=np.int64),
            "partition": pd.Series([], dtype=np.int64),
        }
    )
    t0 = time.time()
    try:
        parts = compute_with_retries(
            ddf.map_partitions(_write_part, fs, tmp, prefix=prefix, meta=meta), retries
        )
    except BaseException as e:
        try:
            fs.rm(tmp, recursive=True)
        except FileNotFoundError:
            pass
        if isinstance(e, (KeyboardInterrupt, SystemExit)):
            raise
        raise JobFailedError(
            f"writing {urlpath} failed, nothing was published: {_describe(e)}"
        ) from e
    parts = parts.sort_values("partition")
    man = {
        "format": format,
        "complete": True,
        "file_format": "parquet",
        "rows": int(parts["rows"].sum()),
        "files": [
            {"path": r.path, "rows": int(r.rows), "students": int(r.students)}
            for r in parts.itertuples()
        ],
        "written_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "write_s": round(time.time() - t0, 3),
        **dict(manifest or {}),
    }
    if man.get("partitioned_by") == STUDENT:  # files hold disjoint students
        man["students"] = int(parts["students"].sum())
    _publish(fs, tmp, root, man, overwrite)
    log.info("published %s: %d files, %d rows", urlpath, len(parts), man["rows"])
    return man


def write_log(
    ddf: dd.DataFrame,
    urlpath: str,
    *,
    storage_options: Mapping[str, Any] | None = None,
    overwrite: bool = False,
    extra: Mapping[str, Any] | None = None,
) -> dict:
    """Write a log partitioned by student (from :func:`partition_by_student`).

    The manifest records ``partitioned_by: student_id`` so that :func:`read_log` and
    the batch jobs use the partitions as they are (one per file).
    """
    man = {
        "partitioned_by": STUDENT,
        "sorted_by": [STUDENT, TIMESTAMP] if TIMESTAMP in ddf.columns else [STUDENT],
        **dict(extra or {}),
    }
    return write_parquet_dataset(
        ddf, urlpath, manifest=man, storage_options=storage_options, overwrite=overwrite
    )


def is_partitioned_by_student(manifest: Mapping[str, Any] | None) -> bool:
    """Whether a manifest declares whole students per file."""
    return bool(manifest) and manifest.get("partitioned_by") == STUDENT

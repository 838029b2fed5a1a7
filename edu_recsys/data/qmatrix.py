"""Q-matrix: which concepts each item exercises.

A Q-matrix is kept as a plain ``dict[str, tuple[str, ...]]`` (item id -> concept ids),
which is what the rest of the library consumes; helpers convert to and from the
sparse binary matrix form used in the literature.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd
import scipy.sparse as sp

from edu_recsys.data.schema import CONCEPTS, ITEM
from edu_recsys.exceptions import InvalidDataError

__all__ = ["QMatrix", "q_matrix_from_interactions", "apply_q_matrix", "q_matrix_to_sparse"]

QMatrix = dict[str, tuple[str, ...]]


def _as_qmatrix(q: Mapping[str, Iterable[str]] | pd.DataFrame) -> QMatrix:
    if isinstance(q, pd.DataFrame):
        if ITEM in q.columns and CONCEPTS in q.columns:
            return {str(i): tuple(map(str, c)) for i, c in zip(q[ITEM], q[CONCEPTS])}
        # binary matrix form: index = items, columns = concepts
        arr = q.to_numpy()
        if not np.isin(arr, (0, 1)).all():
            raise InvalidDataError(
                "a Q-matrix table must hold only 0/1 or have columns item_id and concept_ids"
            )
        cols = np.asarray(q.columns.astype(str))
        return {str(i): tuple(cols[row.astype(bool)]) for i, row in zip(q.index, arr)}
    out: QMatrix = {}
    for item, concepts in q.items():
        if isinstance(concepts, str):
            concepts = (concepts,)
        out[str(item)] = tuple(str(c) for c in concepts)
    return out


def q_matrix_from_interactions(df: pd.DataFrame) -> QMatrix:
    """The item -> concepts map observed in an interactions table.

    Where an item appears with different concept sets, the union is taken (in order
    of first appearance).

    Examples
    --------
    >>> df = pd.DataFrame({"item_id": ["a", "b", "a"],
    ...                    "concept_ids": [("x",), ("y", "z"), ("x",)]})
    >>> q_matrix_from_interactions(df)
    {'a': ('x',), 'b': ('y', 'z')}
    """
    out: dict[str, dict[str, None]] = {}
    pairs = df[[ITEM, CONCEPTS]]
    for item, concepts in zip(pairs[ITEM].to_numpy(), pairs[CONCEPTS].to_numpy()):
        d = out.setdefault(item, {})
        for c in concepts:
            d[c] = None
    return {k: tuple(v) for k, v in out.items()}


def apply_q_matrix(
    df: pd.DataFrame, q_matrix: Mapping[str, Iterable[str]] | pd.DataFrame, *, strict: bool = True
) -> pd.DataFrame:
    """Return a copy of ``df`` whose ``concept_ids`` come from ``q_matrix``.

    Parameters
    ----------
    df : DataFrame
        Interactions with an ``item_id`` column.
    q_matrix : mapping or DataFrame
        item id -> concept ids (or a binary items x concepts table).
    strict : bool, default True
        Raise :class:`InvalidDataError` naming the rows whose item is missing from the
        Q-matrix; when False such rows get an empty tuple (counted in a log message).

    Examples
    --------
    >>> df = pd.DataFrame({"item_id": ["1", "2"]})
    >>> apply_q_matrix(df, {"1": ["a"], "2": ["a", "b"]})["concept_ids"].tolist()
    [('a',), ('a', 'b')]
    """
    q = _as_qmatrix(q_matrix)
    items = df[ITEM].astype(str)
    mapped = items.map(q)
    missing = mapped.isna().to_numpy()
    if missing.any():
        if strict:
            raise InvalidDataError(
                f"{int(missing.sum())} rows have an item that the Q-matrix does not list "
                f"(e.g. {items[missing].iloc[0]!r})",
                column=ITEM,
                rows=np.flatnonzero(missing).tolist(),
                expected="every item_id to appear in the Q-matrix",
            )
        mapped = mapped.where(~missing, None)
        mapped = pd.Series([m if m is not None else () for m in mapped], index=df.index)
    out = df.copy()
    out[CONCEPTS] = pd.Series(list(mapped.to_numpy()), index=df.index, dtype=object)
    return out


def q_matrix_to_sparse(
    q_matrix: Mapping[str, Iterable[str]],
    items: Iterable[str] | None = None,
    concepts: Iterable[str] | None = None,
) -> tuple[sp.csr_matrix, list[str], list[str]]:
    """Binary items x concepts CSR matrix with its row and column labels.

    Examples
    --------
    >>> m, items, concepts = q_matrix_to_sparse({"i1": ["a"], "i2": ["a", "b"]})
    >>> m.toarray().tolist(), items, concepts
    ([[1, 0], [1, 1]], ['i1', 'i2'], ['a', 'b'])
    """
    q = _as_qmatrix(q_matrix)
    item_list = list(items) if items is not None else list(q)
    if concepts is None:
        seen: dict[str, None] = {}
        for i in item_list:
            for c in q.get(i, ()):
                seen[c] = None
        concept_list = list(seen)
    else:
        concept_list = list(concepts)
    col = {c: j for j, c in enumerate(concept_list)}
    rows, cols = [], []
    for r, i in enumerate(item_list):
        for c in q.get(i, ()):
            if c in col:
                rows.append(r)
                cols.append(col[c])
    data = np.ones(len(rows), dtype=np.int8)
    m = sp.csr_matrix((data, (rows, cols)), shape=(len(item_list), len(concept_list)))
    return m, item_list, concept_list

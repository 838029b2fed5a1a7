"""One-glance summary of an interactions table."""

from __future__ import annotations

import pandas as pd

from edu_recsys.data.schema import CONCEPTS, CORRECT, FOLD, ITEM, STUDENT, TIMESTAMP

__all__ = ["summarize_interactions"]


def summarize_interactions(df: pd.DataFrame) -> dict:
    """Rows, students, items, concepts, date range, correct rate (JSON-ready).

    Examples
    --------
    >>> df = pd.DataFrame({"student_id": ["a", "a", "b"], "item_id": ["1", "2", "1"],
    ...                    "concept_ids": [("x",), ("x", "y"), ()], "correct": [1, 0, 1]})
    >>> s = summarize_interactions(df)
    >>> s["rows"], s["students"], s["items"], s["concepts"], round(s["correct_rate"], 3)
    (3, 2, 2, 2, 0.667)
    """
    concepts = {c for cs in set(df[CONCEPTS]) for c in cs} if CONCEPTS in df else set()
    out = {
        "rows": int(len(df)),
        "students": int(df[STUDENT].nunique()),
        "items": int(df[ITEM].nunique()),
        "concepts": len(concepts),
        "correct_rate": float(df[CORRECT].mean()) if len(df) else None,
        "first_timestamp": None,
        "last_timestamp": None,
        "answers_per_student_median": float(df.groupby(STUDENT).size().median())
        if len(df)
        else None,
    }
    if TIMESTAMP in df and df[TIMESTAMP].notna().any():
        out["first_timestamp"] = df[TIMESTAMP].min().isoformat()
        out["last_timestamp"] = df[TIMESTAMP].max().isoformat()
    if FOLD in df:
        out["folds"] = {int(k): int(v) for k, v in df[FOLD].value_counts().sort_index().items()}
    return out

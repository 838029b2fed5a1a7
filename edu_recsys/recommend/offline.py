"""Offline evaluation of recommendation policies on held-out real usage.

Protocol (:func:`holdout_ranking_eval`), leak-free and per student:

1. For each student with at least ``min_items`` distinct resources used, the split
   time ``t_s`` is the first use of the last ``holdout`` share of their distinct
   resources (at least one held out).
2. The recommender is fitted on everything (all students' answers and usage) strictly
   before ``t_s``; mastery comes from those answers only.
3. The student's top-``k`` list (seen resources excluded) is compared with the
   resources they used at or after ``t_s`` and had not used before: NDCG@k (binary
   relevance), recall@k, and catalogue coverage over all students' lists.

Mastery is :func:`accuracy_mastery` (Beta-smoothed share correct per concept) unless
a tracer is given. With the EdNet KT4 sample (9 users, 5 with lecture views) the
numbers describe five lists: they are a smoke test of the protocol, not evidence.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from edu_recsys.resources.catalogue import Catalogue, as_catalogue

__all__ = [
    "ndcg_at_k",
    "recall_at_k",
    "accuracy_mastery",
    "holdout_ranking_eval",
    "ednet_ranking_eval",
]

log = logging.getLogger(__name__)


def ndcg_at_k(recommended: Sequence[str], relevant: set[str], k: int = 10) -> float:
    """Binary-relevance NDCG@k.

    Examples
    --------
    >>> round(ndcg_at_k(["a", "x", "b"], {"a", "b"}, k=3), 4)
    0.9197
    >>> ndcg_at_k(["x"], {"a"}), ndcg_at_k([], set())
    (0.0, nan)
    """
    if not relevant:
        return float("nan")
    gains = [1.0 / np.log2(i + 2) for i, r in enumerate(list(recommended)[:k]) if r in relevant]
    ideal = sum(1.0 / np.log2(i + 2) for i in range(min(k, len(relevant))))
    return float(sum(gains) / ideal)


def recall_at_k(recommended: Sequence[str], relevant: set[str], k: int = 10) -> float:
    """Share of the relevant resources found in the top ``k``.

    Examples
    --------
    >>> recall_at_k(["a", "x", "b"], {"a", "b", "c", "d"}, k=2)
    0.25
    """
    if not relevant:
        return float("nan")
    return len(set(list(recommended)[:k]) & relevant) / len(relevant)


def accuracy_mastery(
    interactions: pd.DataFrame, prior: float = 0.5, strength: float = 2.0
) -> pd.DataFrame:
    """A simple mastery table: Beta-smoothed share correct per student and concept.

    ``mastery = (correct + strength * prior) / (answers + strength)``; ``evidence`` =
    answers. A transparent stand-in when no fitted tracer is at hand.

    Examples
    --------
    >>> ia = pd.DataFrame({"student_id": ["s", "s", "s"], "concept_ids": [("a",), ("a",), ("b",)],
    ...                    "correct": [1, 1, 0]})
    >>> accuracy_mastery(ia)[["concept_id", "mastery", "evidence"]]
      concept_id  mastery  evidence
    0          a    0.750         2
    1          b    0.333         1
    """
    cols = ["student_id", "concept_id", "mastery", "evidence", "fallback"]
    if interactions is None or len(interactions) == 0:
        return pd.DataFrame({c: [] for c in cols})
    lens = interactions["concept_ids"].map(len).to_numpy()
    rows = np.repeat(np.arange(len(interactions)), lens)
    long = pd.DataFrame(
        {
            "student_id": interactions["student_id"].astype(str).to_numpy()[rows],
            "concept_id": [c for t in interactions["concept_ids"] for c in t],
            "correct": interactions["correct"].to_numpy(float)[rows],
        }
    )
    g = long.groupby(["student_id", "concept_id"], sort=False)["correct"].agg(["sum", "size"])
    g = g.reset_index()
    g["mastery"] = ((g["sum"] + strength * prior) / (g["size"] + strength)).round(3)
    g["evidence"] = g["size"].astype(int)
    g["fallback"] = ""
    return g[cols]


def holdout_ranking_eval(
    catalogue: Catalogue,
    interactions: pd.DataFrame,
    make: Callable[[str], object],
    policies: Sequence[str],
    *,
    k: int = 10,
    holdout: float = 0.2,
    min_items: int = 2,
    mastery_fn: Callable[[pd.DataFrame], pd.DataFrame] = accuracy_mastery,
) -> pd.DataFrame:
    """Evaluate policies on each student's held-out later usage (module docstring).

    Parameters
    ----------
    catalogue : Catalogue
        Resources and the usage log with timestamps.
    interactions : DataFrame
        Canonical answers with timestamps.
    make : callable
        ``make(policy) -> unfitted Recommender``.
    policies : sequence of str
    k, holdout, min_items
        List length, held-out share per student, fewest distinct resources.
    mastery_fn : callable
        Mastery table from the answers before the split.

    Returns
    -------
    DataFrame
        One row per policy: ``ndcg_at_10`` (named after ``k``), ``recall_at_k``,
        ``coverage``, ``students``, ``held_out``.
    """
    us = catalogue.usage.dropna(subset=["timestamp"])
    first = us.sort_values("timestamp", kind="stable").drop_duplicates(
        ["student_id", "resource_id"]
    )
    splits = {}
    for sid, g in first.groupby("student_id", sort=True):
        n = len(g)
        if n < min_items:
            continue
        n_out = max(1, int(round(holdout * n)))
        t = g["timestamp"].iloc[n - n_out]
        splits[sid] = (t, set(g["resource_id"].iloc[n - n_out :]))
    rows = []
    ts_ia = pd.to_datetime(interactions["timestamp"], utc=True)
    for policy in policies:
        ndcg, rec, lists = [], [], []
        for sid, (t, relevant) in splits.items():
            past_ia = interactions[ts_ia < t]
            past_us = catalogue.usage[catalogue.usage["timestamp"] < t]
            cat = as_catalogue(catalogue.resources, past_us, catalogue.ratings)
            model = make(policy).fit(cat, mastery_fn(past_ia), interactions=past_ia, now=t)
            out = model.recommend(sid, k=k, reasons=False)
            top = out["resource_id"].tolist()
            ndcg.append(ndcg_at_k(top, relevant, k))
            rec.append(recall_at_k(top, relevant, k))
            lists.append(top)
        covered = {r for lst in lists for r in lst}
        rows.append(
            {
                "policy": policy,
                f"ndcg_at_{k}": float(np.mean(ndcg)) if ndcg else float("nan"),
                "recall_at_k": float(np.mean(rec)) if rec else float("nan"),
                "coverage": len(covered) / max(1, len(catalogue)),
                "students": len(splits),
                "held_out": int(sum(len(v[1]) for v in splits.values())),
            }
        )
    return pd.DataFrame(rows)


def ednet_ranking_eval(
    policies: Sequence[str],
    make: Callable[[str], object],
    *,
    k: int = 10,
    data_dir=None,
) -> pd.DataFrame:
    """:func:`holdout_ranking_eval` on the EdNet KT4 sample's lectures (tiny: see the
    module docstring)."""
    from edu_recsys.datasets import load_dataset
    from edu_recsys.resources.ednet import ednet_lecture_catalogue

    ds = load_dataset("ednet_kt4_sample", data_dir)
    cat = ednet_lecture_catalogue(ds)
    return holdout_ranking_eval(cat, ds.data, make, policies, k=k)

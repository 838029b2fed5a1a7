"""Item analysis for teaching research (数字化教研): how each question behaves.

:func:`item_analysis` works on the **first attempt** of each student at each item of
an interactions table (a class or a whole school) and reports, per item:

- ``p_correct``: the share of correct first attempts (classical difficulty);
- ``irt_b``: the Rasch (1PL IRT) difficulty, from a joint logistic regression on
  student and item indicators (scikit-learn, L2-regularised, which fixes the scale:
  abilities and difficulties are shrunk towards 0); higher is harder. Items that
  everybody got right (or wrong) get the smoothed logit ``-logit((k + 0.5) / (n + 1))``
  instead, and so does everything when the whole table has a single outcome;
- ``discrimination``: the corrected point-biserial correlation between the item and
  the student's share correct on the *other* items (NaN when either side is constant);
- ``flags``: ``few_answers`` (fewer than ``min_answers``, default 20: below that the
  point-biserial is too noisy to judge an item, so no discrimination flag), ``all_correct``,
  ``all_wrong``, ``negative_discrimination`` (< 0), ``low_discrimination`` (< 0.2,
  the usual classical-test-theory cut for a poor item).

And, with a subject graph, the prerequisite edges the answers disagree with: for an
edge ``u -> v``, among the students whose success rate on ``v``'s items is at least
0.75 (and who answered items of both), the share whose success rate on ``u``'s items is
below 0.5. When that share is at least ``violation_limit`` (default 0.3) over at least
``min_pairs`` students, the edge is listed: either the prerequisite is wrong, or the
items of ``u`` or ``v`` are tagged or written badly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression

from edu_recsys.classroom._util import quiet_nan
from edu_recsys.classroom.i18n import check_lang, concept_name, text
from edu_recsys.exceptions import InvalidDataError
from edu_recsys.graph import prerequisite_view

__all__ = ["ItemAnalysis", "item_analysis", "LOW_DISCRIMINATION"]

#: Discrimination below this flags an item as poorly discriminating.
LOW_DISCRIMINATION = 0.2
#: Success rates defining "right on the dependent" / "wrong on the prerequisite".
GOOD_RATE, POOR_RATE = 0.75, 0.5

ITEM_COLUMNS = [
    "item_id",
    "concept_ids",
    "n",
    "n_correct",
    "p_correct",
    "irt_b",
    "discrimination",
    "flags",
    "flag_text",
]
CONFLICT_COLUMNS = [
    "prerequisite",
    "dependent",
    "prerequisite_name",
    "dependent_name",
    "n_good_dependent",
    "n_violations",
    "violation_rate",
    "p_prerequisite",
    "p_dependent",
]


@dataclass
class ItemAnalysis:
    """Result of :func:`item_analysis`.

    Attributes
    ----------
    items : DataFrame
        One row per item (see the module docstring), ordered by item id.
    bad_items : DataFrame
        The rows of ``items`` with a flag other than ``few_answers``.
    concepts : DataFrame
        Per concept: ``concept_id, name, n_items, n_answers, p_correct, n_bad_items``.
    conflicts : DataFrame
        Prerequisite edges the answers disagree with, worst first.
    """

    items: pd.DataFrame
    bad_items: pd.DataFrame
    concepts: pd.DataFrame
    conflicts: pd.DataFrame
    params: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        def rec(df: pd.DataFrame) -> list[dict]:
            return df.to_dict(orient="records")

        return {
            "params": self.params,
            "items": rec(self.items),
            "bad_items": self.bad_items["item_id"].tolist(),
            "concepts": rec(self.concepts),
            "conflicts": rec(self.conflicts),
        }


def _first_attempts(interactions: pd.DataFrame) -> pd.DataFrame:
    for col in ("student_id", "item_id", "concept_ids", "correct"):
        if col not in interactions.columns:
            raise InvalidDataError("missing column in the interactions", column=col)
    df = interactions[["student_id", "item_id", "concept_ids", "correct"]]
    df = df.drop_duplicates(["student_id", "item_id"], keep="first").reset_index(drop=True)
    return df.astype({"student_id": object, "item_id": object})


def _smoothed_b(k: np.ndarray, n: np.ndarray) -> np.ndarray:
    p = (k + 0.5) / (n + 1.0)
    return -np.log(p / (1 - p))


def _rasch(df: pd.DataFrame, items: pd.Index, C: float) -> np.ndarray:
    """Rasch difficulties of ``items`` (joint L2-regularised logistic regression)."""
    y = df["correct"].to_numpy(dtype=int)
    s_codes, s_uni = pd.factorize(df["student_id"])
    i_codes = items.get_indexer(df["item_id"])
    n = len(df)
    ns = len(s_uni)
    X = sp.hstack(
        [
            sp.csr_matrix((np.ones(n), (np.arange(n), s_codes)), shape=(n, ns)),
            sp.csr_matrix((-np.ones(n), (np.arange(n), i_codes)), shape=(n, len(items))),
        ]
    ).tocsr()
    model = LogisticRegression(C=C, fit_intercept=False, max_iter=500)
    model.fit(X, y)
    return model.coef_[0, ns:]


def item_analysis(
    interactions: pd.DataFrame,
    G: nx.DiGraph | None = None,
    *,
    min_answers: int = 20,
    violation_limit: float = 0.3,
    min_pairs: int = 5,
    C: float = 1.0,
    lang: str = "zh",
) -> ItemAnalysis:
    """Analyse the items of an interactions table (see the module docstring).

    Parameters
    ----------
    interactions : DataFrame
        Canonical interactions (rows of a student in time order).
    G : DiGraph, optional
        Subject graph for concept names and the prerequisite check.
    min_answers : int
        Items with fewer first attempts are flagged ``few_answers`` and get no
        discrimination flags.
    violation_limit : float
    min_pairs : int
    C : float
        Inverse L2 strength of the Rasch regression.
    lang : {"zh", "en"}

    Returns
    -------
    ItemAnalysis

    Examples
    --------
    Six students answer four items of rising difficulty (a Guttman pattern), an item
    ``x`` that the weaker students get right, and an item everybody gets right:

    >>> pattern = ["1111", "1110", "1100", "1000", "0000", "1110"]
    >>> rows = []
    >>> for s, p in enumerate(pattern):
    ...     rows += [(f"s{s}", f"q{j}", ("a",), int(c)) for j, c in enumerate(p)]
    ...     rows += [(f"s{s}", "x", ("a",), 1 - int(p[1])), (f"s{s}", "easy", ("a",), 1)]
    >>> log = pd.DataFrame(rows, columns=["student_id", "item_id", "concept_ids", "correct"])
    >>> ia = item_analysis(log, min_answers=5, lang="en")
    >>> ia.items[["item_id", "p_correct", "irt_b", "discrimination", "flags"]].round(2)
      item_id  p_correct  irt_b  discrimination                      flags
    0    easy       1.00  -2.56             NaN              [all_correct]
    1      q0       0.83  -0.77            0.40                         []
    2      q1       0.67  -0.33            0.34                         []
    3      q2       0.50   0.08            0.58                         []
    4      q3       0.17   0.92            0.40                         []
    5       x       0.33   0.50           -0.88  [negative_discrimination]
    """
    lang = check_lang(lang)
    df = _first_attempts(interactions)
    if df.empty:
        empty = pd.DataFrame(columns=ITEM_COLUMNS)
        return ItemAnalysis(
            empty,
            empty.copy(),
            pd.DataFrame(
                columns=["concept_id", "name", "n_items", "n_answers", "p_correct", "n_bad_items"]
            ),
            pd.DataFrame(columns=CONFLICT_COLUMNS),
            {"min_answers": min_answers, "status": "no_answers"},
        )
    x = df["correct"].to_numpy(dtype=float)
    # student's share correct on the other items (corrected item-total)
    g = df.groupby("student_id", sort=False)["correct"]
    tot = g.transform("sum").to_numpy(dtype=float)
    cnt = g.transform("size").to_numpy(dtype=float)
    with quiet_nan():
        rest = np.where(cnt > 1, (tot - x) / np.maximum(cnt - 1, 1), np.nan)
    work = pd.DataFrame({"item_id": df["item_id"], "x": x, "r": rest})
    work = work[~np.isnan(rest)]
    work = work.assign(xr=work["x"] * work["r"], xx=work["x"] ** 2, rr=work["r"] ** 2)
    S = work.groupby("item_id", sort=True)[["x", "r", "xr", "xx", "rr"]].sum()
    m = work.groupby("item_id", sort=True).size()
    with quiet_nan():
        num = m * S["xr"] - S["x"] * S["r"]
        den = np.sqrt((m * S["xx"] - S["x"] ** 2) * (m * S["rr"] - S["r"] ** 2))
        disc = (num / den).where(den > 1e-12)

    agg = df.groupby("item_id", sort=True).agg(
        n=("correct", "size"), n_correct=("correct", "sum"), concept_ids=("concept_ids", "first")
    )
    items = agg.index
    n = agg["n"].to_numpy(dtype=float)
    k = agg["n_correct"].to_numpy(dtype=float)
    b = _smoothed_b(k, n)
    extreme = (k == 0) | (k == n)
    if len(np.unique(x)) == 2:
        b_fit = _rasch(df, items, C)
        b = np.where(extreme, b, b_fit)
    disc = disc.reindex(items).to_numpy(dtype=float)

    flags: list[list[str]] = []
    for ni, ki, di in zip(n, k, disc):
        f = []
        if ni < min_answers:
            f.append("few_answers")
        if ki == ni:
            f.append("all_correct")
        elif ki == 0:
            f.append("all_wrong")
        elif ni >= min_answers and not np.isnan(di):
            if di < 0:
                f.append("negative_discrimination")
            elif di < LOW_DISCRIMINATION:
                f.append("low_discrimination")
        flags.append(f)
    out = pd.DataFrame(
        {
            "item_id": items.to_numpy(dtype=object),
            "concept_ids": agg["concept_ids"].map(tuple).to_numpy(dtype=object),
            "n": n.astype(int),
            "n_correct": k.astype(int),
            "p_correct": k / n,
            "irt_b": np.round(b, 4),
            "discrimination": disc,
            "flags": flags,
            "flag_text": [
                text("sep", lang).join(text(f"flag.{c}", lang) for c in f) for f in flags
            ],
        }
    )
    bad = out[[any(c != "few_answers" for c in f) for f in out["flags"]]]
    # worst first: negative discrimination, then constant items, then low discrimination
    severity = bad["flags"].map(
        lambda f: (
            0
            if "negative_discrimination" in f
            else 1
            if ("all_correct" in f or "all_wrong" in f)
            else 2
        )
    )
    bad = (
        bad.assign(_sev=severity)
        .sort_values(["_sev", "discrimination", "item_id"], kind="stable")
        .drop(columns="_sev")
        .reset_index(drop=True)
    )

    concepts = _concept_table(df, out, G, lang)
    conflicts = (
        _conflicts(df, G, violation_limit, min_pairs, lang)
        if G is not None
        else pd.DataFrame(columns=CONFLICT_COLUMNS)
    )
    params = {
        "min_answers": min_answers,
        "low_discrimination": LOW_DISCRIMINATION,
        "violation_limit": violation_limit,
        "min_pairs": min_pairs,
        "good_rate": GOOD_RATE,
        "poor_rate": POOR_RATE,
        "status": "ok",
    }
    return ItemAnalysis(out, bad, concepts, conflicts, params)


def _concept_rows(df: pd.DataFrame) -> pd.DataFrame:
    e = df[["student_id", "item_id", "concept_ids", "correct"]].explode("concept_ids")
    return e.dropna(subset=["concept_ids"]).rename(columns={"concept_ids": "concept_id"})


def _concept_table(
    df: pd.DataFrame, items: pd.DataFrame, G: nx.DiGraph | None, lang: str
) -> pd.DataFrame:
    e = _concept_rows(df)
    bad_items = set(
        items.loc[[bool(f) and f != ["few_answers"] for f in items["flags"]], "item_id"]
    )
    agg = e.groupby("concept_id", sort=True).agg(
        n_items=("item_id", "nunique"),
        n_answers=("correct", "size"),
        p_correct=("correct", "mean"),
    )
    nbad = (
        e[e["item_id"].isin(bad_items)]
        .drop_duplicates(["concept_id", "item_id"])
        .groupby("concept_id")
        .size()
    )
    agg["n_bad_items"] = nbad.reindex(agg.index, fill_value=0).astype(int)
    agg.insert(0, "name", [concept_name(G, c, lang) for c in agg.index])
    return agg.reset_index()


def _conflicts(
    df: pd.DataFrame, G: nx.DiGraph, limit: float, min_pairs: int, lang: str
) -> pd.DataFrame:
    e = _concept_rows(df)
    rate = e.groupby(["student_id", "concept_id"])["correct"].mean().unstack("concept_id")
    p_concept = e.groupby("concept_id")["correct"].mean()
    rows = []
    P = prerequisite_view(G)
    for u, v in P.edges():
        if u not in rate.columns or v not in rate.columns:
            continue
        both = rate[[u, v]].dropna()
        good = both[v] >= GOOD_RATE
        n_good = int(good.sum())
        if n_good < min_pairs:
            continue
        n_viol = int((good & (both[u] < POOR_RATE)).sum())
        share = n_viol / n_good
        if share >= limit:
            rows.append(
                {
                    "prerequisite": u,
                    "dependent": v,
                    "prerequisite_name": concept_name(G, u, lang),
                    "dependent_name": concept_name(G, v, lang),
                    "n_good_dependent": n_good,
                    "n_violations": n_viol,
                    "violation_rate": share,
                    "p_prerequisite": float(p_concept[u]),
                    "p_dependent": float(p_concept[v]),
                }
            )
    out = pd.DataFrame(rows, columns=CONFLICT_COLUMNS)
    return out.sort_values("violation_rate", ascending=False, kind="stable").reset_index(drop=True)

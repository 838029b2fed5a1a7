"""Teaching groups (分层教学小组): students clustered by mastery profile.

:func:`teaching_groups` clusters the students with at least one answer by their
mastery of the taught concepts, using scikit-learn's :class:`~sklearn.cluster.KMeans`
(``n_init=4`` k-means++ starts, seeded by ``random_state``). The number of groups is the ``k`` in
``[min_groups, max_groups]`` with the highest mean silhouette coefficient
(:func:`sklearn.metrics.silhouette_score`; ties go to the smaller ``k``), capped at
``n_students - 1`` as the silhouette needs. With fewer than three students with
answers, or when all their profiles are identical, there is one group.

Groups are numbered from 1 by increasing mean mastery (group 1 needs the most
support). Students without answers form group 0 (``"no_data"``), which is never
clustered. Each group is named by its **shared weak concepts**: concepts on which at
least ``shared_share`` of its members are below the mastery level, ranked by the
group's mean shortfall x (1 + dependents); a group without any is an extension group.

Missing cells (a student without an estimate for a taught concept) are filled with the
class mean of that concept before clustering.

Resources per group: pass a ``recommend`` callable ``(student_ids, k) -> DataFrame``
with ``student_id, resource_id`` and optionally ``concept_id`` (e.g. a bound batch
method of the recommendation pipeline): the group's resources are those recommended
to its members (top ``max(10, 3 n_resources)`` each) on its shared weak concepts first,
then the most often recommended;
or pass a catalogue (``resource_id, title, concept_ids, ...``) and each shared weak
concept gets the best catalogue resource teaching it (quality courses first).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score
from threadpoolctl import threadpool_limits

from edu_recsys.classroom.i18n import check_lang, concept_name, join, text
from edu_recsys.classroom.matrix import MasteryMatrix, mastery_matrix
from edu_recsys.constants import MASTERY_THRESHOLD
from edu_recsys.exceptions import InvalidDataError
from edu_recsys.graph import dependents_count

__all__ = ["TeachingGroups", "teaching_groups", "choose_k"]

#: Group number of the students without answers.
NO_DATA_GROUP = 0


@dataclass
class TeachingGroups:
    """Result of :func:`teaching_groups`.

    Attributes
    ----------
    assignments : DataFrame
        ``student_id, group, group_name`` in roster order.
    groups : DataFrame
        One row per group: ``group, name, size, mean_mastery, weak_concepts,
        weak_names, members, resources`` (resource ids).
    resources : DataFrame
        ``group, resource_id, title, concept_id, source`` (``"recommend"`` or
        ``"catalogue"``) of the chosen resources.
    k : int
        Number of clustered groups (group 0 not counted).
    silhouette : dict
        Mean silhouette per tried ``k``.
    """

    assignments: pd.DataFrame
    groups: pd.DataFrame
    resources: pd.DataFrame
    k: int
    silhouette: dict[int, float]
    params: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "k": self.k,
            "silhouette": {str(k): v for k, v in self.silhouette.items()},
            "params": self.params,
            "groups": self.groups.to_dict(orient="records"),
            "assignments": self.assignments.to_dict(orient="records"),
            "resources": self.resources.to_dict(orient="records"),
        }


def choose_k(
    X: np.ndarray, min_groups: int = 2, max_groups: int = 5, random_state: int | None = 0
) -> tuple[int, np.ndarray, dict[int, float]]:
    """Cluster ``X`` with KMeans for each ``k`` in the bounds; keep the best silhouette.

    Returns ``(k, labels, silhouette_by_k)``; ``k == 1`` (all labels 0) when fewer
    than three rows or fewer than two distinct rows.

    Examples
    --------
    >>> X = np.array([[0.1, 0.2], [0.15, 0.2], [0.9, 0.8], [0.95, 0.9], [0.9, 0.85]])
    >>> k, labels, sil = choose_k(X, 2, 4, random_state=0)
    >>> k, len(set(labels[:2])), len(set(labels[2:])), bool(labels[0] != labels[2])
    (2, 1, 1, True)
    """
    n = len(X)
    if min_groups < 1 or max_groups < min_groups:
        raise InvalidDataError(
            f"need 1 <= min_groups <= max_groups, got {min_groups}, {max_groups}",
            column="min_groups",
        )
    n_distinct = len(np.unique(np.round(X, 9), axis=0)) if n else 0
    hi = min(max_groups, n - 1, n_distinct)
    lo = max(2, min_groups)
    if hi < lo:
        return 1, np.zeros(n, dtype=int), {}
    scores: dict[int, float] = {}
    best: tuple[float, int, np.ndarray] | None = None
    for k in range(lo, hi + 1):
        km = KMeans(n_clusters=k, n_init=4, random_state=random_state)
        # one thread: on a class-sized matrix OpenMP start-up costs ~10x the work
        with threadpool_limits(limits=1):
            labels = km.fit_predict(X)
        if len(set(labels)) < 2:
            continue
        s = float(silhouette_score(X, labels))
        scores[k] = s
        if best is None or s > best[0] + 1e-12:
            best = (s, k, labels)
    if best is None:
        return 1, np.zeros(n, dtype=int), scores
    return best[1], best[2], scores


def _catalogue_pick(catalogue: pd.DataFrame, concept: str, used: set[str]) -> pd.Series | None:
    has = catalogue["concept_ids"].map(lambda cs: concept in tuple(cs or ()))
    cand = catalogue[has & ~catalogue["resource_id"].isin(used)]
    if cand.empty:
        return None
    sort_cols, asc = [], []
    for col, a in (("is_quality", False), ("quality", False), ("minutes", True)):
        if col in cand.columns:
            sort_cols.append(col)
            asc.append(a)
    if sort_cols:
        cand = cand.sort_values(sort_cols, ascending=asc, kind="stable")
    return cand.iloc[0]


def teaching_groups(
    mastery: pd.DataFrame | MasteryMatrix,
    G: nx.DiGraph | None = None,
    roster: Iterable[str] | pd.DataFrame | None = None,
    *,
    concepts: Sequence[str] | None = None,
    min_groups: int = 2,
    max_groups: int = 5,
    threshold: float = MASTERY_THRESHOLD,
    shared_share: float = 0.5,
    n_names: int = 2,
    catalogue: pd.DataFrame | None = None,
    recommend: Callable[[list[str], int], pd.DataFrame] | None = None,
    n_resources: int = 3,
    random_state: int | None = 0,
    lang: str = "zh",
) -> TeachingGroups:
    """Cluster a class into teaching groups (see the module docstring).

    Parameters
    ----------
    mastery : DataFrame or MasteryMatrix
        Mastery long table of the class (or its matrix).
    G : DiGraph, optional
        Subject graph (names, dependents for ranking weak concepts).
    roster : ids or DataFrame, optional
    concepts : sequence of str, optional
        Concepts to cluster on (default: those with at least one answer in the class).
    min_groups, max_groups : int
        Teacher-set bounds on the number of groups.
    threshold : float
        Mastery level.
    shared_share : float
        Share of a group's members below the level for a concept to be a shared weak
        concept.
    n_names : int
        How many shared weak concepts name a group.
    catalogue : DataFrame, optional
        Resource catalogue (contract columns) for resources per group.
    recommend : callable, optional
        ``recommend(student_ids, k) -> DataFrame(student_id, resource_id, ...)``;
        preferred over ``catalogue`` when given.
    n_resources : int
    random_state : int, optional
    lang : {"zh", "en"}

    Returns
    -------
    TeachingGroups

    Examples
    --------
    >>> rows = [(s, c, m) for s, ms in {"s1": (0.2, 0.3), "s2": (0.25, 0.3), "s3": (0.9, 0.4),
    ...         "s4": (0.95, 0.5), "s5": (0.9, 0.9)}.items() for c, m in zip("ab", ms)]
    >>> long = pd.DataFrame(rows, columns=["student_id", "concept_id", "mastery"])
    >>> tg = teaching_groups(long, roster=["s1", "s2", "s3", "s4", "s5", "s6"], lang="en")
    >>> tg.assignments["group"].tolist()
    [1, 1, 2, 2, 2, 0]
    >>> tg.groups[["group", "name", "size"]]
       group                       name  size
    0      1       Consolidate a, b     2
    1      2          Consolidate b     3
    2      0  Not yet assessed (no data)     1
    """
    lang = check_lang(lang)
    if not 0 < shared_share <= 1:
        raise InvalidDataError("shared_share must be in (0, 1]", column="shared_share")
    M = mastery if isinstance(mastery, MasteryMatrix) else mastery_matrix(mastery, roster, G)
    has = M.has_answers.to_numpy()
    if concepts is None:
        class_ev = (
            M.evidence.to_numpy()[has].sum(axis=0) if has.any() else np.zeros(len(M.concepts))
        )
        concepts = [c for c, e in zip(M.concepts, class_ev) if e > 0]
    else:
        concepts = [c for c in concepts if c in M.mastery.columns]
    active_ids = [s for s, h in zip(M.students, has) if h]
    X = M.mastery.loc[active_ids, concepts].to_numpy(dtype=float)
    if X.size:
        known = ~np.isnan(X)
        sums = np.where(known, X, 0.0).sum(axis=0)
        col_mean = np.where(known.any(axis=0), sums / np.maximum(known.sum(axis=0), 1), 0.5)
        X = np.where(known, X, col_mean)
    if len(active_ids) and concepts:
        k, labels, sil = choose_k(X, min_groups, max_groups, random_state)
    else:
        k, labels, sil = (1 if active_ids else 0), np.zeros(len(active_ids), dtype=int), {}

    # renumber: 1 = lowest mean mastery
    means = {lab: float(X[labels == lab].mean()) if X.size else float("nan") for lab in set(labels)}
    order = sorted(means, key=lambda lab: (means[lab], lab))
    renum = {lab: i + 1 for i, lab in enumerate(order)}
    group_of = {sid: renum[lab] for sid, lab in zip(active_ids, labels)}

    deps = dependents_count(G) if G is not None else {}
    rows = []
    for g in sorted(set(group_of.values())):
        idx = np.array([group_of[s] == g for s in active_ids])
        Xg = X[idx]
        below = (Xg < threshold).mean(axis=0) if len(Xg) else np.zeros(len(concepts))
        short = np.clip(threshold - Xg, 0, None).mean(axis=0) if len(Xg) else below
        score = short * (1 + np.array([deps.get(c, 0) for c in concepts]))
        cand = [
            j
            for j in np.argsort(-score, kind="stable")
            if below[j] >= shared_share and short[j] > 0
        ]
        weak = [concepts[j] for j in cand]
        names = [concept_name(G, c, lang) for c in weak]
        name = (
            text("group.name_weak", lang, names=join(names[:n_names], lang))
            if weak
            else text("group.name_extend", lang)
        )
        rows.append(
            {
                "group": g,
                "name": name,
                "size": int(idx.sum()),
                "mean_mastery": float(Xg.mean()) if Xg.size else float("nan"),
                "weak_concepts": weak,
                "weak_names": names,
                "members": [s for s in active_ids if group_of[s] == g],
            }
        )
    no_data = [s for s, h in zip(M.students, has) if not h]
    if no_data:
        rows.append(
            {
                "group": NO_DATA_GROUP,
                "name": text("group.name_no_data", lang),
                "size": len(no_data),
                "mean_mastery": float("nan"),
                "weak_concepts": [],
                "weak_names": [],
                "members": no_data,
            }
        )
    groups = pd.DataFrame(
        rows,
        columns=["group", "name", "size", "mean_mastery", "weak_concepts", "weak_names", "members"],
    )
    res = _group_resources(groups, catalogue, recommend, n_resources)
    groups["resources"] = [
        res.loc[res["group"] == g, "resource_id"].tolist() for g in groups["group"]
    ]
    name_of = dict(zip(groups["group"], groups["name"]))
    assign = pd.DataFrame(
        {
            "student_id": M.students,
            "group": [group_of.get(s, NO_DATA_GROUP) for s in M.students],
        }
    )
    assign["group_name"] = assign["group"].map(name_of)
    params = {
        "min_groups": min_groups,
        "max_groups": max_groups,
        "threshold": threshold,
        "shared_share": shared_share,
        "random_state": random_state,
        "criterion": "silhouette",
    }
    return TeachingGroups(assign, groups, res, k, sil, params)


def _group_resources(
    groups: pd.DataFrame,
    catalogue: pd.DataFrame | None,
    recommend: Callable[[list[str], int], pd.DataFrame] | None,
    n_resources: int,
) -> pd.DataFrame:
    cols = ["group", "resource_id", "title", "concept_id", "source"]
    out: list[dict[str, Any]] = []
    titles = {}
    if catalogue is not None and len(catalogue):
        titles = dict(
            zip(catalogue["resource_id"], catalogue.get("title", catalogue["resource_id"]))
        )
    for g, members, weak in zip(groups["group"], groups["members"], groups["weak_concepts"]):
        if g == NO_DATA_GROUP or not members:
            continue
        if recommend is not None:
            recs = recommend(list(members), max(10, 3 * n_resources))  # a wider pool
            if recs is not None and len(recs):
                counts = Counter(recs["resource_id"])
                concept_of = {}
                if "concept_ids" in recs.columns:
                    concept_of = {
                        r: (tuple(c)[0] if len(tuple(c)) else None)
                        for r, c in zip(recs["resource_id"], recs["concept_ids"])
                    }
                if "title" in recs.columns:
                    titles.update(zip(recs["resource_id"], recs["title"]))
                # resources on the group's shared weak concepts first, then the most common
                weak_set = set(weak)
                ranked = sorted(
                    counts.items(),
                    key=lambda kv: (concept_of.get(kv[0]) not in weak_set, -kv[1], str(kv[0])),
                )
                for rid, _ in ranked[:n_resources]:
                    out.append(
                        {
                            "group": g,
                            "resource_id": rid,
                            "title": titles.get(rid, rid),
                            "concept_id": concept_of.get(rid),
                            "source": "recommend",
                        }
                    )
                continue
        if catalogue is not None and len(catalogue):
            used: set[str] = set()
            for c in weak:
                if len(used) >= n_resources:
                    break
                pick = _catalogue_pick(catalogue, c, used)
                if pick is None:
                    continue
                used.add(pick["resource_id"])
                out.append(
                    {
                        "group": g,
                        "resource_id": pick["resource_id"],
                        "title": pick.get("title", pick["resource_id"]),
                        "concept_id": c,
                        "source": "catalogue",
                    }
                )
    return pd.DataFrame(out, columns=cols)

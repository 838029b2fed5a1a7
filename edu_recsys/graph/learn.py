"""Learning prerequisite edges from interaction logs, and evaluating them.

Method (conditional success, stratified by ability)
---------------------------------------------------
For an ordered concept pair ``(A, B)`` take every student who practised ``A`` before
starting ``B``. The student's state of ``A`` when ``B`` starts is *mastered* when the
accuracy of their last ``recent`` answers on ``A`` before that moment is at least
``mastery_threshold``; the outcome is the student's success on ``B`` (by default the
accuracy of their last ``recent`` answers on ``B``: did they learn it?). If ``A`` is a
prerequisite of ``B``, students who had mastered ``A`` should do better on ``B`` than
those who had not.

1. **Ability strata.** Able students do better on everything, so the comparison is
   made within strata of the students' accuracy on all *other* concepts (quantiles);
   the differences (mastered minus not) are combined with Mantel-Haenszel-type weights
   ``n1*n0/(n1+n0)``, with a standard error from the pooled within-stratum variances
   (shrunk towards the Bernoulli maximum 0.25 with two pseudo-observations).
2. **Background.** A noisy ability proxy leaves part of the confounding: on logs with
   no prerequisites at all the stratified effects are still positive. That residue is
   smooth (a concept whose state predicts *every* later concept, an outcome that every
   earlier state predicts), so it is estimated by robust row and column medians of the
   effect table (``row + column - overall median``, clipped at 0) and subtracted;
   prerequisites are the sparse excess above it.
3. **Test.** One-sided z-test of the remaining effect, Benjamini-Hochberg q-values over
   all tested pairs: the **evidence** table (:func:`prerequisite_evidence`).
4. **Conditional pruning.** For each concept, candidate prerequisites are taken
   strongest first; a candidate is dropped when, given the state of one already kept,
   its effect is no longer significant or falls below ``prune_ratio`` of its own
   effect (it predicted ``B`` only through the other: a shared prerequisite, or the
   other's prerequisite) (:func:`conditional_evidence`).
5. **DAG.** Edges are added in order of decreasing ``z``, skipping any that would close
   a cycle (of ``A -> B`` and ``B -> A`` the stronger wins), and the transitive
   reduction is taken, since an ancestor's effect also shows on its grandchildren.

What it can and cannot see: only pairs practised in both orders by enough students can
be oriented by data; with a fixed curriculum order, time order decides. Related
concepts that share an unobserved skill look like prerequisites. The benchmark
``benchmarks/bench_graph_learn.py`` measures it on simulated logs with a known graph
and on real ASSISTments logs against Junyi's annotations (through a hand-made skill
crosswalk).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
from scipy.stats import norm

from edu_recsys.exceptions import InvalidDataError
from edu_recsys.graph.queries import PREREQUISITE, prerequisite_view

__all__ = [
    "prerequisite_evidence",
    "conditional_evidence",
    "learn_prerequisites",
    "evidence_to_graph",
    "evaluate_prerequisites",
    "EVIDENCE_COLUMNS",
]

log = logging.getLogger(__name__)

#: Columns of :func:`prerequisite_evidence`'s result.
EVIDENCE_COLUMNS = (
    "source",
    "target",
    "effect",
    "z",
    "p_value",
    "q_value",
    "n_students",
    "n_mastered",
    "n_not_mastered",
    "stratified_effect",
    "background",
    "raw_effect",
    "order_share",
)


# The background needs enough pairs to be estimated (see prerequisite_evidence).
_MIN_BACKGROUND_PAIRS = 12
_MIN_LINE_PAIRS = 4


def _attempts(interactions: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """One row per (answer, concept): student code, concept code, position, correct."""
    need = {"student_id", "concept_ids", "correct"}
    missing = need - set(interactions.columns)
    if missing:
        raise InvalidDataError(
            f"missing column(s) {', '.join(sorted(missing))}",
            expected="an interactions table (see edu_recsys.data)",
        )
    df = interactions[["student_id", "concept_ids", "correct"]].copy()
    # Rows of one student are in time order (the interactions contract); keep that order.
    df["pos"] = df.groupby("student_id", sort=False).cumcount()
    df = df.explode("concept_ids")
    df = df[df["concept_ids"].notna() & (df["concept_ids"].astype(str) != "")]
    s_codes, _ = pd.factorize(df["student_id"])
    c_codes, concepts = pd.factorize(df["concept_ids"].astype(str))
    att = pd.DataFrame(
        {
            "s": s_codes.astype(np.int64),
            "c": c_codes.astype(np.int64),
            "pos": df["pos"].to_numpy(np.int64),
            "y": df["correct"].to_numpy(np.float64),
        }
    )
    att = att.sort_values(["s", "pos", "c"], kind="stable").reset_index(drop=True)
    return att, np.asarray(concepts, dtype=object)


def _bh(p: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg q-values."""
    n = len(p)
    if n == 0:
        return p
    order = np.argsort(p)
    ranked = p[order] * n / np.arange(1, n + 1)
    q = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty(n)
    out[order] = np.minimum(q, 1.0)
    return out


def _pair_table(
    interactions: pd.DataFrame,
    outcome: str,
    first_k: int,
    recent: int,
    mastery_threshold: float,
    n_strata: int,
) -> tuple[pd.DataFrame, np.ndarray, pd.DataFrame]:
    """One row per (student, A, B) with A started before B: state of A, outcome on B."""
    if outcome not in ("first", "last", "mean"):
        raise ValueError(f"outcome must be 'first', 'last' or 'mean', got {outcome!r}")
    att, concepts = _attempts(interactions)
    empty = pd.DataFrame(columns=["s", "c_a", "c_b", "x", "level", "stratum", "y"])
    if att.empty:
        return empty, concepts, pd.DataFrame(columns=["sum", "size"])
    g = att.groupby(["s", "c"], sort=False)
    att["k"] = g.cumcount() + 1
    att["cs"] = g["y"].cumsum()
    lag = att.groupby(["s", "c"], sort=False)["cs"].shift(recent).fillna(0.0)
    att["recent"] = (att["cs"] - lag) / np.minimum(att["k"], recent)

    sc = att.groupby(["s", "c"], sort=False).agg(
        first_pos=("pos", "min"), n=("y", "size"), ncor=("y", "sum")
    )
    if outcome == "first":
        sc["y_out"] = att[att["k"] <= first_k].groupby(["s", "c"], sort=False)["y"].mean()
    elif outcome == "last":
        sc["y_out"] = att.groupby(["s", "c"], sort=False)["recent"].last()
    else:
        sc["y_out"] = sc["ncor"] / sc["n"]
    sc = sc.reset_index()
    tot = att.groupby("s").agg(N=("y", "size"), C=("y", "sum"))

    pairs = sc.merge(sc, on="s", suffixes=("_a", "_b"))
    pairs = pairs[pairs["c_a"] != pairs["c_b"]]
    order_counts = (
        pairs.assign(before=pairs["first_pos_a"] < pairs["first_pos_b"])
        .groupby(["c_a", "c_b"])["before"]
        .agg(["sum", "size"])
    )
    pairs = pairs[pairs["first_pos_a"] < pairs["first_pos_b"]]
    if pairs.empty:
        return empty, concepts, order_counts

    # State of A just before B starts (strictly earlier answers only).
    left = pairs[["s", "c_a", "first_pos_b"]].reset_index().sort_values("first_pos_b")
    right = att[["s", "c", "pos", "recent"]].rename(columns={"c": "c_a"}).sort_values("pos")
    state = pd.merge_asof(
        left,
        right,
        left_on="first_pos_b",
        right_on="pos",
        by=["s", "c_a"],
        allow_exact_matches=False,
        direction="backward",
    ).set_index("index")
    recent_a = state["recent"].reindex(pairs.index).to_numpy(np.float64)
    x = (recent_a >= mastery_threshold).astype(np.int8)

    # Ability on the other concepts, in quantile strata of the students' accuracy.
    totals = tot.reindex(pairs["s"].to_numpy())
    other_n = totals["N"].to_numpy() - pairs["n_a"].to_numpy() - pairs["n_b"].to_numpy()
    other_c = totals["C"].to_numpy() - pairs["ncor_a"].to_numpy() - pairs["ncor_b"].to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        other_acc = np.where(other_n > 0, other_c / np.maximum(other_n, 1), np.nan)
    if n_strata > 1:
        student_acc = (tot["C"] / tot["N"]).to_numpy()
        edges = np.quantile(student_acc, np.linspace(0, 1, n_strata + 1)[1:-1])
        stratum = np.where(np.isnan(other_acc), -1, np.digitize(other_acc, edges))
    else:
        stratum = np.zeros(len(pairs), dtype=np.int64)
    table = pd.DataFrame(
        {
            "s": pairs["s"].to_numpy(),
            "c_a": pairs["c_a"].to_numpy(),
            "c_b": pairs["c_b"].to_numpy(),
            "x": x,
            "level": np.rint(recent_a * 3).astype(np.int64),
            "stratum": stratum.astype(np.int64),
            "y": pairs["y_out_b"].to_numpy(np.float64),
        }
    )
    return table, concepts, order_counts


def _combine(table: pd.DataFrame, keys: list[str], min_students: int, min_group: int):
    """Stratified mastered-vs-not difference of mean outcome, per key group."""
    t = table.assign(yy=table["y"] ** 2)
    agg = (
        t.groupby([*keys, "stratum", "x"])
        .agg(n=("y", "size"), sy=("y", "sum"), syy=("yy", "sum"))
        .unstack("x", fill_value=0)
    )
    for col in ("n", "sy", "syy"):
        for xv in (0, 1):
            if (col, xv) not in agg.columns:
                agg[(col, xv)] = 0.0
    n0, n1 = agg[("n", 0)].to_numpy(float), agg[("n", 1)].to_numpy(float)
    s0, s1 = agg[("sy", 0)].to_numpy(float), agg[("sy", 1)].to_numpy(float)
    q0, q1 = agg[("syy", 0)].to_numpy(float), agg[("syy", 1)].to_numpy(float)
    ok = (n0 > 0) & (n1 > 0)
    m0, m1 = s0 / np.maximum(n0, 1), s1 / np.maximum(n1, 1)
    # Pooled within-stratum variance, shrunk towards 0.25 with two pseudo-observations.
    var = ((q0 - s0 * m0) + (q1 - s1 * m1) + 0.25 * 2) / (n0 + n1)
    w = np.where(ok, n0 * n1 / np.maximum(n0 + n1, 1), 0.0)
    d = np.where(ok, m1 - m0, 0.0)
    v = np.where(ok, var * (1 / np.maximum(n1, 1) + 1 / np.maximum(n0, 1)), 0.0)
    strat = pd.DataFrame(
        {
            "w": w,
            "wd": w * d,
            "w2v": w * w * v,
            "n": np.where(ok, n0 + n1, 0),
            "n1": np.where(ok, n1, 0),
            "n0": np.where(ok, n0, 0),
            "all_n0": n0,
            "all_n1": n1,
            "all_s0": s0,
            "all_s1": s1,
        },
        index=agg.index,
    )
    per = strat.groupby(level=keys).sum()
    per = per[(per["n"] >= min_students) & (per["n1"] >= min_group) & (per["n0"] >= min_group)]
    per = per.assign(effect=per["wd"] / per["w"])
    per["z"] = per["effect"] / (np.sqrt(per["w2v"]) / per["w"])
    with np.errstate(invalid="ignore", divide="ignore"):
        per["raw"] = per["all_s1"] / per["all_n1"] - per["all_s0"] / per["all_n0"]
    return per


def prerequisite_evidence(
    interactions: pd.DataFrame,
    *,
    outcome: str = "last",
    first_k: int = 3,
    recent: int = 3,
    mastery_threshold: float = 0.5,
    n_strata: int = 5,
    min_students: int = 20,
    min_group: int = 5,
    background: bool = True,
) -> pd.DataFrame:
    """Evidence that each concept is a prerequisite of each later concept.

    Parameters
    ----------
    interactions : DataFrame
        Canonical interactions (``student_id``, ``concept_ids``, ``correct``; rows of a
        student in time order). Multi-concept answers count for each concept.
    outcome : {"last", "first", "mean"}, default "last"
        Success on ``B``: accuracy of the last ``recent`` answers (did the student
        learn B?), of the first ``first_k`` answers (did they start knowing it?), or
        of all answers on ``B``.
    first_k : int, default 3
    recent : int, default 3
        State of ``A``: accuracy of the last ``recent`` answers before ``B`` starts.
    mastery_threshold : float, default 0.5
        ``A`` counts as mastered when that accuracy is at least this.
    n_strata : int, default 5
        Ability strata (quantiles of accuracy on other concepts).
    min_students, min_group : int
        A pair is tested only with at least ``min_students`` students in usable strata,
        ``min_group`` of them with ``A`` mastered and ``min_group`` without.
    background : bool, default True
        Subtract the ability background that stratification leaves (see the module
        docstring) before testing.

    Returns
    -------
    DataFrame
        One row per tested pair, sorted by decreasing ``z``: ``source`` (A),
        ``target`` (B), ``effect`` (stratified difference in success on B, less the
        background), ``z``, ``p_value`` (one-sided), ``q_value`` (Benjamini-Hochberg),
        ``n_students``, ``n_mastered``, ``n_not_mastered``, ``stratified_effect``,
        ``background``, ``raw_effect`` (unstratified difference) and ``order_share``
        (share of the students who saw both concepts who started A first).

    Examples
    --------
    >>> rows = []
    >>> for s in range(60):
    ...     knows_a = s % 2 == 0
    ...     rows += [(f"s{s}", ("a",), int(knows_a)), (f"s{s}", ("a",), int(knows_a))]
    ...     rows += [(f"s{s}", ("b",), int(knows_a or s % 5 == 0))]
    >>> df = pd.DataFrame(rows, columns=["student_id", "concept_ids", "correct"])
    >>> ev = prerequisite_evidence(df, n_strata=1)
    >>> ev.loc[0, ["source", "target"]].tolist(), float(round(ev.loc[0, "effect"], 2))
    (['a', 'b'], 0.8)
    """
    table, concepts, order_counts = _pair_table(
        interactions, outcome, first_k, recent, mastery_threshold, n_strata
    )
    return _evidence(table, concepts, order_counts, min_students, min_group, background)


def _evidence(
    table: pd.DataFrame,
    concepts: np.ndarray,
    order_counts: pd.DataFrame,
    min_students: int,
    min_group: int,
    background: bool = True,
) -> pd.DataFrame:
    if table.empty:
        return pd.DataFrame(columns=list(EVIDENCE_COLUMNS))
    per = _combine(table, ["c_a", "c_b"], min_students, min_group)
    if per.empty:
        return pd.DataFrame(columns=list(EVIDENCE_COLUMNS))
    oc = order_counts.reindex(per.index)
    a_idx = per.index.get_level_values("c_a").to_numpy()
    b_idx = per.index.get_level_values("c_b").to_numpy()
    strat = per["effect"].to_numpy()
    se = np.sqrt(per["w2v"].to_numpy()) / per["w"].to_numpy()
    out = pd.DataFrame(
        {
            "source": concepts[a_idx],
            "target": concepts[b_idx],
            "stratified_effect": strat,
        }
    )
    if background and len(out) >= _MIN_BACKGROUND_PAIRS:
        # What ability alone leaves after stratification: a concept whose state predicts
        # every later concept, or an outcome that every earlier state predicts. Robust
        # row and column medians of the effect table, double-centred, clipped at 0; a
        # row or column with too few pairs to estimate its median counts as neutral.
        g = float(np.median(strat))

        def median_of(key: str) -> pd.Series:
            grp = out.groupby(key)["stratified_effect"]
            med = grp.transform("median").where(grp.transform("size") >= _MIN_LINE_PAIRS)
            return med.fillna(g)

        base = (median_of("source") + median_of("target") - g).clip(lower=0.0).to_numpy()
    else:
        base = np.zeros(len(out))
    out["background"] = base
    out["effect"] = strat - base
    out["z"] = out["effect"] / se
    out["p_value"] = norm.sf(out["z"].to_numpy())
    out["q_value"] = _bh(out["p_value"].to_numpy())
    out["n_students"] = per["n"].to_numpy().astype(np.int64)
    out["n_mastered"] = per["n1"].to_numpy().astype(np.int64)
    out["n_not_mastered"] = per["n0"].to_numpy().astype(np.int64)
    out["raw_effect"] = per["raw"].to_numpy()
    out["order_share"] = (oc["sum"] / oc["size"]).to_numpy()
    out = out[list(EVIDENCE_COLUMNS)]
    out = out.sort_values(["z", "source", "target"], ascending=[False, True, True])
    return out.reset_index(drop=True)


def conditional_evidence(
    interactions: pd.DataFrame,
    candidates: pd.DataFrame,
    *,
    outcome: str = "last",
    first_k: int = 3,
    recent: int = 3,
    mastery_threshold: float = 0.5,
    n_strata: int = 5,
    min_students: int = 20,
    min_group: int = 5,
) -> pd.DataFrame:
    """Effect of each candidate prerequisite A of B given the state of another one, P.

    For every concept ``B`` and every two of its candidate prerequisites ``A != P``
    (rows of ``candidates``: ``source``, ``target``), the stratified effect of A's state
    on success on B is recomputed within strata of ability x P's state. If A's effect
    vanishes once P is known, A predicted B only through P (a shared prerequisite,
    or A being P's prerequisite).

    Parameters are those of :func:`prerequisite_evidence`.

    Returns
    -------
    DataFrame
        ``source`` (A), ``given`` (P), ``target`` (B), ``effect``, ``z``, ``n_students``.
    """
    table, concepts, _ = _pair_table(
        interactions, outcome, first_k, recent, mastery_threshold, n_strata
    )
    return _conditional(table, concepts, candidates, min_students, min_group)


def _conditional(
    table: pd.DataFrame,
    concepts: np.ndarray,
    candidates: pd.DataFrame,
    min_students: int,
    min_group: int,
) -> pd.DataFrame:
    cols = ["source", "given", "target", "effect", "z", "n_students"]
    if table.empty or candidates.empty:
        return pd.DataFrame(columns=cols)
    code = {c: i for i, c in enumerate(concepts)}
    cand = pd.DataFrame(
        {
            "c_a": candidates["source"].map(code).to_numpy(np.int64),
            "c_b": candidates["target"].map(code).to_numpy(np.int64),
        }
    )
    sub = table.merge(cand, on=["c_a", "c_b"])
    other = sub[["s", "c_a", "c_b", "level"]].rename(columns={"c_a": "c_p", "level": "x_p"})
    trip = sub.merge(other, on=["s", "c_b"])
    trip = trip[trip["c_a"] != trip["c_p"]]
    if trip.empty:
        return pd.DataFrame(columns=cols)
    # Strata of ability x the level of P (its recent accuracy in quarters).
    trip = trip.assign(stratum=trip["stratum"] * 4 + trip["x_p"])
    per = _combine(trip, ["c_a", "c_p", "c_b"], min_students, min_group)
    return pd.DataFrame(
        {
            "source": concepts[per.index.get_level_values("c_a").to_numpy()],
            "given": concepts[per.index.get_level_values("c_p").to_numpy()],
            "target": concepts[per.index.get_level_values("c_b").to_numpy()],
            "effect": per["effect"].to_numpy(),
            "z": per["z"].to_numpy(),
            "n_students": per["n"].to_numpy().astype(np.int64),
        }
    )


def _select(evidence: pd.DataFrame, alpha: float, min_effect: float) -> pd.DataFrame:
    keep = evidence[(evidence["q_value"] <= alpha) & (evidence["effect"] >= min_effect)]
    return keep.sort_values("z", ascending=False, kind="stable")


def _prune(
    keep: pd.DataFrame, conditional: pd.DataFrame, prune_z: float, prune_ratio: float
) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """Greedy forward selection of each concept's prerequisites, strongest first.

    A candidate is kept only if its effect stays significant (``z >= prune_z``) given
    the state of every prerequisite already kept for the same concept (pairs without
    enough data to test do not count against it).
    """
    lookup = {
        (r.source, r.given, r.target): (float(r.z), float(r.effect))
        for r in conditional.itertuples(index=False)
    }
    kept_rows, pruned = [], []
    kept: dict[str, list[str]] = {}

    def blocks(r: Any, p: str) -> bool:
        z, eff = lookup.get((r.source, p, r.target), (np.inf, np.inf))
        base = getattr(r, "stratified_effect", r.effect)
        return z < prune_z or eff < prune_ratio * base

    for i, r in enumerate(keep.itertuples(index=False)):
        others = kept.setdefault(r.target, [])
        blocker = next((p for p in others if blocks(r, p)), None)
        if blocker is None:
            others.append(r.source)
            kept_rows.append(i)
        else:
            pruned.append(
                {
                    "source": r.source,
                    "target": r.target,
                    "given": blocker,
                    "z": float(r.z),
                    "z_given": lookup[(r.source, blocker, r.target)][0],
                }
            )
    return keep.iloc[kept_rows], pruned


def evidence_to_graph(
    evidence: pd.DataFrame,
    *,
    alpha: float = 0.05,
    min_effect: float = 0.05,
    conditional: pd.DataFrame | None = None,
    prune_z: float = 1.645,
    prune_ratio: float = 0.8,
    max_parents: int | None = None,
    reduce: bool = True,
    concepts: Iterable[str] | None = None,
    names: Mapping[str, str] | None = None,
) -> nx.DiGraph:
    """Propose a prerequisite DAG from an evidence table.

    Parameters
    ----------
    evidence : DataFrame
        From :func:`prerequisite_evidence`.
    alpha : float, default 0.05
        Keep pairs with ``q_value <= alpha`` ...
    min_effect : float, default 0.05
        ... and ``effect >= min_effect``.
    conditional : DataFrame, optional
        From :func:`conditional_evidence` on the kept pairs: then each concept's
        prerequisites are chosen greedily (strongest first), dropping a candidate whose
        effect is not significant (``z < prune_z``) given one already chosen.
    prune_z : float, default 1.645
    max_parents : int, optional
        Keep at most this many prerequisites per concept (the strongest).
    reduce : bool, default True
        Take the transitive reduction (drop ``A -> C`` when ``A -> B -> C`` is kept).
    concepts : iterable of str, optional
        Nodes to include even without edges.
    names : mapping, optional
        ``concept -> display name`` for the node ``name`` attribute.

    Returns
    -------
    DiGraph
        Edges carry ``relation="prerequisite"``, ``effect``, ``z``, ``q_value`` and
        ``confidence`` (``1 - q_value``). Nodes have ``grade=0`` and ``unit="learned"``;
        ``G.graph["pruned"]`` lists the candidates dropped by the conditional test.

    Examples
    --------
    >>> ev = pd.DataFrame({"source": ["a", "b", "a", "b"], "target": ["b", "a", "c", "c"],
    ...     "effect": [0.3, 0.2, 0.2, 0.3], "z": [6.0, 4.0, 3.0, 5.0],
    ...     "q_value": [0.001, 0.001, 0.01, 0.001]})
    >>> sorted(evidence_to_graph(ev).edges)
    [('a', 'b'), ('b', 'c')]
    """
    keep = _select(evidence, alpha, min_effect)
    pruned: list[dict[str, Any]] = []
    if conditional is not None and len(conditional):
        keep, pruned = _prune(keep, conditional, prune_z, prune_ratio)
    G = nx.DiGraph(id="learned", subject="unknown", name="learned prerequisites")
    for c in concepts if concepts is not None else []:
        G.add_node(c)
    parents: dict[str, int] = {}
    for r in keep.itertuples(index=False):
        u, v = r.source, r.target
        if max_parents is not None and parents.get(v, 0) >= max_parents:
            continue
        if u in G and v in G and nx.has_path(G, v, u):
            continue  # would close a cycle: a stronger edge already orders them
        G.add_edge(
            u,
            v,
            relation=PREREQUISITE,
            effect=round(float(r.effect), 4),
            z=round(float(r.z), 3),
            q_value=float(f"{r.q_value:.3g}"),
            confidence=round(float(1.0 - r.q_value), 4),
        )
        parents[v] = parents.get(v, 0) + 1
    if reduce and G.number_of_edges():
        R = nx.transitive_reduction(G)
        G.remove_edges_from([e for e in G.edges if not R.has_edge(*e)])
    names = names or {}
    for n in G:
        G.nodes[n].update(
            {"name": str(names.get(n, n)), "name_en": str(n), "grade": 0, "unit": "learned"}
        )
    G.graph["units"] = {"learned": {"name": "learned", "grade": 0}}
    G.graph["items"] = {}
    G.graph["resources"] = {}
    G.graph["pruned"] = pruned
    return G


def learn_prerequisites(
    interactions: pd.DataFrame,
    *,
    alpha: float = 0.05,
    min_effect: float = 0.05,
    prune: bool = True,
    prune_z: float = 1.645,
    prune_ratio: float = 0.8,
    max_parents: int | None = None,
    reduce: bool = True,
    names: Mapping[str, str] | None = None,
    outcome: str = "last",
    first_k: int = 3,
    recent: int = 3,
    mastery_threshold: float = 0.5,
    n_strata: int = 5,
    min_students: int = 20,
    min_group: int = 5,
    background: bool = True,
) -> nx.DiGraph:
    """Learn a prerequisite DAG from interaction logs.

    :func:`prerequisite_evidence`, then (with ``prune``) :func:`conditional_evidence`
    on the candidates, then :func:`evidence_to_graph`. The evidence table is kept in
    ``G.graph["evidence"]``. See the module docstring for the method and its limits.

    Examples
    --------
    >>> from edu_recsys.graph.synthetic import simulate_prerequisite_logs
    >>> truth = nx.DiGraph([("a", "b"), ("b", "c")])
    >>> logs = simulate_prerequisite_logs(truth, n_students=300, random_state=0)
    >>> sorted(learn_prerequisites(logs).edges)
    [('a', 'b'), ('b', 'c')]
    """
    table, concepts, order_counts = _pair_table(
        interactions, outcome, first_k, recent, mastery_threshold, n_strata
    )
    ev = _evidence(table, concepts, order_counts, min_students, min_group, background)
    cond = None
    if prune and len(ev):
        cond = _conditional(
            table, concepts, _select(ev, alpha, min_effect), min_students, min_group
        )
    G = evidence_to_graph(
        ev,
        alpha=alpha,
        min_effect=min_effect,
        conditional=cond,
        prune_z=prune_z,
        prune_ratio=prune_ratio,
        max_parents=max_parents,
        reduce=reduce,
        concepts=[str(c) for c in concepts],
        names=names,
    )
    G.graph["evidence"] = ev
    log.info(
        "learned %d prerequisite edges among %d concepts from %d tested pairs (%d pruned)",
        G.number_of_edges(),
        G.number_of_nodes(),
        len(ev),
        len(G.graph["pruned"]),
    )
    return G


def _edge_set(x: nx.DiGraph | Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
    if isinstance(x, nx.DiGraph):
        return {(str(u), str(v)) for u, v in prerequisite_view(x).edges}
    return {(str(u), str(v)) for u, v in x}


def _closure(edges: set[tuple[str, str]]) -> set[tuple[str, str]]:
    G = nx.DiGraph(list(edges))
    return {(str(a), str(d)) for a in G for d in nx.descendants(G, a)}


def evaluate_prerequisites(
    proposed: nx.DiGraph | Iterable[tuple[str, str]],
    reference: nx.DiGraph | Iterable[tuple[str, str]],
    *,
    concepts: Iterable[str] | None = None,
) -> dict[str, float]:
    """Precision and recall of proposed prerequisite edges against a reference.

    Parameters
    ----------
    proposed, reference : DiGraph or iterable of (prerequisite, concept) pairs
    concepts : iterable of str, optional
        Restrict the evaluation to edges among these concepts (e.g. those that both
        sides cover). Default: the concepts of the reference.

    Returns
    -------
    dict
        ``precision``, ``recall``, ``f1`` on direct edges;
        ``precision_closure`` (share of proposed edges whose source is an ancestor of
        the target in the reference), ``recall_closure`` (share of reference edges whose
        source is an ancestor of the target in the proposal); ``base_rate_closure``
        (share of all ordered concept pairs that are ancestor pairs in the reference:
        the closure precision of random guessing); counts ``n_proposed``,
        ``n_reference``, ``n_concepts``, ``true_positives``.

    Examples
    --------
    >>> ref = [("a", "b"), ("b", "c")]
    >>> m = evaluate_prerequisites([("a", "b"), ("a", "c"), ("c", "a")], ref)
    >>> round(m["precision"], 3), m["recall"], round(m["precision_closure"], 3)
    (0.333, 0.5, 0.667)
    """
    P, R = _edge_set(proposed), _edge_set(reference)
    if concepts is None:
        ref_nodes = (
            {str(n) for n in reference}
            if isinstance(reference, nx.DiGraph)
            else {c for e in R for c in e}
        )
        keep = ref_nodes
    else:
        keep = {str(c) for c in concepts}
    P = {e for e in P if e[0] in keep and e[1] in keep}
    R = {e for e in R if e[0] in keep and e[1] in keep}
    Rc, Pc = _closure(R), _closure(P)
    tp = len(P & R)
    precision = tp / len(P) if P else float("nan")
    recall = tp / len(R) if R else float("nan")
    f1 = (
        2 * precision * recall / (precision + recall)
        if P and R and (precision + recall) > 0
        else float("nan")
    )
    n = len(keep)
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "precision_closure": len(P & Rc) / len(P) if P else float("nan"),
        "recall_closure": len(R & Pc) / len(R) if R else float("nan"),
        "base_rate_closure": len(Rc) / (n * (n - 1)) if n > 1 else float("nan"),
        "n_proposed": len(P),
        "n_reference": len(R),
        "n_concepts": n,
        "true_positives": tp,
    }

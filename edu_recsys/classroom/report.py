"""The teacher's class report (班级学情报告): what the class has and has not mastered.

From a class's mastery (the mastery contract's long table, or a
:class:`~edu_recsys.classroom.matrix.MasteryMatrix`) and the subject graph,
:func:`class_report` computes:

- the student x concept **mastery matrix** and, per concept, the class **mean**, the
  **spread** (population standard deviation) and how many students reached the
  mastery level (:data:`~edu_recsys.constants.MASTERY_THRESHOLD`);
- the **weakest concepts**, ranked by how much they block::

      block_score = gap x (1 + dependents) x relevance

  where ``gap`` is the class's mean shortfall below the mastery level, normalised to
  [0, 1] (``mean(max(0, T - m)) / T``), ``dependents`` the number of concepts that
  (transitively) depend on the concept (:func:`edu_recsys.graph.dependents_count`),
  and ``relevance`` the concept's relevance to the current unit (:data:`RELEVANCE`:
  1 in the unit, 0.8 for a direct prerequisite of the unit, 0.5 for an earlier
  prerequisite, 0.2 otherwise; 1 for every concept when no unit is given);
- **attainment bands** (学业水平分级) by each student's mean mastery over the taught
  concepts (:data:`ATTAINMENT_BANDS`: 优秀 >= 0.85, 良好 >= 0.70, 合格 >= 0.60,
  待提高 below; the cut-offs mirror the score rates 85 % / 70 % / 60 % that Chinese
  schools use for 优秀 / 良好 / 合格);
- **students at risk**: mean mastery below ``risk_mean`` (default 0.6, the lowest
  band), or mastery below ``risk_mean`` on at least ``risk_prerequisite_share``
  (default half) of the current unit's direct prerequisites (concepts outside the unit
  that the unit's concepts build on directly);
- the **focus for the next lesson**: the top of the weakest-concept ranking, each with
  its reasons (class mean and how many are below the level, what it blocks, its place
  in the current unit, its spread, weak prerequisites of its own).

Which concepts count: a concept is *taught* when at least one student of the class has
an answer on it (or when listed in ``taught=``). Statistics use the taught concepts
and the students with at least one answer.

Documented results for degenerate classes (never an exception):

- **empty class** (no students): every table is empty, ``summary["status"] ==
  "empty_class"``;
- **a student with no answers**: band ``"no_data"``, ``flag == "no_answers"``, not at
  risk, and left out of the class statistics; when nobody has answers,
  ``summary["status"] == "no_answers"`` and nothing is ranked.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

from edu_recsys.classroom._util import quiet_nan
from edu_recsys.classroom.i18n import check_lang, concept_name, join, text, unit_name
from edu_recsys.classroom.matrix import MasteryMatrix, mastery_matrix
from edu_recsys.constants import MASTERY_THRESHOLD
from edu_recsys.exceptions import InvalidDataError
from edu_recsys.graph import dependents_count, prerequisite_view

__all__ = [
    "ATTAINMENT_BANDS",
    "RELEVANCE",
    "ClassReport",
    "class_report",
    "attainment_band",
    "unit_relevance",
]

#: ``(code, lower bound of the student's mean mastery)``, best first; the last band
#: takes everything below the previous bound.
ATTAINMENT_BANDS: tuple[tuple[str, float], ...] = (
    ("excellent", 0.85),
    ("good", 0.70),
    ("pass", 0.60),
    ("below", 0.0),
)

#: Relevance of a concept to the current unit (see the module docstring).
RELEVANCE: dict[str, float] = {
    "unit": 1.0,
    "direct_prerequisite": 0.8,
    "prerequisite": 0.5,
    "other": 0.2,
}

#: A concept's spread is called large (a reason to teach in tiers) above this SD.
LARGE_SPREAD = 0.2


def attainment_band(mean: float, bands: Sequence[tuple[str, float]] = ATTAINMENT_BANDS) -> str:
    """The band code of a student's mean mastery (``"no_data"`` for NaN).

    >>> attainment_band(0.9), attainment_band(0.7), attainment_band(0.3)
    ('excellent', 'good', 'below')
    >>> attainment_band(float("nan"))
    'no_data'
    """
    if mean is None or np.isnan(mean):
        return "no_data"
    for code, lower in bands:
        if mean >= lower:
            return code
    return bands[-1][0]


def _units_of(current_unit: str | Iterable[str] | None) -> list[str]:
    if current_unit is None:
        return []
    if isinstance(current_unit, str):
        return [current_unit]
    return [str(u) for u in current_unit]


def unit_relevance(G: nx.DiGraph, current_unit: str | Iterable[str] | None) -> dict[str, float]:
    """Relevance of every concept to the current unit(s), from :data:`RELEVANCE`.

    Examples
    --------
    >>> G = nx.DiGraph([("a", "b"), ("b", "c"), ("c", "d")])
    >>> nx.set_node_attributes(G, {"a": "u1", "b": "u1", "c": "u2", "d": "u3"}, "unit")
    >>> unit_relevance(G, "u2")
    {'a': 0.5, 'b': 0.8, 'c': 1.0, 'd': 0.2}
    >>> set(unit_relevance(G, None).values())
    {1.0}
    """
    units = set(_units_of(current_unit))
    if not units:
        return {c: 1.0 for c in G}
    P = prerequisite_view(G)
    in_unit = {c for c, d in G.nodes(data=True) if d.get("unit") in units}
    direct = {p for c in in_unit for p in P.predecessors(c)} - in_unit
    earlier = set()
    for c in in_unit:
        earlier |= nx.ancestors(P, c)
    earlier -= in_unit | direct
    out = {}
    for c in G:
        if c in in_unit:
            out[c] = RELEVANCE["unit"]
        elif c in direct:
            out[c] = RELEVANCE["direct_prerequisite"]
        elif c in earlier:
            out[c] = RELEVANCE["prerequisite"]
        else:
            out[c] = RELEVANCE["other"]
    return out


@dataclass
class ClassReport:
    """The class report; pandas tables for programs, :meth:`to_dict` for JSON.

    Attributes
    ----------
    matrix : DataFrame
        Students x concepts mastery (roster order, graph order); NaN where unknown.
    evidence : DataFrame
        Answers behind each cell.
    concepts : DataFrame
        One row per concept (index ``concept_id``): ``name, unit, taught, n_students,
        mean, std, n_mastered, n_below, share_mastered, gap, dependents, relevance,
        block_score, rank`` (rank 1 = blocks most; 0 when not ranked).
    weakest : DataFrame
        The ranked concepts (``block_score > 0``), best first, at most ``n_weakest``.
    students : DataFrame
        One row per student: ``student_id, has_answers, evidence, mean_mastery,
        n_mastered, share_mastered, band, band_label, at_risk, risk_codes,
        risk_reasons, flag``.
    bands : DataFrame
        ``band, label, lower, upper, count, share`` (share of students with answers).
    focus : DataFrame
        ``concept_id, name, block_score, reason_codes, reasons`` for the next lesson.
    summary : dict
        Headline numbers and ``status`` (``"ok"``, ``"empty_class"`` or
        ``"no_answers"``).
    """

    matrix: pd.DataFrame
    evidence: pd.DataFrame
    concepts: pd.DataFrame
    weakest: pd.DataFrame
    students: pd.DataFrame
    bands: pd.DataFrame
    focus: pd.DataFrame
    summary: dict[str, Any]
    lang: str = "zh"
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def taught(self) -> list[str]:
        """Ids of the taught concepts (graph order)."""
        return self.concepts.index[self.concepts["taught"]].tolist()

    @property
    def at_risk(self) -> pd.DataFrame:
        """The rows of :attr:`students` at risk."""
        return self.students[self.students["at_risk"]]

    def to_dict(self, *, include_matrix: bool = True) -> dict[str, Any]:
        """A JSON-ready dict (NaN kept as float nan; the CLI writes them as null)."""
        out: dict[str, Any] = {
            "summary": self.summary,
            "params": self.params,
            "bands": self.bands.to_dict(orient="records"),
            "weakest": self.weakest.reset_index().to_dict(orient="records"),
            "focus": self.focus.to_dict(orient="records"),
            "students": self.students.to_dict(orient="records"),
            "concepts": self.concepts.reset_index().to_dict(orient="records"),
        }
        if include_matrix:
            taught = self.taught
            out["matrix"] = {
                "students": self.matrix.index.tolist(),
                "concepts": taught,
                "mastery": self.matrix[taught].round(4).to_numpy().tolist(),
            }
        return out


def _band_table(
    bands: Sequence[tuple[str, float]], codes: pd.Series, n_active: int, lang: str
) -> pd.DataFrame:
    rows = []
    upper = 1.0
    for code, lower in bands:
        count = int((codes == code).sum())
        rows.append(
            {
                "band": code,
                "label": text(f"band.{code}", lang),
                "lower": float(lower),
                "upper": float(upper),
                "count": count,
                "share": count / n_active if n_active else float("nan"),
            }
        )
        upper = lower
    return pd.DataFrame(rows)


def _check_params(threshold: float, bands: Sequence[tuple[str, float]]) -> None:
    if not 0 < threshold <= 1:
        raise InvalidDataError(f"threshold must be in (0, 1], got {threshold}", column="threshold")
    lows = [b for _, b in bands]
    if not bands or any(a <= b for a, b in zip(lows, lows[1:])):
        raise InvalidDataError(
            "attainment bands must be given best first with strictly decreasing bounds",
            column="bands",
        )


def class_report(
    mastery: pd.DataFrame | MasteryMatrix,
    G: nx.DiGraph,
    roster: Iterable[str] | pd.DataFrame | None = None,
    *,
    current_unit: str | Iterable[str] | None = None,
    taught: Iterable[str] | None = None,
    threshold: float = MASTERY_THRESHOLD,
    bands: Sequence[tuple[str, float]] = ATTAINMENT_BANDS,
    risk_mean: float = 0.6,
    risk_prerequisite_share: float = 0.5,
    n_weakest: int = 10,
    n_focus: int = 3,
    lang: str = "zh",
) -> ClassReport:
    """Build the class report (see the module docstring for every rule).

    Parameters
    ----------
    mastery : DataFrame or MasteryMatrix
        The mastery long table (``student_id, concept_id, mastery, evidence,
        fallback``) of the class's students, e.g. ``tracer.mastery(history)``.
    G : DiGraph
        The subject graph.
    roster : ids or DataFrame, optional
        The class (default: the students of ``mastery``; ignored when ``mastery`` is
        a MasteryMatrix, whose rows are the roster).
    current_unit : str or list of str, optional
        Unit id(s) being taught; drives the relevance weights and the risk rule.
    taught : iterable of str, optional
        Concepts to count as taught even without answers.
    threshold : float
        Mastery level (default :data:`~edu_recsys.constants.MASTERY_THRESHOLD`).
    bands : sequence of (code, lower bound)
        Attainment bands, best first (default :data:`ATTAINMENT_BANDS`).
    risk_mean, risk_prerequisite_share : float
        The at-risk rule.
    n_weakest, n_focus : int
        Lengths of the weakest-concept list and of the next-lesson focus.
    lang : {"zh", "en"}
        Language of the text columns.

    Returns
    -------
    ClassReport

    Examples
    --------
    >>> G = nx.DiGraph([("a", "b")])
    >>> G.add_node("a", name="有理数", unit="u1"); G.add_node("b", name="方程", unit="u2")
    >>> long = pd.DataFrame({"student_id": ["s1", "s1", "s2", "s2"],
    ...                      "concept_id": ["a", "b", "a", "b"],
    ...                      "mastery": [0.9, 0.5, 0.5, 0.3], "evidence": [4, 2, 3, 1]})
    >>> rep = class_report(long, G, roster=["s1", "s2", "s3"])
    >>> rep.concepts[["mean", "n_below", "gap", "dependents", "block_score"]]
                mean  n_below     gap  dependents  block_score
    concept_id
    a            0.7        1  0.1875           1        0.375
    b            0.4        2  0.5000           0        0.500
    >>> rep.weakest.index.tolist()
    ['b', 'a']
    >>> rep.students[["student_id", "band", "at_risk", "flag"]]
      student_id     band  at_risk       flag
    0         s1     good    False
    1         s2    below     True
    2         s3  no_data    False  no_answers
    """
    lang = check_lang(lang)
    _check_params(threshold, bands)
    # a MasteryMatrix already fixes the roster
    M = mastery if isinstance(mastery, MasteryMatrix) else mastery_matrix(mastery, roster, G)
    concepts = [c for c in M.concepts if c in G]
    mas = M.mastery[concepts]
    evi = M.evidence[concepts]
    active = M.has_answers.to_numpy()
    units = _units_of(current_unit)
    unit_label = join([unit_name(G, u, lang) for u in units], lang)

    A = mas.to_numpy(dtype=float)[active]  # active students x concepts
    E = evi.to_numpy(dtype=float)[active]
    class_evidence = E.sum(axis=0)
    taught_set = set(taught or ())
    is_taught = np.array(
        [(class_evidence[j] > 0) or (c in taught_set) for j, c in enumerate(concepts)]
    )

    with quiet_nan():
        n_obs = (~np.isnan(A)).sum(axis=0)
        mean = np.where(n_obs > 0, np.nanmean(A, axis=0) if len(A) else np.nan, np.nan)
        std = np.where(n_obs > 0, np.nanstd(A, axis=0) if len(A) else np.nan, np.nan)
        n_mastered = (A >= threshold).sum(axis=0)
        shortfall = np.clip(threshold - A, 0, None) / threshold
        gap = np.where(n_obs > 0, np.nanmean(shortfall, axis=0) if len(A) else np.nan, np.nan)
    deps = dependents_count(G)
    rel = unit_relevance(G, units or None)
    dependents = np.array([deps.get(c, 0) for c in concepts], dtype=int)
    relevance = np.array([rel.get(c, RELEVANCE["other"]) for c in concepts])
    block = np.where(
        is_taught & (n_obs > 0), np.nan_to_num(gap) * (1 + dependents) * relevance, 0.0
    )
    cdf = pd.DataFrame(
        {
            "name": [concept_name(G, c, lang) for c in concepts],
            "unit": [G.nodes[c].get("unit") for c in concepts],
            "taught": is_taught,
            "n_students": n_obs.astype(int),
            "evidence": class_evidence.astype(int),
            "mean": mean,
            "std": std,
            "n_mastered": n_mastered.astype(int),
            "n_below": (n_obs - n_mastered).astype(int),
            "share_mastered": np.where(n_obs > 0, n_mastered / np.maximum(n_obs, 1), np.nan),
            "gap": gap,
            "dependents": dependents,
            "relevance": relevance,
            "block_score": block,
        },
        index=pd.Index(concepts, name="concept_id", dtype=object),
    )
    ranked = cdf[cdf["block_score"] > 0].sort_values(
        ["block_score", "gap"], ascending=[False, False], kind="stable"
    )
    cdf["rank"] = 0
    cdf.loc[ranked.index, "rank"] = np.arange(1, len(ranked) + 1)
    weakest = cdf.loc[ranked.index[:n_weakest]]

    students = _student_table(
        M, concepts, is_taught, threshold, bands, risk_mean, risk_prerequisite_share, G, units, lang
    )
    n_active = int(active.sum())
    band_tab = _band_table(bands, students["band"], n_active, lang)
    focus = _focus_table(G, cdf, ranked, n_focus, threshold, unit_label, units, lang)

    T = A[:, is_taught] if len(A) else np.empty((0, 0))
    with quiet_nan():
        class_mean = float(np.nanmean(T)) if T.size and not np.isnan(T).all() else float("nan")
        share = (
            float(np.nanmean(np.where(np.isnan(T), np.nan, T >= threshold)))
            if T.size
            else float("nan")
        )
    status = "empty_class" if len(M.students) == 0 else ("no_answers" if n_active == 0 else "ok")
    summary = {
        "status": status,
        "n_students": len(M.students),
        "n_with_answers": n_active,
        "n_concepts": len(concepts),
        "n_concepts_taught": int(is_taught.sum()),
        "class_mean": class_mean,
        "share_mastered": share,
        "n_at_risk": int(students["at_risk"].sum()),
        "bands": {r["band"]: r["count"] for r in band_tab.to_dict(orient="records")},
        "current_unit": units,
        "current_unit_name": unit_label,
        "weakest": weakest.index.tolist()[:3],
        "focus": focus["concept_id"].tolist(),
    }
    params = {
        "threshold": threshold,
        "bands": [list(b) for b in bands],
        "risk_mean": risk_mean,
        "risk_prerequisite_share": risk_prerequisite_share,
        "relevance": dict(RELEVANCE) if units else None,
    }
    return ClassReport(
        matrix=mas,
        evidence=evi,
        concepts=cdf,
        weakest=weakest,
        students=students,
        bands=band_tab,
        focus=focus,
        summary=summary,
        lang=lang,
        params=params,
    )


def _unit_prerequisites(G: nx.DiGraph, units: list[str], concepts: list[str]) -> list[str]:
    if not units:
        return []
    P = prerequisite_view(G)
    in_unit = {c for c, d in G.nodes(data=True) if d.get("unit") in set(units)}
    pre = {p for c in in_unit for p in P.predecessors(c)} - in_unit
    return [c for c in concepts if c in pre]


def _student_table(
    M: MasteryMatrix,
    concepts: list[str],
    is_taught: np.ndarray,
    threshold: float,
    bands: Sequence[tuple[str, float]],
    risk_mean: float,
    risk_share: float,
    G: nx.DiGraph,
    units: list[str],
    lang: str,
) -> pd.DataFrame:
    taught = [c for c, t in zip(concepts, is_taught) if t]
    X = M.mastery[taught].to_numpy(dtype=float)
    has = M.has_answers.to_numpy()
    with quiet_nan():
        mean = np.where(
            has & (~np.isnan(X)).any(axis=1), np.nanmean(X, axis=1) if taught else np.nan, np.nan
        )
    n_mastered = (X >= threshold).sum(axis=1)
    n_known = (~np.isnan(X)).sum(axis=1)
    pre = _unit_prerequisites(G, units, concepts)
    P = M.mastery[pre].to_numpy(dtype=float) if pre else np.empty((len(X), 0))
    rows = []
    for i, sid in enumerate(M.students):
        band = attainment_band(mean[i], bands) if has[i] else "no_data"
        codes: list[str] = []
        reasons: list[str] = []
        if has[i]:
            if not np.isnan(mean[i]) and mean[i] < risk_mean:
                codes.append("low_mean")
                reasons.append(text("risk.low_mean", lang, mean=mean[i], limit=risk_mean))
            if pre:
                known = ~np.isnan(P[i])
                missing = [c for c, k, p in zip(pre, known, P[i]) if k and p < risk_mean]
                n_pre = int(known.sum())
                if n_pre and len(missing) / n_pre >= risk_share:
                    codes.append("missing_prerequisites")
                    names = join([concept_name(G, c, lang) for c in missing[:5]], lang)
                    reasons.append(
                        text(
                            "risk.missing_prerequisites",
                            lang,
                            n_missing=len(missing),
                            n_prereq=n_pre,
                            limit=risk_mean,
                            names=names,
                        )
                    )
        rows.append(
            {
                "student_id": sid,
                "has_answers": bool(has[i]),
                "evidence": int(M.evidence.iloc[i].sum()),
                "mean_mastery": float(mean[i]),
                "n_mastered": int(n_mastered[i]) if has[i] else 0,
                "share_mastered": float(n_mastered[i] / n_known[i])
                if has[i] and n_known[i]
                else float("nan"),
                "band": band,
                "band_label": text(f"band.{band}", lang),
                "at_risk": bool(codes),
                "risk_codes": codes,
                "risk_reasons": reasons,
                "flag": "" if has[i] else "no_answers",
            }
        )
    cols = [
        "student_id",
        "has_answers",
        "evidence",
        "mean_mastery",
        "n_mastered",
        "share_mastered",
        "band",
        "band_label",
        "at_risk",
        "risk_codes",
        "risk_reasons",
        "flag",
    ]
    out = pd.DataFrame(rows, columns=cols)
    return out.astype({"has_answers": bool, "at_risk": bool})


def _focus_table(
    G: nx.DiGraph,
    cdf: pd.DataFrame,
    ranked: pd.DataFrame,
    n_focus: int,
    threshold: float,
    unit_label: str,
    units: list[str],
    lang: str,
) -> pd.DataFrame:
    P = prerequisite_view(G)
    weak = set(cdf.index[cdf["taught"] & (cdf["mean"] < threshold)])
    rows = []
    for c in ranked.index[:n_focus]:
        r = cdf.loc[c]
        codes = ["class_mean"]
        reasons = [
            text(
                "reason.class_mean",
                lang,
                mean=r["mean"],
                n_below=int(r["n_below"]),
                n=int(r["n_students"]),
                threshold=threshold,
            )
        ]
        if r["dependents"] > 0:
            codes.append("blocks")
            reasons.append(text("reason.blocks", lang, dependents=int(r["dependents"])))
        if units:
            if r["relevance"] == RELEVANCE["unit"]:
                codes.append("in_unit")
                reasons.append(text("reason.in_unit", lang, unit=unit_label))
            elif r["relevance"] >= RELEVANCE["prerequisite"]:
                codes.append("prerequisite_of_unit")
                reasons.append(text("reason.prerequisite_of_unit", lang, unit=unit_label))
        if r["std"] > LARGE_SPREAD:
            codes.append("spread")
            reasons.append(text("reason.spread", lang, std=r["std"]))
        weak_pre = [p for p in P.predecessors(c) if p in weak]
        if weak_pre:
            codes.append("weak_prerequisite")
            names = join([concept_name(G, p, lang) for p in weak_pre[:3]], lang)
            reasons.append(text("reason.weak_prerequisite", lang, names=names))
        rows.append(
            {
                "concept_id": c,
                "name": r["name"],
                "mean": float(r["mean"]),
                "block_score": float(r["block_score"]),
                "reason_codes": codes,
                "reasons": reasons,
            }
        )
    return pd.DataFrame(
        rows, columns=["concept_id", "name", "mean", "block_score", "reason_codes", "reasons"]
    )

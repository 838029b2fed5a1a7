"""Plain inputs of the classroom functions: roster and the student x concept matrix.

The classroom layer takes the mastery contract's long table (``student_id,
concept_id, mastery, evidence, fallback``) and turns it into two aligned wide tables:
mastery (probabilities, NaN where unknown) and evidence (answer counts, 0 where none).
Students of the roster missing from the long table get rows of NaN / 0 (documented
fallback: *no answers*); concepts of the long table that are not in the graph are
dropped when a graph is given.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import networkx as nx
import numpy as np
import pandas as pd

from edu_recsys.exceptions import InvalidDataError

__all__ = ["MASTERY_COLUMNS", "MasteryMatrix", "mastery_matrix", "roster_ids"]

#: Columns of the mastery contract's long table.
MASTERY_COLUMNS = ("student_id", "concept_id", "mastery", "evidence", "fallback")


@dataclass(frozen=True)
class MasteryMatrix:
    """Aligned wide tables of one class.

    Attributes
    ----------
    mastery : DataFrame
        Students (index, roster order) x concepts (columns); NaN where unknown.
    evidence : DataFrame
        Same shape; number of answers behind each cell (0 where none).
    has_answers : Series of bool
        Whether each student has at least one answer (any concept).
    calibrated : bool
        Already calibrated for the class (:func:`~edu_recsys.classroom.calibrate.
        calibrate_mastery`); the homework functions then use it as it is.
    """

    mastery: pd.DataFrame
    evidence: pd.DataFrame
    has_answers: pd.Series
    calibrated: bool = False

    @property
    def students(self) -> list[str]:
        return list(self.mastery.index)

    @property
    def concepts(self) -> list[str]:
        return list(self.mastery.columns)


def roster_ids(roster: Iterable[str] | pd.DataFrame | pd.Series | None) -> list[str] | None:
    """Student ids of a roster given as ids, a Series, or a DataFrame with ``student_id``.

    >>> roster_ids(["s2", "s1", "s2"])
    ['s2', 's1']
    >>> roster_ids(pd.DataFrame({"student_id": ["a", "b"]}))
    ['a', 'b']
    """
    if roster is None:
        return None
    if isinstance(roster, pd.DataFrame):
        if "student_id" not in roster.columns:
            raise InvalidDataError("roster table needs a student_id column", column="student_id")
        roster = roster["student_id"]
    ids = [str(s) for s in roster]
    return list(dict.fromkeys(ids))


def mastery_matrix(
    mastery: pd.DataFrame,
    roster: Iterable[str] | pd.DataFrame | None = None,
    G: nx.DiGraph | None = None,
    concepts: Sequence[str] | None = None,
) -> MasteryMatrix:
    """Pivot the mastery long table into aligned student x concept tables.

    Parameters
    ----------
    mastery : DataFrame
        Long table with ``student_id, concept_id, mastery`` and optionally
        ``evidence`` (answers behind the value; default 1 where a value is given)
        and ``fallback``.
    roster : ids or DataFrame, optional
        The class (order kept). Default: the students of ``mastery``.
    G : DiGraph, optional
        When given, columns follow the graph's node order and concepts not in it are
        dropped.
    concepts : sequence of str, optional
        Explicit column order (overrides ``G``'s).

    Returns
    -------
    MasteryMatrix

    Examples
    --------
    >>> long = pd.DataFrame({"student_id": ["s1", "s1", "s2"], "concept_id": ["a", "b", "a"],
    ...                      "mastery": [0.9, 0.4, 0.5], "evidence": [3, 1, 2]})
    >>> M = mastery_matrix(long, roster=["s1", "s2", "s3"])
    >>> M.mastery
                  a    b
    student_id
    s1          0.9  0.4
    s2          0.5  NaN
    s3          NaN  NaN
    >>> M.has_answers.tolist()
    [True, True, False]
    """
    if not isinstance(mastery, pd.DataFrame):
        raise InvalidDataError(
            f"mastery must be a DataFrame, got {type(mastery).__name__}",
            expected="the long table student_id, concept_id, mastery, evidence, fallback",
        )
    for col in ("student_id", "concept_id", "mastery"):
        if col not in mastery.columns:
            raise InvalidDataError(
                "missing column in the mastery table",
                column=col,
                expected="student_id, concept_id, mastery (evidence, fallback optional)",
            )
    m = mastery.astype({"student_id": object, "concept_id": object})
    m["student_id"] = m["student_id"].map(str)
    m["concept_id"] = m["concept_id"].map(str)
    vals = pd.to_numeric(m["mastery"], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isnan(vals) & ((vals < 0) | (vals > 1))
    if bad.any():
        raise InvalidDataError(
            "mastery values outside [0, 1]", column="mastery", rows=np.flatnonzero(bad)
        )
    m["mastery"] = vals
    if "evidence" in m.columns:
        m["evidence"] = pd.to_numeric(m["evidence"], errors="coerce").fillna(0.0).astype(float)
    else:
        m["evidence"] = np.where(np.isnan(vals), 0.0, 1.0)
    if m.duplicated(["student_id", "concept_id"]).any():
        m = m.drop_duplicates(["student_id", "concept_id"], keep="last")

    students = roster_ids(roster)
    if students is None:
        students = list(dict.fromkeys(m["student_id"]))
    if concepts is not None:
        cols = [str(c) for c in concepts]
    elif G is not None:
        cols = [c for c in G.nodes]
    else:
        cols = list(dict.fromkeys(m["concept_id"]))
    m = m[m["student_id"].isin(students) & m["concept_id"].isin(cols)]

    idx = pd.Index(students, name="student_id", dtype=object)
    cix = pd.Index(cols, name=None, dtype=object)
    mas = np.full((len(idx), len(cix)), np.nan)
    evi = np.zeros((len(idx), len(cix)))
    if len(m):
        r = idx.get_indexer(m["student_id"])
        c = cix.get_indexer(m["concept_id"])
        mas[r, c] = m["mastery"].to_numpy()
        evi[r, c] = m["evidence"].to_numpy()
    mastery_w = pd.DataFrame(mas, index=idx, columns=cix)
    evidence_w = pd.DataFrame(evi, index=idx, columns=cix)
    has = pd.Series(evi.sum(axis=1) > 0, index=idx, name="has_answers")
    if "fallback" in mastery.columns and len(m):
        # a tracer's explicit "unseen_student" flag wins over evidence counts
        unseen = m.loc[m["fallback"].astype(str) == "unseen_student", "student_id"]
        has[has.index.isin(set(unseen))] = False
    return MasteryMatrix(mastery_w, evidence_w, has)

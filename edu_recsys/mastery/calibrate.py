"""Grade-calibrated mastery: what a tracer cannot know from a student's own answers.

A tracer fitted on many students answers "what is this student's success on a typical
item of the concept now?". Where the student has **no answer on the concept**, its
value is a population fallback (for the ``default`` tracer about the student's overall
success rate), the same for a concept learned two years ago and for one not taught
yet. Anything that ranks by the mastery gap (homework, resource recommendation) then
practises concepts that are already known and misses the ready-to-learn frontier.
:func:`calibrate_mastery_table` (long table in, long table out) and
:func:`calibrate_arrays` (the same rules on aligned arrays) replace those cells with
estimates from the graph's grades and the group's own data, cell by cell:

1. **No answer of the student, concept of an earlier grade** (learned in previous
   years): the student's *earlier-grade level*, the evidence-weighted mean of their
   mastery on the earlier-grade concepts they did answer, shrunk towards the group's
   level with ``level_strength`` pseudo-answers (source ``"earlier_grade_level"``).
2. **No answer of the student, concept of the students' grade or later** (not taught
   yet, or missed): not assumed mastered: ``min(tracer value, new_concept_prior)``
   (:data:`NEW_CONCEPT_PRIOR` 0.5: as likely as not; source ``"not_yet_learned"``).
3. **Answers on a concept the tracer has no parameters for** (its ``fallback`` says
   ``unseen_concept``, e.g. a concept first practised after the fit): the student's
   answers folded into the prior of rule 1 or 2 as a Beta-binomial with
   ``prior_strength`` pseudo-answers, ``(k * prior + wins) / (k + answers)`` (source
   ``"evidence_update"``).
4. Every other cell keeps the tracer's value (source ``""``).

Rules 1-2 use the graph's ``grade`` node attribute (a concept without one counts as
the students' grade). Students without any answer keep the tracer's new-student
values. The same rules serve the classroom layer
(:func:`edu_recsys.classroom.calibrate.calibrate_mastery`, one class) and the
recommendation pipeline (``Recommender(calibrate=True)``).

Examples
--------
>>> import networkx as nx, pandas as pd
>>> G = nx.DiGraph([("old1", "new"), ("old2", "new")])
>>> nx.set_node_attributes(G, {"old1": 7, "old2": 7, "new": 8}, "grade")
>>> long = pd.DataFrame({"student_id": ["s1"] * 3, "concept_id": ["old1", "old2", "new"],
...                      "mastery": [0.9, 0.77, 0.77], "evidence": [4, 0, 0]})
>>> out = calibrate_mastery_table(long, G, grade=8, level_strength=0)
>>> out[["concept_id", "mastery", "calibration"]]
  concept_id  mastery          calibration
0       old1      0.9
1       old2      0.9  earlier_grade_level
2        new      0.5      not_yet_learned
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import networkx as nx
import numpy as np
import pandas as pd

__all__ = [
    "NEW_CONCEPT_PRIOR",
    "PRIOR_STRENGTH",
    "LEVEL_STRENGTH",
    "SOURCES",
    "answer_counts",
    "calibrate_arrays",
    "calibrate_mastery_table",
    "concept_grades",
]

#: Mastery assumed for a concept of the students' grade (or later) without an answer.
NEW_CONCEPT_PRIOR = 0.5
#: Pseudo-answers of the prior when folding in answers on a concept the tracer lacks.
PRIOR_STRENGTH = 2.0
#: Pseudo-answers of the group's level when estimating a student's earlier-grade level.
LEVEL_STRENGTH = 3.0
#: Sources of a calibrated cell (``""`` = the tracer's value kept).
SOURCES = ("", "earlier_grade_level", "not_yet_learned", "evidence_update")


def concept_grades(G: nx.DiGraph | None, concepts: Sequence[str], default: int) -> np.ndarray:
    """Grade of each concept from the graph's ``grade`` node attribute (``default``
    for concepts without one or not in the graph).

    >>> G = nx.DiGraph(); G.add_node("a", grade=7); G.add_node("b")
    >>> concept_grades(G, ["a", "b", "zz"], default=8).tolist()
    [7, 8, 8]
    """
    if G is None:
        return np.full(len(concepts), default, dtype=np.int64)
    return np.array(
        [(G.nodes[c].get("grade") or default) if c in G else default for c in concepts],
        dtype=np.int64,
    )


def answer_counts(
    history: pd.DataFrame | None, students: Sequence[str], concepts: Sequence[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Answers and correct answers of each student on each concept (two students x
    concepts arrays; rows of unknown students or concepts are ignored).

    >>> h = pd.DataFrame({"student_id": ["s", "s"], "concept_ids": [("a",), ("a", "b")],
    ...                   "correct": [1, 0]})
    >>> n, w = answer_counts(h, ["s"], ["a", "b"])
    >>> n.tolist(), w.tolist()
    ([[2.0, 1.0]], [[1.0, 0.0]])
    """
    n = np.zeros((len(students), len(concepts)))
    w = np.zeros_like(n)
    if history is None or not len(history):
        return n, w
    h = history[["student_id", "concept_ids", "correct"]].explode("concept_ids")
    r = pd.Index(list(students), dtype=object).get_indexer(h["student_id"].astype(str))
    c = pd.Index(list(concepts), dtype=object).get_indexer(h["concept_ids"].astype(str))
    ok = (r >= 0) & (c >= 0)
    y = pd.to_numeric(h["correct"], errors="coerce").fillna(0).to_numpy(dtype=float)
    np.add.at(n, (r[ok], c[ok]), 1.0)
    np.add.at(w, (r[ok], c[ok]), y[ok])
    return n, w


def calibrate_arrays(
    mastery: np.ndarray,
    evidence: np.ndarray,
    grades: np.ndarray,
    grade: int | None,
    *,
    has_answers: np.ndarray | None = None,
    unseen_concept: np.ndarray | None = None,
    answers: np.ndarray | None = None,
    wins: np.ndarray | None = None,
    new_concept_prior: float = NEW_CONCEPT_PRIOR,
    prior_strength: float = PRIOR_STRENGTH,
    level_strength: float = LEVEL_STRENGTH,
) -> tuple[np.ndarray, np.ndarray]:
    """The rules of the module docstring on aligned students x concepts arrays.

    Parameters
    ----------
    mastery : ndarray (S, C)
        The tracer's mastery (NaN where it gave none).
    evidence : ndarray (S, C)
        Answers behind each cell (0 = none).
    grades : ndarray (C,)
        Grade of each concept (:func:`concept_grades`).
    grade : int or None
        The students' grade; None treats every concept as current (rule 2 for all).
    has_answers : ndarray of bool (S,), optional
        Students with at least one answer (default: any evidence); the others keep
        the tracer's values.
    unseen_concept : ndarray of bool (S, C), optional
        Cells the tracer flagged ``unseen_concept`` (rule 3).
    answers, wins : ndarray (S, C), optional
        Answers and correct answers per cell (:func:`answer_counts`; rule 3).
    new_concept_prior, prior_strength, level_strength : float
        See :data:`NEW_CONCEPT_PRIOR`, :data:`PRIOR_STRENGTH`, :data:`LEVEL_STRENGTH`.

    Returns
    -------
    mastery : ndarray (S, C)
        Calibrated copy.
    source : ndarray of object (S, C)
        Which rule set each cell (:data:`SOURCES`).

    Examples
    --------
    >>> X = np.array([[0.9, 0.8, 0.8]]); ev = np.array([[3.0, 0.0, 0.0]])
    >>> out, src = calibrate_arrays(X, ev, np.array([7, 7, 8]), 8, level_strength=0)
    >>> out.round(2).tolist(), src.tolist()
    ([[0.9, 0.9, 0.5]], [['', 'earlier_grade_level', 'not_yet_learned']])
    """
    X0 = np.asarray(mastery, dtype=float)
    X = X0.copy()
    ev = np.asarray(evidence, dtype=float)
    has = (ev > 0).any(axis=1) if has_answers is None else np.asarray(has_answers, bool)
    source = np.full(X.shape, "", dtype=object)
    g = grade if grade is not None else 0
    cgrade = np.asarray(grades)
    earlier = (cgrade < g) if grade is not None else np.zeros(X.shape[1], dtype=bool)
    none = (ev <= 0) & has[:, None]

    # rule 1: the student's own level on the earlier-grade concepts they answered
    prior = np.full(X.shape, np.nan)
    if earlier.any():
        e_ev = np.where(np.isnan(X[:, earlier]), 0.0, ev[:, earlier])
        e_sum = (np.nan_to_num(X[:, earlier]) * e_ev).sum(axis=1)
        e_n = e_ev.sum(axis=1)
        tot = e_n[has].sum()
        group_level = e_sum[has].sum() / tot if tot > 0 else np.nan
        if np.isfinite(group_level):
            level = (e_sum + level_strength * group_level) / np.maximum(e_n + level_strength, 1e-12)
            prior[:, earlier] = level[:, None]
    # rule 2: concepts of this grade or later are not assumed mastered
    current = ~earlier
    with warnings.catch_warnings(), np.errstate(invalid="ignore"):
        warnings.simplefilter("ignore", category=RuntimeWarning)
        cap = np.where(np.isnan(X0), new_concept_prior, np.minimum(X0, new_concept_prior))
    prior[:, current] = cap[:, current]
    use1 = none & ~np.isnan(prior) & earlier[None, :]
    use2 = none & current[None, :]
    X[use1] = prior[use1]
    source[use1] = "earlier_grade_level"
    X[use2] = prior[use2]
    source[use2] = "not_yet_learned"

    # rule 3: answers on concepts the tracer has no parameters for
    if unseen_concept is not None and answers is not None and wins is not None:
        use3 = np.asarray(unseen_concept, bool) & (ev > 0) & has[:, None] & ~np.isnan(prior)
        n = np.asarray(answers, dtype=float)
        use3 &= n > 0
        if use3.any():
            upd = (prior_strength * prior + wins) / np.maximum(prior_strength + n, 1e-12)
            X[use3] = upd[use3]
            source[use3] = "evidence_update"
    return X, source


def calibrate_mastery_table(
    mastery: pd.DataFrame,
    G: nx.DiGraph | None,
    *,
    grade: int | None,
    history: pd.DataFrame | None = None,
    new_concept_prior: float = NEW_CONCEPT_PRIOR,
    prior_strength: float = PRIOR_STRENGTH,
    level_strength: float = LEVEL_STRENGTH,
) -> pd.DataFrame:
    """Calibrate a tracer's long mastery table (see the module docstring).

    The group of rule 1 ("the group's level") is every student of the table: pass one
    class or one grade's students at a time.

    Parameters
    ----------
    mastery : DataFrame
        The mastery contract's long table ``student_id, concept_id, mastery, evidence``
        (``fallback`` optional: its ``unseen_concept`` flags enable rule 3).
    G : DiGraph or None
        Subject graph (``grade`` of each concept); None: every concept is current.
    grade : int or None
        The students' grade; None treats every concept as current (rule 2 for all).
    history : DataFrame, optional
        The students' answers (rule 3).
    new_concept_prior, prior_strength, level_strength : float
        See :data:`NEW_CONCEPT_PRIOR`, :data:`PRIOR_STRENGTH`, :data:`LEVEL_STRENGTH`.

    Returns
    -------
    DataFrame
        The same rows and columns, ``mastery`` calibrated, plus ``calibration``: the
        source of each cell (:data:`SOURCES`, ``""`` = the tracer's value). A student
        whose ``fallback`` says ``unseen_student`` keeps the tracer's values.
    """
    for col in ("student_id", "concept_id", "mastery", "evidence"):
        if col not in mastery.columns:
            from edu_recsys.exceptions import InvalidDataError

            raise InvalidDataError(
                "missing column in the mastery table",
                column=col,
                expected="student_id, concept_id, mastery, evidence (fallback optional)",
            )
    out = mastery.copy()
    if not len(out):
        out["calibration"] = pd.Series([], dtype=object)
        return out
    sid = out["student_id"].astype(str).to_numpy(dtype=object)
    cid = out["concept_id"].astype(str).to_numpy(dtype=object)
    students = pd.Index(pd.unique(sid), dtype=object)
    concepts = pd.Index(pd.unique(cid), dtype=object)
    r, c = students.get_indexer(sid), concepts.get_indexer(cid)
    S, C = len(students), len(concepts)
    X = np.full((S, C), np.nan)
    ev = np.zeros((S, C))
    X[r, c] = pd.to_numeric(out["mastery"], errors="coerce").to_numpy(dtype=float)
    ev[r, c] = pd.to_numeric(out["evidence"], errors="coerce").fillna(0).to_numpy(dtype=float)
    has = (ev > 0).any(axis=1)
    unseen = None
    if "fallback" in out.columns:
        fb = out["fallback"].fillna("").astype(str)
        new_student = np.zeros(S, bool)
        new_student[np.unique(r[fb.str.contains("unseen_student", regex=False).to_numpy()])] = True
        has &= ~new_student
        flag = fb.str.contains("unseen_concept", regex=False).to_numpy()
        if flag.any():
            unseen = np.zeros((S, C), bool)
            unseen[r[flag], c[flag]] = True
    n = w = None
    if unseen is not None and history is not None and len(history):
        n, w = answer_counts(history, list(students), list(concepts))
    g = grade if grade is not None else 0
    Xc, src = calibrate_arrays(
        X,
        ev,
        concept_grades(G, list(concepts), g),
        grade,
        has_answers=has,
        unseen_concept=unseen,
        answers=n,
        wins=w,
        new_concept_prior=new_concept_prior,
        prior_strength=prior_strength,
        level_strength=level_strength,
    )
    out["mastery"] = Xc[r, c]
    out["calibration"] = pd.Series(src[r, c], index=out.index, dtype=object)
    return out

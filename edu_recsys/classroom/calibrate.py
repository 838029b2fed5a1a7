"""Class-calibrated mastery: what the tracer cannot know from a student's own answers.

The rules live in :mod:`edu_recsys.mastery.calibrate` (shared with the recommendation
pipeline); this module applies them to one class's :class:`MasteryMatrix` and keeps
the tracer's matrix next to the result.

A tracer fitted on many students answers "what is this student's success on a typical
item of the concept now?". Where the student has **no answer on the concept**, its
value is a population fallback (for the default tracer about the student's overall
success rate), the same for a concept learned two years ago and for one the class has
not been taught yet. Homework built on that fallback practises concepts that are
already known and misses the ready-to-learn frontier. :func:`calibrate_mastery`
replaces those cells with estimates from the class's own data, cell by cell:

1. **No answer of the student, concept of an earlier grade** (learned in previous
   years): the student's *earlier-grade level*, the evidence-weighted mean of their
   mastery on the earlier-grade concepts they did answer, shrunk towards the class's
   level with ``level_strength`` pseudo-answers (source ``"earlier_grade_level"``).
2. **No answer of the student, concept of the class's grade or later** (not taught
   yet, or missed): not assumed mastered: ``min(tracer value, new_concept_prior)``
   (:data:`NEW_CONCEPT_PRIOR` 0.5: as likely as not; source ``"not_yet_learned"``).
3. **Answers on a concept the tracer has no parameters for** (its ``fallback`` says
   ``unseen_concept``, e.g. a concept first practised after the nightly fit): the
   student's answers folded into the prior of rule 1 or 2 as a Beta-binomial with
   ``prior_strength`` pseudo-answers, ``(k * prior + wins) / (k + answers)`` (source
   ``"evidence_update"``).
4. Every other cell keeps the tracer's value (source ``""``).

Rules 1-2 use the graph's ``grade`` attribute (a concept without one counts as the
class's grade). Students without any answer keep the tracer's new-student values (the
homework gives them the class's average needs).

Predicted success on items moves with the mastery of their concepts: each
``(student, item)`` predicted success is shifted on the logit scale by the mean shift
(calibrated minus tracer logit) of the item's concepts, so an item that the tracer
finds easier than its concept's typical item stays easier.

Examples
--------
>>> import networkx as nx
>>> G = nx.DiGraph([("old1", "new"), ("old2", "new")])
>>> nx.set_node_attributes(G, {"old1": 7, "old2": 7, "new": 8}, "grade")
>>> long = pd.DataFrame({"student_id": ["s1"] * 3, "concept_id": ["old1", "old2", "new"],
...                      "mastery": [0.9, 0.77, 0.77], "evidence": [4, 0, 0]})
>>> cal = calibrate_mastery(long, G, grade=8, level_strength=0)
>>> cal.matrix.mastery.round(2).loc["s1"].to_dict()
{'old1': 0.9, 'new': 0.5, 'old2': 0.9}
>>> cal.source.loc["s1"].to_dict()
{'old1': '', 'new': 'not_yet_learned', 'old2': 'earlier_grade_level'}
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import networkx as nx
import numpy as np
import pandas as pd
from scipy.special import expit, logit

from edu_recsys.classroom.matrix import MasteryMatrix, mastery_matrix
from edu_recsys.mastery.calibrate import (
    LEVEL_STRENGTH,
    NEW_CONCEPT_PRIOR,
    PRIOR_STRENGTH,
    SOURCES,
    answer_counts,
    calibrate_arrays,
    concept_grades,
)

__all__ = [
    "CalibratedMastery",
    "NEW_CONCEPT_PRIOR",
    "PRIOR_STRENGTH",
    "LEVEL_STRENGTH",
    "SOURCES",
    "calibrate_mastery",
]

_EPS = 1e-4


@dataclass(frozen=True)
class CalibratedMastery:
    """Output of :func:`calibrate_mastery`.

    Attributes
    ----------
    matrix : MasteryMatrix
        Calibrated mastery (same students, concepts and evidence as the input;
        ``calibrated=True``).
    before : MasteryMatrix
        The tracer's mastery it started from.
    source : DataFrame
        Students x concepts: which rule set each cell (:data:`SOURCES`; ``""`` = tracer).
    """

    matrix: MasteryMatrix
    before: MasteryMatrix
    source: pd.DataFrame

    @property
    def n_changed(self) -> int:
        """Number of cells set by a rule (not the tracer's value)."""
        return int((self.source.to_numpy(dtype=object) != "").sum())

    def shift_success(
        self, p_success: pd.DataFrame | None, items: pd.DataFrame | None
    ) -> pd.DataFrame | None:
        """Predicted success (``student_id, item_id, p_success``) moved with the mastery:
        each pair by the mean logit shift of the item's concepts (``items``: ``item_id,
        concept_ids``). Pairs of unchanged cells, unknown students or items are kept."""
        if p_success is None:
            return None
        return _shift_success(
            p_success,
            items,
            self.before.mastery.to_numpy(dtype=float),
            self.matrix.mastery.to_numpy(dtype=float),
            self.matrix.students,
            self.matrix.concepts,
        )

    def long(self) -> pd.DataFrame:
        """The calibrated mastery as the mastery contract's long table (``fallback`` =
        the source of each changed cell)."""
        m = self.matrix.mastery.stack(future_stack=True).rename("mastery")
        out = m.reset_index()
        out.columns = ["student_id", "concept_id", "mastery"]
        out["evidence"] = self.matrix.evidence.to_numpy().ravel()
        out["fallback"] = self.source.to_numpy().ravel()
        return out


def calibrate_mastery(
    mastery: pd.DataFrame | MasteryMatrix,
    G: nx.DiGraph,
    *,
    grade: int | None,
    history: pd.DataFrame | None = None,
    roster: Iterable[str] | pd.DataFrame | None = None,
    new_concept_prior: float = NEW_CONCEPT_PRIOR,
    prior_strength: float = PRIOR_STRENGTH,
    level_strength: float = LEVEL_STRENGTH,
) -> CalibratedMastery:
    """Calibrate a tracer's mastery for one class (see the module docstring).

    Parameters
    ----------
    mastery : DataFrame or MasteryMatrix
        The tracer's long table (its ``fallback`` column enables rule 3) or a matrix.
    G : DiGraph
        Subject graph (``grade`` of each concept).
    grade : int or None
        The class's grade; None treats every concept as current (rule 2 for all).
    history : DataFrame, optional
        The class's answers (rule 3).
    roster : ids or DataFrame, optional
        Used when ``mastery`` is a long table.
    new_concept_prior, prior_strength, level_strength : float
        See :data:`NEW_CONCEPT_PRIOR`, :data:`PRIOR_STRENGTH`, :data:`LEVEL_STRENGTH`.

    Returns
    -------
    CalibratedMastery
    """
    unseen_concept = None
    if isinstance(mastery, MasteryMatrix):
        M = mastery
        if M.calibrated:
            src = np.full(M.mastery.shape, "", dtype=object)
            return CalibratedMastery(M, M, _frame(src, M))
    else:
        M = mastery_matrix(mastery, roster, G)
        if "fallback" in mastery.columns and len(mastery):
            flag = mastery["fallback"].astype(str).str.contains("unseen_concept", regex=False)
            if flag.any():
                sub = mastery.loc[flag, ["student_id", "concept_id"]].astype(str)
                unseen_concept = np.zeros(M.mastery.shape, dtype=bool)
                r = M.mastery.index.get_indexer(sub["student_id"])
                c = M.mastery.columns.get_indexer(sub["concept_id"])
                ok = (r >= 0) & (c >= 0)
                unseen_concept[r[ok], c[ok]] = True
    students, concepts = M.students, M.concepts
    n = w = None
    if unseen_concept is not None and history is not None and len(history):
        n, w = answer_counts(history, students, concepts)
    g = grade if grade is not None else 0
    X, source = calibrate_arrays(
        M.mastery.to_numpy(dtype=float),
        M.evidence.to_numpy(dtype=float),
        concept_grades(G, concepts, g),
        grade,
        has_answers=M.has_answers.to_numpy(),
        unseen_concept=unseen_concept,
        answers=n,
        wins=w,
        new_concept_prior=new_concept_prior,
        prior_strength=prior_strength,
        level_strength=level_strength,
    )

    idx, cols = M.mastery.index, M.mastery.columns
    matrix = MasteryMatrix(
        pd.DataFrame(X, index=idx, columns=cols), M.evidence, M.has_answers, calibrated=True
    )
    return CalibratedMastery(matrix, M, _frame(source, M))


def _frame(values: np.ndarray, M: MasteryMatrix) -> pd.DataFrame:
    # object dtype: pandas would otherwise convert each column to its string dtype
    return pd.DataFrame(values, index=M.mastery.index, columns=M.mastery.columns, dtype=object)


def _shift_success(
    p_success: pd.DataFrame,
    items: pd.DataFrame | None,
    before: np.ndarray,
    after: np.ndarray,
    students: list[str],
    concepts: list[str],
) -> pd.DataFrame:
    """Shift each (student, item) success by the mean logit shift of the item's concepts."""
    changed = ~np.isclose(np.nan_to_num(before, nan=-1.0), np.nan_to_num(after, nan=-1.0))
    if not changed.any() or items is None or not len(p_success):
        return p_success.copy()
    with np.errstate(invalid="ignore", divide="ignore"):
        D = logit(np.clip(np.nan_to_num(after), _EPS, 1 - _EPS)) - logit(
            np.clip(np.nan_to_num(before, nan=0.5), _EPS, 1 - _EPS)
        )
    D = np.where(changed, D, 0.0)
    cpos = {c: j for j, c in enumerate(concepts)}
    ids = items["item_id"].astype(str).to_numpy()
    inc = np.zeros((len(ids), len(concepts)))
    for i, cs in enumerate(items["concept_ids"]):
        cs = (cs,) if isinstance(cs, str) else cs
        for c in cs:
            j = cpos.get(str(c))
            if j is not None:
                inc[i, j] = 1.0
    inc /= np.maximum(inc.sum(axis=1, keepdims=True), 1.0)
    shift = D @ inc.T  # students x items
    r = pd.Index(students).get_indexer(p_success["student_id"].astype(str))
    c = pd.Index(ids).get_indexer(p_success["item_id"].astype(str))
    ok = (r >= 0) & (c >= 0)
    p = p_success["p_success"].to_numpy(dtype=float).copy()
    s = np.zeros(len(p))
    s[ok] = shift[r[ok], c[ok]]
    move = ok & (s != 0) & ~np.isnan(p)
    p[move] = expit(logit(np.clip(p[move], _EPS, 1 - _EPS)) + s[move])
    return p_success.assign(p_success=p)

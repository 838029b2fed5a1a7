"""Personalised homework within the "double reduction" (双减) time limits.

The 2021 "double reduction" opinions cap the daily written homework of compulsory
education: **none** in grades 1-2, at most **60 minutes** on average in grades 3-6 and
**90 minutes** in grades 7-9 (all subjects together). :class:`HomeworkPolicy` holds
those caps (configurable per school) and each subject's share of them; its
:meth:`~HomeworkPolicy.budget` is a hard cap that :func:`personal_homework` never
exceeds.

For each student :func:`personal_homework` picks, greedily and within the budget:

1. **new work** (``1 - review_share`` of the budget, the rest too when there is
   nothing to review) on

   - *weak* concepts: taught in the class, not mastered by the student; priority
     ``shortfall x prerequisite factor x unit relevance`` where ``shortfall =
     (T - mastery) / T``, the prerequisite factor is 1 when the concept's
     prerequisites are mastered and :data:`BLOCKED_FACTOR` otherwise (work on the
     prerequisite first), and the relevance comes from
     :func:`~edu_recsys.classroom.report.unit_relevance`;
   - *ready-to-learn* concepts (:func:`edu_recsys.graph.ready_to_learn`) that the
     student has not practised yet, among the concepts the class has been taught or
     is being taught (current unit); priority ``READY_WEIGHT x unit relevance``;

   using items (all of whose concepts were taught in the class, belong to the current
   unit or to an earlier grade) whose predicted success lies in the productive band
   (:data:`~edu_recsys.constants.PRODUCTIVE_BAND`): an item's score is its concept's
   priority x its band fit (1 inside the band, decaying outside) per minute of the item
   (a greedy knapsack: more practice fits in the same time; items below
   ``band[0] - 0.15`` or above ``band[1] + 0.1`` are not used for new work), with items
   the student already answered scored at :data:`SEEN_FACTOR` of that, and at most
   ``max_items_per_concept`` items per concept;

2. **spaced review** (``review_share`` of the budget; 0 turns it off): one item each on
   mastered concepts, those most at risk of being forgotten first (largest ``(1 + days
   since last practice) x (1 - mastery)``; without timestamps the least secure first),
   choosing the item whose predicted success is closest to 0.9.

Before choosing, the tracer's mastery is calibrated for the class
(:func:`~edu_recsys.classroom.calibrate.calibrate_mastery`, ``calibrate=True``): a
concept of the class's grade that the student has not answered yet is not taken as
mastered, an earlier-grade concept without answers gets the student's earlier-grade
level, answers on concepts the tracer does not know are folded in; predicted success
moves with the mastery.

Every item carries its reason (in Chinese or English) and its estimated minutes; the
summary reports how much of the budget each set uses.

Documented results: a budget of 0 (grades 1-2, or a subject share of 0) gives no items
and the flag ``"no_written_homework"`` / ``"no_budget"``; a student without answers
gets the class's average needs (flag ``"no_answers"``; an empty set with that flag when
the class has no answers either); a student for whom no item fits gets an empty set
with the flag ``"nothing_suitable"``; an empty class gives empty tables. Items without a usable
``minutes`` value count :data:`DEFAULT_ITEM_MINUTES` (flag ``"default_minutes"``).
Without predicted success, an item's success is estimated as the lowest mastery among
its concepts (flag ``"p_from_mastery"``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from edu_recsys.classroom._util import PrerequisiteIndex, quiet_nan
from edu_recsys.classroom.calibrate import calibrate_mastery
from edu_recsys.classroom.i18n import check_lang, concept_name, text
from edu_recsys.classroom.matrix import MasteryMatrix, mastery_matrix
from edu_recsys.classroom.report import unit_relevance
from edu_recsys.constants import MASTERY_THRESHOLD, PRODUCTIVE_BAND
from edu_recsys.exceptions import InvalidDataError

__all__ = [
    "DOUBLE_REDUCTION_MINUTES",
    "DEFAULT_ITEM_MINUTES",
    "HomeworkPolicy",
    "Homework",
    "personal_homework",
    "class_homework",
    "item_bank",
    "useful_items",
    "predict_success",
    "days_since_practice",
]

#: Daily written-homework cap (minutes, all subjects) by grade under "double reduction".
DOUBLE_REDUCTION_MINUTES: dict[int, float] = {
    1: 0.0,
    2: 0.0,
    **{g: 60.0 for g in range(3, 7)},
    **{g: 90.0 for g in range(7, 10)},
}

#: Minutes counted for an item without a usable ``minutes`` value.
DEFAULT_ITEM_MINUTES = 3.0
#: Priority factor of a weak concept whose own prerequisites are not mastered.
BLOCKED_FACTOR = 0.3
#: Priority of a ready-to-learn concept (before unit relevance); weak concepts have
#: priority up to 1.
READY_WEIGHT = 0.4
#: Score factor of an item the student has already answered.
SEEN_FACTOR = 0.5
#: Predicted success aimed at for review items.
REVIEW_TARGET = 0.9

ITEM_COLUMNS = [
    "student_id",
    "position",
    "item_id",
    "concept_id",
    "concept_name",
    "kind",
    "p_success",
    "minutes",
    "reason_code",
    "reason",
]
SUMMARY_COLUMNS = [
    "student_id",
    "n_items",
    "minutes",
    "budget_minutes",
    "budget_used",
    "n_weak",
    "n_ready",
    "n_review",
    "flag",
    "note",
]


class HomeworkPolicy(BaseModel):
    """A school's homework time policy (defaults: the national "double reduction" caps).

    Parameters
    ----------
    daily_minutes : dict of int to float
        Daily written-homework cap by grade, all subjects together.
    subject_shares : dict of str to float
        Share of the daily cap for each subject when several subjects split it (their
        sum must be at most 1). A subject not listed gets ``default_share``.
    default_share : float
        Share of a subject not in ``subject_shares`` (default 1: the whole cap).
    review_share : float
        Share of a student's budget for spaced review.
    band : (float, float)
        Productive band of predicted success.
    max_items_per_concept : int
    max_items : int, optional
        Cap on the number of items per student.

    Examples
    --------
    >>> HomeworkPolicy().budget(2), HomeworkPolicy().budget(5), HomeworkPolicy().budget(8)
    (0.0, 60.0, 90.0)
    >>> p = HomeworkPolicy(subject_shares={"math": 0.3, "chinese": 0.3, "english": 0.2})
    >>> p.budget(8, "math"), p.budget(8, "physics")
    (27.0, 90.0)
    >>> HomeworkPolicy.model_validate({"daily_minutes": {"7": 80}}).budget(7)
    80.0
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    daily_minutes: dict[int, float] = Field(default_factory=lambda: dict(DOUBLE_REDUCTION_MINUTES))
    subject_shares: dict[str, float] = Field(default_factory=dict)
    default_share: float = Field(default=1.0, ge=0, le=1)
    review_share: float = Field(default=0.2, ge=0, le=1)
    band: tuple[float, float] = PRODUCTIVE_BAND
    max_items_per_concept: int = Field(default=3, ge=1)
    max_items: int | None = Field(default=None, ge=0)

    @field_validator("daily_minutes")
    @classmethod
    def _non_negative(cls, v: dict[int, float]) -> dict[int, float]:
        bad = {g: m for g, m in v.items() if not (m >= 0)}
        if bad:
            raise ValueError(f"daily minutes must be >= 0: {bad}")
        return v

    @field_validator("subject_shares")
    @classmethod
    def _shares(cls, v: dict[str, float]) -> dict[str, float]:
        if any(not (0 <= s <= 1) for s in v.values()):
            raise ValueError("each subject share must be in [0, 1]")
        if sum(v.values()) > 1 + 1e-9:
            raise ValueError(f"subject shares sum to {sum(v.values()):.3f} > 1")
        return v

    @model_validator(mode="after")
    def _band_ok(self) -> HomeworkPolicy:
        lo, hi = self.band
        if not 0 <= lo < hi <= 1:
            raise ValueError(f"band must satisfy 0 <= low < high <= 1, got {self.band}")
        return self

    def daily(self, grade: int) -> float:
        """The all-subject daily cap of ``grade`` (raises InvalidDataError if unset)."""
        try:
            return float(self.daily_minutes[int(grade)])
        except (KeyError, TypeError, ValueError):
            raise InvalidDataError(
                f"no homework time limit configured for grade {grade!r}",
                column="grade",
                expected=f"one of {sorted(self.daily_minutes)} (set HomeworkPolicy.daily_minutes)",
            ) from None

    def share(self, subject: str | None = None) -> float:
        """The share of the daily cap for ``subject``."""
        if subject is None:
            return self.default_share
        return float(self.subject_shares.get(subject, self.default_share))

    def budget(self, grade: int, subject: str | None = None) -> float:
        """Minutes of homework allowed today for ``subject`` in ``grade`` (a hard cap)."""
        return self.daily(grade) * self.share(subject)

    def rule_text(self, grade: int, subject: str | None = None, lang: str = "zh") -> str:
        """The rule behind :meth:`budget`, in words."""
        share = self.share(subject)
        if share >= 1:
            return text("budget_rule.grade", lang, grade=int(grade), daily=self.daily(grade))
        return text(
            "budget_rule.share", lang, grade=int(grade), daily=self.daily(grade), share=share
        )


@dataclass
class Homework:
    """Homework sets of a class.

    Attributes
    ----------
    items : DataFrame
        One row per assigned item: ``student_id, position, item_id, concept_id,
        concept_name, kind`` (``weak``, ``ready``, ``review`` or ``uniform``),
        ``p_success, minutes, reason_code, reason``.
    summary : DataFrame
        One row per student: ``student_id, n_items, minutes, budget_minutes,
        budget_used`` (share of the budget used; NaN when the budget is 0),
        ``n_weak, n_ready, n_review, flag, note``.
    budget : dict
        ``grade, subject, daily_minutes, share, budget_minutes, rule``.
    """

    items: pd.DataFrame
    summary: pd.DataFrame
    budget: dict[str, Any]
    flags: list[str] = field(default_factory=list)

    def for_student(self, student_id: str) -> pd.DataFrame:
        """The items of one student, in order."""
        return self.items[self.items["student_id"] == student_id].reset_index(drop=True)

    def to_dict(self) -> dict[str, Any]:
        return {
            "budget": self.budget,
            "flags": self.flags,
            "summary": self.summary.to_dict(orient="records"),
            "items": self.items.to_dict(orient="records"),
        }


# -- inputs -------------------------------------------------------------------------
def item_bank(
    items: pd.DataFrame | None = None,
    interactions: pd.DataFrame | None = None,
    G: nx.DiGraph | None = None,
) -> pd.DataFrame:
    """An item bank ``item_id, concept_ids, minutes, minutes_flag``.

    From ``items`` (e.g. the simulator's ``.items``) when given; otherwise from the
    items seen in ``interactions`` (minutes = median ``duration_s`` / 60 when present)
    and from ``G.graph["items"]``. Missing or non-positive minutes become
    :data:`DEFAULT_ITEM_MINUTES` with ``minutes_flag == "default_minutes"``.

    Examples
    --------
    >>> log = pd.DataFrame({"student_id": ["s", "s"], "item_id": ["q1", "q2"],
    ...                     "concept_ids": [("a",), ("b",)], "correct": [1, 0],
    ...                     "duration_s": [120.0, None]})
    >>> item_bank(interactions=log)[["item_id", "minutes", "minutes_flag"]]
      item_id  minutes     minutes_flag
    0      q1      2.0
    1      q2      3.0  default_minutes
    """
    if items is not None:
        for col in ("item_id", "concept_ids"):
            if col not in items.columns:
                raise InvalidDataError("missing column in the item bank", column=col)
        bank = items.copy()
        if "minutes" not in bank.columns:
            bank["minutes"] = np.nan
    else:
        frames = []
        if interactions is not None and len(interactions):
            g = interactions.groupby("item_id", sort=False)
            frame = pd.DataFrame(
                {"item_id": list(g.groups), "concept_ids": g["concept_ids"].first().tolist()}
            )
            if "duration_s" in interactions.columns:
                frame["minutes"] = (g["duration_s"].median() / 60.0).to_numpy()
            else:
                frame["minutes"] = np.nan
            frames.append(frame)
        if G is not None and G.graph.get("items"):
            known = set(frames[0]["item_id"]) if frames else set()
            extra = [(i, tuple(c)) for i, c in G.graph["items"].items() if i not in known]
            if extra:
                frames.append(
                    pd.DataFrame(
                        {
                            "item_id": [i for i, _ in extra],
                            "concept_ids": [c for _, c in extra],
                            "minutes": np.nan,
                        }
                    )
                )
        cols = ["item_id", "concept_ids", "minutes"]
        bank = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=cols)
    bank["item_id"] = bank["item_id"].astype(str)
    bank["concept_ids"] = bank["concept_ids"].map(
        lambda c: (c,) if isinstance(c, str) else tuple(c) if c is not None else ()
    )
    minutes = pd.to_numeric(bank["minutes"], errors="coerce").astype(float)
    bad = ~(minutes > 0)
    bank["minutes"] = minutes.where(~bad, DEFAULT_ITEM_MINUTES).round(2)
    bank["minutes_flag"] = np.where(bad, "default_minutes", "")
    return bank.drop_duplicates("item_id").reset_index(drop=True)


def useful_items(
    items: pd.DataFrame,
    mastery: pd.DataFrame | MasteryMatrix,
    G: nx.DiGraph,
    *,
    grade: int | None = None,
    current_unit: str | Iterable[str] | None = None,
    taught: Iterable[str] | None = None,
) -> pd.DataFrame:
    """The items :func:`personal_homework` could choose, to predict success for fewer pairs.

    An item can be chosen only if one of its concepts was taught in the class (has an
    answer) or is in the current unit, and all of them were taught, are in the current
    unit or belong to an earlier grade. Predicting success only for these items gives
    the same homework at a fraction of the cost.

    Examples
    --------
    >>> G = nx.DiGraph([("a", "b")]); nx.set_node_attributes(G, 8, "grade")
    >>> long = pd.DataFrame({"student_id": ["s"], "concept_id": ["a"], "mastery": [0.5],
    ...                      "evidence": [2]})
    >>> bank = pd.DataFrame({"item_id": ["qa", "qb", "qab"],
    ...                      "concept_ids": [("a",), ("b",), ("a", "b")], "minutes": 3.0})
    >>> useful_items(bank, long, G, grade=8)["item_id"].tolist()
    ['qa']
    """
    M = mastery if isinstance(mastery, MasteryMatrix) else mastery_matrix(mastery, None, G)
    bank = item_bank(items)
    concepts = [c for c in M.concepts if c in G]
    has = M.has_answers.to_numpy()
    ev = M.evidence[concepts].to_numpy()[has].sum(axis=0) if has.any() else np.zeros(len(concepts))
    taught_set = set(taught or ())
    core = (ev > 0) | np.array([c in taught_set for c in concepts], dtype=bool)
    if current_unit is not None:
        units = {current_unit} if isinstance(current_unit, str) else set(current_unit)
        core |= np.array([G.nodes[c].get("unit") in units for c in concepts], dtype=bool)
    g = grade if grade is not None else 0
    earlier = np.array([(G.nodes[c].get("grade") or g) < g for c in concepts], dtype=bool)
    b = _Bank(bank, concepts)
    keep = b.usable & (b.inc & core[None, :]).any(axis=1) & b.only(core | earlier)
    return bank[keep].reset_index(drop=True)


def predict_success(
    tracer: Any,
    history: pd.DataFrame,
    students: Iterable[str],
    items: pd.DataFrame,
) -> pd.DataFrame:
    """Predicted success of every student on every item: ``student_id, item_id, p_success``.

    Calls the tracer's ``predict_next(history, candidates)`` (mastery contract) once
    with all student x item pairs.
    """
    students = list(students)
    n_i = len(items)
    cand = pd.DataFrame(
        {
            "student_id": np.repeat(np.array(students, dtype=object), n_i),
            "item_id": np.tile(items["item_id"].to_numpy(dtype=object), len(students)),
            "concept_ids": list(items["concept_ids"]) * len(students),
        }
    )
    if cand.empty:
        return cand.assign(p_success=pd.Series(dtype=float))[["student_id", "item_id", "p_success"]]
    p = np.asarray(tracer.predict_next(history, cand), dtype=float)
    return pd.DataFrame(
        {"student_id": cand["student_id"], "item_id": cand["item_id"], "p_success": p}
    )


def days_since_practice(
    interactions: pd.DataFrame, now: pd.Timestamp | None = None
) -> pd.DataFrame:
    """Days since each student last practised each concept: ``student_id, concept_id, days``.

    ``now`` defaults to the latest timestamp in the table. Empty without timestamps.

    Examples
    --------
    >>> log = pd.DataFrame({"student_id": ["s", "s"], "item_id": ["q1", "q2"],
    ...     "concept_ids": [("a",), ("a", "b")], "correct": [1, 1],
    ...     "timestamp": pd.to_datetime(["2024-03-01", "2024-03-08"], utc=True)})
    >>> days_since_practice(log, pd.Timestamp("2024-03-10", tz="UTC"))
      student_id concept_id  days
    0          s          a   2.0
    1          s          b   2.0
    """
    cols = ["student_id", "concept_id", "days"]
    if interactions is None or "timestamp" not in interactions.columns or not len(interactions):
        return pd.DataFrame(columns=cols)
    df = interactions[["student_id", "concept_ids", "timestamp"]].explode("concept_ids")
    df = df.dropna(subset=["concept_ids", "timestamp"])
    if df.empty:
        return pd.DataFrame(columns=cols)
    last = df.groupby(["student_id", "concept_ids"], sort=True)["timestamp"].max()
    now = now if now is not None else df["timestamp"].max()
    days = (now - last).dt.total_seconds() / 86400.0
    out = days.reset_index()
    out.columns = cols
    out["days"] = out["days"].clip(lower=0).round(2)
    return out


# -- selection ------------------------------------------------------------------------
def _band_fit(p: np.ndarray, band: tuple[float, float]) -> np.ndarray:
    lo, hi = band
    dist = np.where(p < lo, lo - p, np.where(p > hi, p - hi, 0.0))
    fit = np.exp(-dist / 0.05)
    fit[(p < lo - 0.15) | (p > hi + 0.1) | np.isnan(p)] = 0.0
    return fit


class _Bank:
    """Item bank as arrays aligned with a concept list (fast per-student scoring)."""

    def __init__(self, bank: pd.DataFrame, concepts: list[str]):
        self.ids = bank["item_id"].to_numpy(dtype=object)
        self.minutes = bank["minutes"].to_numpy(dtype=float)
        self.pos = {c: j for j, c in enumerate(concepts)}
        n, m = len(bank), len(concepts)
        self.inc = np.zeros((n, m), dtype=bool)
        for i, cs in enumerate(bank["concept_ids"]):
            for c in cs:
                j = self.pos.get(c)
                if j is not None:
                    self.inc[i, j] = True
        self.usable = self.inc.any(axis=1)
        self.by_concept = [np.flatnonzero(self.inc[:, j]) for j in range(m)]
        self.row = {iid: i for i, iid in enumerate(self.ids)}
        # padded concept lists (ascending): an item has few concepts, the bank many items
        lists = [np.flatnonzero(r) for r in self.inc]
        width = max((len(x) for x in lists), default=0) or 1
        self._cidx = np.zeros((n, width), dtype=np.intp)
        self._cmask = np.zeros((n, width), dtype=bool)
        for i, x in enumerate(lists):
            self._cidx[i, : len(x)] = x
            self._cmask[i, : len(x)] = True
        self._only: dict[bytes, np.ndarray] = {}

    def only(self, allowed: np.ndarray) -> np.ndarray:
        """Per item: whether all its (known) concepts are ``allowed`` (memoised)."""
        allowed = np.asarray(allowed, dtype=bool)
        key = allowed.tobytes()
        if key not in self._only:
            if self.inc.shape[1] == 0:  # no known concept: nothing to forbid
                self._only[key] = np.ones(len(self._cidx), dtype=bool)
            else:
                self._only[key] = ~(self._cmask & ~allowed[self._cidx]).any(axis=1)
        return self._only[key]

    def best_concept(self, priority: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per item: the max concept priority and the concept index reaching it (the
        first one on ties)."""
        if self.inc.shape[1] == 0:
            return np.full(len(self._cidx), -np.inf), np.zeros(len(self._cidx), dtype=np.intp)
        P = np.where(self._cmask, np.asarray(priority, dtype=float)[self._cidx], -np.inf)
        k = P.argmax(axis=1)
        rows = np.arange(len(P))
        return P[rows, k], self._cidx[rows, k]

    def p_from_mastery(self, m: np.ndarray) -> np.ndarray:
        """Per item: the lowest mastery among its concepts (``m``: concepts, or students
        x concepts); NaN for items without a known concept."""
        m = np.asarray(m, dtype=float)
        if m.ndim == 1:
            return self.p_from_mastery(m[None, :])[0]
        if m.shape[1] == 0 or not len(self._cidx):
            return np.full((m.shape[0], len(self._cidx)), np.nan)
        out = np.where(self._cmask[None], m[:, self._cidx], np.inf).min(axis=2)
        return np.where(np.isinf(out), np.nan, out)


def _p_matrix(
    p_success: pd.DataFrame | None, students: list[str], bank: _Bank
) -> np.ndarray | None:
    if p_success is None:
        return None
    for col in ("student_id", "item_id", "p_success"):
        if col not in p_success.columns:
            raise InvalidDataError("missing column in the predicted success table", column=col)
    P = np.full((len(students), len(bank.ids)), np.nan)
    r = pd.Index(students, dtype=object).get_indexer(p_success["student_id"].astype(str))
    c = pd.Index(bank.ids, dtype=object).get_indexer(p_success["item_id"].astype(str))
    ok = (r >= 0) & (c >= 0)
    P[r[ok], c[ok]] = p_success["p_success"].to_numpy(dtype=float)[ok]
    return P


def _resolve_budget(
    policy: HomeworkPolicy, grade: int, subject: str | None, budget_minutes: float | None
) -> float:
    """Today's budget: the policy's cap, or a smaller requested budget (never above it)."""
    cap = policy.budget(grade, subject)
    if budget_minutes is None:
        return cap
    if not budget_minutes >= 0:
        raise InvalidDataError("budget must be >= 0", column="budget_minutes")
    return float(min(budget_minutes, cap))


def _homework_mastery(mastery, G, grade, history, roster, p_success, bank_df, *, calibrate):
    """The mastery matrix both homework functions select from, class-calibrated or as
    given, with predicted success shifted to match; and the flags to report."""
    if not calibrate:
        M = mastery if isinstance(mastery, MasteryMatrix) else mastery_matrix(mastery, roster, G)
        return M, p_success, []
    cal = calibrate_mastery(mastery, G, grade=grade, history=history, roster=roster)
    flags = ["class_calibrated"] if cal.n_changed else []
    return cal.matrix, cal.shift_success(p_success, bank_df), flags


def personal_homework(
    mastery: pd.DataFrame | MasteryMatrix,
    G: nx.DiGraph,
    items: pd.DataFrame,
    *,
    grade: int,
    roster: Iterable[str] | pd.DataFrame | None = None,
    p_success: pd.DataFrame | None = None,
    history: pd.DataFrame | None = None,
    subject: str | None = None,
    policy: HomeworkPolicy | Mapping[str, Any] | None = None,
    budget_minutes: float | None = None,
    current_unit: str | Iterable[str] | None = None,
    taught: Iterable[str] | None = None,
    threshold: float = MASTERY_THRESHOLD,
    now: pd.Timestamp | None = None,
    calibrate: bool = True,
    random_state: int | None = 0,
    lang: str = "zh",
) -> Homework:
    """Personalised homework for every student of a class (see the module docstring).

    Parameters
    ----------
    mastery : DataFrame or MasteryMatrix
        Mastery long table of the class.
    G : DiGraph
        Subject graph.
    items : DataFrame
        Item bank (``item_id, concept_ids, minutes``; see :func:`item_bank`).
    grade : int
        The class's grade (selects the daily cap).
    roster : ids or DataFrame, optional
    p_success : DataFrame, optional
        ``student_id, item_id, p_success`` (e.g. :func:`predict_success`); missing
        pairs fall back to the mastery estimate.
    history : DataFrame, optional
        The class's interactions (items already answered, days since practice).
    subject : str, optional
        Subject (selects its share of the daily cap).
    policy : HomeworkPolicy or dict, optional
    budget_minutes : float, optional
        A smaller budget for today (never above the policy's cap).
    current_unit, taught : optional
        As in :func:`~edu_recsys.classroom.report.class_report`.
    threshold : float
    now : Timestamp, optional
        For days since practice (default: latest timestamp of ``history``).
    calibrate : bool, default True
        Calibrate the mastery for the class first
        (:func:`~edu_recsys.classroom.calibrate.calibrate_mastery`: cells without the
        student's answers, concepts the tracer lacks; ``p_success`` moves with them);
        a matrix that is already calibrated is used as it is. Flag
        ``"class_calibrated"`` when a cell changed.
    random_state : int, optional
        Breaks ties between equally good items.
    lang : {"zh", "en"}

    Returns
    -------
    Homework

    Examples
    --------
    >>> G = nx.DiGraph([("a", "b")])
    >>> long = pd.DataFrame({"student_id": ["s1", "s1"], "concept_id": ["a", "b"],
    ...                      "mastery": [0.95, 0.6], "evidence": [5, 2]})
    >>> bank = pd.DataFrame({"item_id": ["qa", "qb1", "qb2", "qb3"],
    ...                      "concept_ids": [("a",), ("b",), ("b",), ("b",)],
    ...                      "minutes": [5, 10, 10, 10]})
    >>> hw = personal_homework(long, G, bank, grade=8, budget_minutes=25, lang="en")
    >>> hw.for_student("s1")[["item_id", "kind", "minutes"]]
      item_id    kind  minutes
    0     qb1    weak     10.0
    1     qb2    weak     10.0
    2      qa  review      5.0
    >>> hw.summary[["n_items", "minutes", "budget_minutes", "budget_used"]]
       n_items  minutes  budget_minutes  budget_used
    0        3     25.0            25.0          1.0
    >>> personal_homework(long, G, bank, grade=2).summary["flag"].tolist()
    ['no_written_homework']
    """
    lang = check_lang(lang)
    if policy is None:
        policy = HomeworkPolicy()
    elif not isinstance(policy, HomeworkPolicy):
        policy = HomeworkPolicy.model_validate(dict(policy))
    budget = _resolve_budget(policy, grade, subject, budget_minutes)
    budget_info = {
        "grade": int(grade),
        "subject": subject,
        "daily_minutes": policy.daily(grade),
        "share": policy.share(subject),
        "budget_minutes": budget,
        "rule": policy.rule_text(grade, subject, lang),
    }
    bank_df = item_bank(items)
    M, p_success, flags = _homework_mastery(
        mastery, G, grade, history, roster, p_success, bank_df, calibrate=calibrate and budget > 0
    )
    students = M.students
    concepts = [c for c in M.concepts if c in G]
    bank = _Bank(bank_df, concepts)

    if budget <= 0:
        flag = "no_written_homework" if policy.daily(grade) <= 0 else "no_budget"
        note = text("hw.no_written" if flag == "no_written_homework" else "hw.no_budget", lang)
        summary = pd.DataFrame(
            [
                {
                    "student_id": s,
                    "n_items": 0,
                    "minutes": 0.0,
                    "budget_minutes": 0.0,
                    "budget_used": float("nan"),
                    "n_weak": 0,
                    "n_ready": 0,
                    "n_review": 0,
                    "flag": flag,
                    "note": note,
                }
                for s in students
            ],
            columns=SUMMARY_COLUMNS,
        )
        return Homework(pd.DataFrame(columns=ITEM_COLUMNS), summary, budget_info, [flag])

    mas = M.mastery[concepts].to_numpy(dtype=float)
    evi = M.evidence[concepts].to_numpy(dtype=float)
    has = M.has_answers.to_numpy()
    with quiet_nan():
        if has.any():
            known = ~np.isnan(mas[has])
            col_mean = np.where(
                known.any(axis=0),
                np.where(known, mas[has], 0).sum(axis=0) / np.maximum(known.sum(axis=0), 1),
                np.nan,
            )
        else:
            col_mean = np.full(len(concepts), np.nan)
    class_ev = evi[has].sum(axis=0) if has.any() else np.zeros(len(concepts))
    taught_set = set(taught or ())
    is_taught = (class_ev > 0) | np.array([c in taught_set for c in concepts], dtype=bool)
    rel = unit_relevance(G, current_unit)
    relevance = np.array([rel.get(c, 1.0) for c in concepts])
    in_unit = relevance >= 1.0 if current_unit else np.zeros(len(concepts), dtype=bool)
    allowed_new = is_taught | in_unit
    # items may also involve concepts of earlier grades (learned in previous years)
    earlier = np.array([(G.nodes[c].get("grade") or grade) < grade for c in concepts], dtype=bool)

    P = _p_matrix(p_success, students, bank)
    if P is None:
        flags.append("p_from_mastery")
    seen: dict[str, set[str]] = {}
    if history is not None and len(history):
        for s, grp in history.groupby("student_id", sort=False)["item_id"]:
            seen[str(s)] = set(map(str, grp))
    days = days_since_practice(history, now) if history is not None else None
    days_of: dict[tuple[str, str], float] = {}
    if days is not None and len(days):
        days_of = dict(zip(zip(days["student_id"], days["concept_id"]), days["days"]))
    rng = np.random.default_rng(random_state)
    prereq = PrerequisiteIndex(G, concepts)

    item_rows: list[dict[str, Any]] = []
    sum_rows: list[dict[str, Any]] = []
    # students without answers get the class's means; unknown cells too
    filled = np.where(has[:, None], mas, col_mean[None, :])
    filled = np.where(np.isnan(filled), col_mean[None, :], filled)
    p_fallback = bank.p_from_mastery(np.nan_to_num(filled, nan=0.0))
    for i, sid in enumerate(students):
        m = filled[i]
        mastered = np.nan_to_num(m, nan=0.0) >= threshold
        student_ev = evi[i]
        p_item = p_fallback[i]
        if P is not None:
            p_item = np.where(np.isnan(P[i]), p_item, P[i])
        choices = _select_for_student(
            sid=sid,
            m=m,
            student_ev=student_ev,
            has=bool(has[i]),
            concepts=concepts,
            mastered=mastered,
            met=prereq.met(mastered)[0],
            is_taught=is_taught,
            allowed_new=allowed_new,
            allowed_items=allowed_new | earlier,
            relevance=relevance,
            bank=bank,
            p_item=p_item,
            seen=seen.get(sid, set()),
            days_of=days_of,
            budget=budget,
            policy=policy,
            threshold=threshold,
            jitter=rng.random(len(bank.ids)) * 1e-6,
        )
        used = 0.0
        counts = {"weak": 0, "ready": 0, "review": 0}
        for k, (row, j, kind, days_c) in enumerate(choices):
            c = concepts[j]
            p = float(p_item[row])
            mins = float(bank.minutes[row])
            used += mins
            counts[kind] += 1
            cname = concept_name(G, c, lang)
            if kind == "review":
                reason = (
                    text("hw.review", lang, concept=cname, days=int(round(days_c)))
                    if days_c is not None
                    else text("hw.review_nodays", lang, concept=cname)
                )
            elif kind == "weak":
                reason = text("hw.weak", lang, concept=cname, mastery=float(m[j]), p=p)
            else:
                reason = text("hw.ready", lang, concept=cname, p=p)
            item_rows.append(
                {
                    "student_id": sid,
                    "position": k + 1,
                    "item_id": bank.ids[row],
                    "concept_id": c,
                    "concept_name": cname,
                    "kind": kind,
                    "p_success": p,
                    "minutes": mins,
                    "reason_code": kind,
                    "reason": reason,
                }
            )
        flag = "" if has[i] else "no_answers"
        note = "" if has[i] else text("hw.no_answers", lang)
        if not choices and has.any():
            flag, note = "nothing_suitable", text("hw.nothing_suitable", lang)
        elif not choices:  # nobody in the class has answers yet
            flag, note = "no_answers", text("hw.no_answers_empty", lang)
        sum_rows.append(
            {
                "student_id": sid,
                "n_items": len(choices),
                "minutes": round(used, 2),
                "budget_minutes": budget,
                "budget_used": used / budget,
                "n_weak": counts["weak"],
                "n_ready": counts["ready"],
                "n_review": counts["review"],
                "flag": flag,
                "note": note,
            }
        )
    items_out = pd.DataFrame(item_rows, columns=ITEM_COLUMNS)
    return Homework(items_out, pd.DataFrame(sum_rows, columns=SUMMARY_COLUMNS), budget_info, flags)


def _select_for_student(
    *,
    sid: str,
    m: np.ndarray,
    student_ev: np.ndarray,
    has: bool,
    concepts: list[str],
    mastered: np.ndarray,
    met: np.ndarray,
    is_taught: np.ndarray,
    allowed_new: np.ndarray,
    allowed_items: np.ndarray,
    relevance: np.ndarray,
    bank: _Bank,
    p_item: np.ndarray,
    seen: set[str],
    days_of: Mapping[tuple[str, str], float],
    budget: float,
    policy: HomeworkPolicy,
    threshold: float,
    jitter: np.ndarray,
) -> list[tuple[int, int, str, float | None]]:
    """Greedy choice of (bank row, concept index, kind, days) within the budget."""
    n_c = len(concepts)
    prereq_ok = met & ~mastered
    weak = is_taught & ~mastered & ~np.isnan(m)
    # a concept the student has practised counts as weak, else (frontier) as ready
    practised = student_ev > 0 if has else is_taught
    ready = prereq_ok & allowed_new & ~(weak & practised)
    weak = weak & (practised | ~prereq_ok)
    shortfall = np.clip(threshold - np.nan_to_num(m, nan=0.0), 0, None) / threshold
    pri = np.zeros(n_c)
    pri[weak] = (shortfall * np.where(prereq_ok, 1.0, BLOCKED_FACTOR) * relevance)[weak]
    pri[ready] = np.maximum(pri[ready], READY_WEIGHT * relevance[ready])
    kind_of = np.where(weak, "weak", np.where(ready, "ready", ""))

    seen_mask = np.zeros(len(bank.ids), dtype=bool)
    seen_mask[[bank.row[i] for i in seen if i in bank.row]] = True
    item_pri, item_c = bank.best_concept(pri)
    fit = _band_fit(p_item, policy.band)
    # only items whose every concept was taught, is in the current unit or an earlier grade
    eligible = bank.usable & bank.only(allowed_items)
    # value per minute (greedy knapsack): more practice fits in the same time
    score = np.where(eligible & (item_pri > 0), item_pri, 0.0) * fit / bank.minutes
    score = score * np.where(seen_mask, SEEN_FACTOR, 1.0) + np.where(score > 0, jitter, 0.0)

    review_c = (
        [j for j in range(n_c) if mastered[j] and student_ev[j] > 0]
        if policy.review_share > 0
        else []
    )
    review_budget = budget * policy.review_share if review_c else 0.0
    new_budget = budget - review_budget
    cap_items = policy.max_items if policy.max_items is not None else 10**9

    chosen: list[tuple[int, int, str, float | None]] = []
    taken: set[int] = set()
    per_concept: dict[int, int] = {}
    used = 0.0
    by_score = np.argsort(-score, kind="stable")

    def fill_new(limit: float) -> None:
        # greedy by value per minute, within the per-concept cap and the minutes limit
        nonlocal used
        for row in by_score:
            if score[row] <= 0 or len(chosen) >= cap_items:
                break
            if row in taken:
                continue
            j = int(item_c[row])
            if per_concept.get(j, 0) >= policy.max_items_per_concept:
                continue
            if used + bank.minutes[row] > limit + 1e-9:
                continue
            chosen.append((int(row), j, str(kind_of[j]), None))
            taken.add(int(row))
            per_concept[j] = per_concept.get(j, 0) + 1
            used += bank.minutes[row]

    fill_new(new_budget)

    # spaced review: the longest unpractised (or least secure) mastered concepts first
    if review_c:
        # most at risk of being forgotten first: long unpractised and least secure
        sid_days = [days_of.get((sid, concepts[j])) for j in review_c]
        order = sorted(
            zip(review_c, sid_days),
            key=lambda t: (-(1.0 + (t[1] or 0.0)) * (1.0 - m[t[0]]), m[t[0]], t[0]),
        )
        review_used = 0.0
        p_clean = np.nan_to_num(p_item, nan=0.0)
        taken_mask = np.zeros(len(bank.ids), dtype=bool)
        taken_mask[list(taken)] = True
        for j, d in order:
            if len(chosen) >= cap_items:
                break
            rows = bank.by_concept[j]
            mins = bank.minutes[rows]
            rows = rows[
                (used + mins <= budget + 1e-9)
                & (review_used + mins <= review_budget + 1e-9)
                & ~taken_mask[rows]
                & eligible[rows]
            ]
            if not len(rows):
                continue
            dist = np.abs(p_clean[rows] - REVIEW_TARGET)
            r = int(rows[np.lexsort((rows, bank.minutes[rows], dist))[0]])
            chosen.append((int(r), j, "review", d))
            taken.add(int(r))
            taken_mask[r] = True
            used += bank.minutes[r]
            review_used += bank.minutes[r]
    # budget left after review (little to review): more new work, never more review
    fill_new(budget)
    new = [c for c in chosen if c[2] != "review"]
    rev = [c for c in chosen if c[2] == "review"]
    return new + rev


def class_homework(
    mastery: pd.DataFrame | MasteryMatrix,
    G: nx.DiGraph,
    items: pd.DataFrame,
    *,
    grade: int,
    roster: Iterable[str] | pd.DataFrame | None = None,
    p_success: pd.DataFrame | None = None,
    subject: str | None = None,
    policy: HomeworkPolicy | Mapping[str, Any] | None = None,
    budget_minutes: float | None = None,
    current_unit: str | Iterable[str] | None = None,
    threshold: float = MASTERY_THRESHOLD,
    history: pd.DataFrame | None = None,
    calibrate: bool = True,
    random_state: int | None = 0,
    lang: str = "zh",
) -> Homework:
    """The same homework for every student (统一作业), for comparison or a whole-class set.

    Items on the class's weakest taught concepts (ranked by the class's mean shortfall x
    unit relevance), with the class's mean predicted success in the productive band,
    at most ``max_items_per_concept`` per concept, within the same budget as
    :func:`personal_homework`. ``history`` and ``calibrate`` as there (the same
    calibrated mastery, so that the two differ only in personalisation).
    """
    lang = check_lang(lang)
    if policy is None:
        policy = HomeworkPolicy()
    elif not isinstance(policy, HomeworkPolicy):
        policy = HomeworkPolicy.model_validate(dict(policy))
    budget = _resolve_budget(policy, grade, subject, budget_minutes)
    bank_df = item_bank(items)
    M, p_success, flags = _homework_mastery(
        mastery, G, grade, history, roster, p_success, bank_df, calibrate=calibrate and budget > 0
    )
    concepts = [c for c in M.concepts if c in G]
    bank = _Bank(bank_df, concepts)
    has = M.has_answers.to_numpy()
    mas = M.mastery[concepts].to_numpy(dtype=float)[has]
    evi = M.evidence[concepts].to_numpy(dtype=float)[has]
    with quiet_nan():
        mean = np.nanmean(mas, axis=0) if len(mas) else np.full(len(concepts), np.nan)
        short = (
            np.nanmean(np.clip(threshold - mas, 0, None), axis=0) / threshold
            if len(mas)
            else np.zeros(len(concepts))
        )
    taught = evi.sum(axis=0) > 0 if len(evi) else np.zeros(len(concepts), dtype=bool)
    rel = unit_relevance(G, current_unit)
    pri = np.where(taught, np.nan_to_num(short) * np.array([rel.get(c, 1.0) for c in concepts]), 0)
    P = _p_matrix(p_success, M.students, bank)
    if P is not None and has.any():
        with quiet_nan():
            p_class = np.nanmean(P[has], axis=0)
        p_class = np.where(np.isnan(p_class), bank.p_from_mastery(np.nan_to_num(mean)), p_class)
    else:
        p_class = bank.p_from_mastery(np.nan_to_num(mean))
    item_pri, item_c = bank.best_concept(pri)
    rng = np.random.default_rng(random_state)
    fit = _band_fit(p_class, policy.band)
    in_unit = np.array([rel.get(c, 0.0) >= 1.0 for c in concepts]) if current_unit else taught
    earlier = np.array([(G.nodes[c].get("grade") or grade) < grade for c in concepts], dtype=bool)
    eligible = bank.usable & bank.only(taught | in_unit | earlier)
    score = np.where(eligible & (item_pri > 0), item_pri, 0) * fit / bank.minutes
    score = score + np.where(score > 0, rng.random(len(score)) * 1e-6, 0)
    chosen, used, per_c = [], 0.0, {}
    for row in np.argsort(-score, kind="stable"):
        if score[row] <= 0 or budget <= 0:
            break
        j = int(item_c[row])
        if per_c.get(j, 0) >= policy.max_items_per_concept or used + bank.minutes[row] > budget:
            continue
        chosen.append((int(row), j))
        per_c[j] = per_c.get(j, 0) + 1
        used += bank.minutes[row]
    rows, sums = [], []
    for sid, h in zip(M.students, M.has_answers):
        for k, (r, j) in enumerate(chosen):
            cname = concept_name(G, concepts[j], lang)
            rows.append(
                {
                    "student_id": sid,
                    "position": k + 1,
                    "item_id": bank.ids[r],
                    "concept_id": concepts[j],
                    "concept_name": cname,
                    "kind": "uniform",
                    "p_success": float(P[M.students.index(sid), r])
                    if P is not None and not np.isnan(P[M.students.index(sid), r])
                    else float(p_class[r]),
                    "minutes": float(bank.minutes[r]),
                    "reason_code": "uniform",
                    "reason": text("hw.uniform", lang, concept=cname),
                }
            )
        sums.append(
            {
                "student_id": sid,
                "n_items": len(chosen),
                "minutes": round(used, 2),
                "budget_minutes": budget,
                "budget_used": used / budget if budget > 0 else float("nan"),
                "n_weak": 0,
                "n_ready": 0,
                "n_review": 0,
                "flag": "" if h else "no_answers",
                "note": "",
            }
        )
    info = {
        "grade": int(grade),
        "subject": subject,
        "daily_minutes": policy.daily(grade),
        "share": policy.share(subject),
        "budget_minutes": budget,
        "rule": policy.rule_text(grade, subject, lang),
    }
    return Homework(
        pd.DataFrame(rows, columns=ITEM_COLUMNS),
        pd.DataFrame(sums, columns=SUMMARY_COLUMNS),
        info,
        flags,
    )

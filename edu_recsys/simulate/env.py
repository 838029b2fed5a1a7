"""A learner environment: simulated students answer items and study resources.

:class:`LearnerEnv` holds the hidden true state of a group of simulated learners
(one :class:`~edu_recsys.simulate.learners.GraphLearnerModel` state per student plus
each student's own learning rate and working speed), a clock per student, an item bank
and optionally a resource catalogue. It is what the class demo, the recommendation
helper's offline evaluation and the path benchmark step on:

* ``env.answer(student, item_id)``: the student answers the item (3PL with the item's
  parameters; for a two-concept item the mean ``theta - beta`` of its concepts) and
  learns from practising it (its minutes, split over its concepts); a canonical
  interaction row is logged with a realistic timestamp and duration.
* ``env.study(student, resource_id=...)`` or ``env.study(student, concept_ids, minutes)``:
  the student studies a resource (or a lesson) and learns, answering nothing.
* ``env.step(student, item_or_resource_id)``: either of the above by id.
* ``env.true_mastery()``: the true success probability on a typical item of each
  concept, student x concept (what evaluations compare estimates with).

Hidden resource effectiveness: each resource's gains are multiplied by a log-normal
factor (median 1, higher for ``is_quality`` resources) and by how well its difficulty
fits the student, so that recommendation policies have something real to find.

Difficulty fit (the catalogue contract: ``difficulty`` in [0, 1], 0.5 = a typical item
of its concepts, higher = harder). The student's predicted success on the resource's
own level is read like an item of that difficulty in the item bank::

    q   = sigmoid(mean over the resource's concepts of (theta_k - beta_k)
                  - RESOURCE_DIFFICULTY_SLOPE * (difficulty - 0.5))
    fit = exp(-(q - RESOURCE_FIT_CENTRE) ** 2 / (2 * RESOURCE_FIT_WIDTH ** 2))

so ``q = logistic(logit(p) - 4 * (difficulty - 0.5))`` for a one-concept resource,
``p`` the success on a typical item. The slope 4 is the one that maps the item bank's
and the graph's 0..1 difficulties to logits (``irt_b = 4 * (difficulty - 0.5)``); the
fit is best when ``q`` is at the centre of
:data:`~edu_recsys.constants.PRODUCTIVE_BAND` (0.725): material a student can mostly
but not always succeed on (the zone of proximal development). The Gaussian width (0.3)
is unchanged from the first version. Example: a weak student (``p = 0.3``) learns best
from an easy resource (difficulty about 0.05), a typical resource (0.5) fits a student
with ``p = 0.725``, a hard one (0.7) a strong student (``p`` about 0.85). (The first
version read the level as ``1 - difficulty``, so that a hard resource suited a weak
student: the opposite of the contract.)

Forgetting (``forgetting_half_life_days``, default 60, None to switch it off): between
two activities the part of ``theta`` gained since the start decays with that half-life.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from edu_recsys.constants import PRODUCTIVE_BAND
from edu_recsys.exceptions import UnknownIdError
from edu_recsys.simulate.learners import GraphLearnerModel

__all__ = [
    "LearnerEnv",
    "StepResult",
    "RESOURCE_TYPE_EFFICIENCY",
    "RESOURCE_DIFFICULTY_SLOPE",
    "RESOURCE_FIT_CENTRE",
    "RESOURCE_FIT_WIDTH",
    "resource_difficulty_fit",
]

_NS_PER_S = 1_000_000_000
_SIGMOID_CLIP = 50.0

#: Learning per minute of a resource type, relative to practising items.
RESOURCE_TYPE_EFFICIENCY = {
    "video": 1.0,
    "micro_lecture": 1.1,
    "exercise_set": 1.1,
    "reading": 0.8,
    "courseware": 0.9,
    "course": 1.0,
}


#: Log-odds of success lost per unit of resource difficulty above 0.5 (as for items).
RESOURCE_DIFFICULTY_SLOPE = 4.0
#: Predicted success on a resource's level at which it teaches best (band centre).
RESOURCE_FIT_CENTRE = float(sum(PRODUCTIVE_BAND) / 2)
#: Width (standard deviation, probability scale) of the Gaussian difficulty fit.
RESOURCE_FIT_WIDTH = 0.3


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-np.clip(x, -_SIGMOID_CLIP, _SIGMOID_CLIP)))


def resource_difficulty_fit(margin, difficulty):
    """Difficulty fit of a resource for a student (see the module docstring).

    Parameters
    ----------
    margin : float or ndarray
        The student's mean ``theta - beta`` over the resource's concepts (the logit of
        the success on a typical item).
    difficulty : float or ndarray
        The resource's difficulty (catalogue contract: 0.5 = a typical item).

    Returns
    -------
    (fit, q) : ndarrays
        The gain factor in (0, 1] and the predicted success on the resource's level.

    Examples
    --------
    >>> fit, q = resource_difficulty_fit(np.log(0.3 / 0.7), [0.05, 0.5, 0.7])
    >>> q.round(3).tolist(), fit.round(3).tolist()
    ([0.722, 0.3, 0.161], [1.0, 0.367, 0.171])
    """
    z = np.asarray(margin, float) - RESOURCE_DIFFICULTY_SLOPE * (
        np.asarray(difficulty, float) - 0.5
    )
    q = _sigmoid(z)
    fit = np.exp(-((q - RESOURCE_FIT_CENTRE) ** 2) / (2 * RESOURCE_FIT_WIDTH**2))
    return fit, q


@dataclass
class StepResult:
    """What one activity did.

    Attributes
    ----------
    student_id, kind ("item", "resource" or "lesson"), activity_id : str
    concept_ids : tuple of str
    correct : int or None
        The answer (items only).
    minutes : float
        Time spent.
    timestamp : pandas.Timestamp
        When the activity ended (UTC).
    gains : dict
        Concept -> change of the true success probability on a typical item.
    """

    student_id: str
    kind: str
    activity_id: str
    concept_ids: tuple[str, ...]
    correct: int | None
    minutes: float
    timestamp: pd.Timestamp
    gains: dict[str, float] = field(default_factory=dict)


class LearnerEnv:
    """Simulated students with a hidden true state (see the module docstring).

    Parameters
    ----------
    model : GraphLearnerModel
        The learning dynamics (its concepts are the columns of ``theta``).
    students : sequence of str
    theta : ndarray, shape (n_students, n_concepts)
        Starting abilities.
    items : DataFrame
        Item bank (:func:`~edu_recsys.simulate.items.make_item_bank`).
    resources : DataFrame, optional
        Catalogue with at least ``resource_id, concept_ids, minutes``; optional
        ``type``, ``difficulty``, ``is_quality``.
    rates, speeds : ndarray, optional
        Each student's learning rate and working speed (default 1).
    start : str or Timestamp, default "2025-09-01 08:00"
        Starting clock of every student (naive times are taken as UTC).
    forgetting_half_life_days : float or None, default 60
    random_state : int or Generator, optional

    Examples
    --------
    >>> import networkx as nx
    >>> from edu_recsys.simulate.items import make_item_bank
    >>> G = nx.DiGraph([("a", "b")])
    >>> m = GraphLearnerModel(G)
    >>> env = LearnerEnv(m, ["s1"], np.zeros((1, 2)), make_item_bank(G, 2), random_state=0)
    >>> r = env.step("s1", "b#1")
    >>> r.kind, r.correct in (0, 1), len(env.interactions)
    ('item', True, 1)
    >>> before = env.true_mastery().loc["s1", "a"]
    >>> _ = env.study("s1", ["a"], minutes=30)
    >>> bool(env.true_mastery().loc["s1", "a"] > before)
    True
    """

    def __init__(
        self,
        model: GraphLearnerModel,
        students: Sequence[str],
        theta: np.ndarray,
        items: pd.DataFrame,
        *,
        resources: pd.DataFrame | None = None,
        rates: np.ndarray | None = None,
        speeds: np.ndarray | None = None,
        start: str | pd.Timestamp = "2025-09-01 08:00",
        forgetting_half_life_days: float | None = 60.0,
        random_state: int | np.random.Generator | None = None,
    ) -> None:
        self.model = model
        self.students = [str(s) for s in students]
        self._spos = {s: i for i, s in enumerate(self.students)}
        if len(self._spos) != len(self.students):
            raise ValueError("student ids must be unique")
        n, K = len(self.students), model.n_concepts
        theta = np.asarray(theta, dtype=float)
        if theta.shape != (n, K):
            raise ValueError(f"theta must have shape {(n, K)}, not {theta.shape}")
        self.theta = theta.copy()
        self.theta0 = theta.copy()
        self.rates = np.ones(n) if rates is None else np.asarray(rates, float).copy()
        self.speeds = np.ones(n) if speeds is None else np.asarray(speeds, float).copy()
        self.half_life = forgetting_half_life_days
        self.rng = np.random.default_rng(random_state)
        t0 = pd.Timestamp(start)
        t0 = t0.tz_localize("UTC") if t0.tzinfo is None else t0.tz_convert("UTC")
        self.clock = np.full(n, t0.value, dtype=np.int64)
        self._last = self.clock.copy()  # time of the last forgetting update
        self._cpos = {c: i for i, c in enumerate(model.concepts)}
        self.items = items.reset_index(drop=True)
        self._ipos = {str(i): j for j, i in enumerate(self.items["item_id"])}
        self._item_concepts = [self._concept_index(cs) for cs in self.items["concept_ids"]]
        prim = np.array([cs[0] if len(cs) else -1 for cs in self._item_concepts])
        b = self.items["irt_b"].to_numpy(float) if "irt_b" in self.items else None
        if b is None:
            d = self.items["difficulty"].fillna(0.5).to_numpy(float)
            b = 4.0 * (d - 0.5)
        # item offset from its primary concept's typical item
        self._item_delta = b - np.where(prim >= 0, model.beta[np.maximum(prim, 0)], 0.0)
        self._item_a = (
            self.items["discrimination"].to_numpy(float)
            if "discrimination" in self.items
            else np.ones(len(self.items))
        )
        self._item_c = (
            self.items["guessing"].to_numpy(float)
            if "guessing" in self.items
            else np.zeros(len(self.items))
        )
        self._item_min = self.items["minutes"].fillna(3.0).to_numpy(float)
        self.resources: pd.DataFrame | None = None
        self._rpos: dict[str, int] = {}
        if resources is not None:
            self.add_resources(resources)
        self._log: list[dict] = []
        self._resource_log: list[dict] = []
        self._event = 0

    # ------------------------------------------------------------------ set-up
    def _concept_index(self, concept_ids: Iterable[str]) -> list[int]:
        return [self._cpos[c] for c in concept_ids if c in self._cpos]

    def add_resources(self, resources: pd.DataFrame) -> None:
        """Register (or replace) the resource catalogue that :meth:`study` can use."""
        res = resources.reset_index(drop=True).copy()
        res["resource_id"] = res["resource_id"].astype(str)
        self.resources = res
        self._rpos = {r: j for j, r in enumerate(res["resource_id"])}
        self._res_concepts = [
            self._concept_index((c,) if isinstance(c, str) else c) for c in res["concept_ids"]
        ]
        n = len(res)
        quality = (
            res["is_quality"].fillna(False).astype(bool).to_numpy()
            if "is_quality" in res
            else np.zeros(n, bool)
        )
        # hidden effectiveness: log-normal, quality courses better on average
        self._res_effect = np.exp(self.rng.normal(0.0, 0.35, n) + 0.25 * quality)
        kind = res["type"].astype(str).to_numpy() if "type" in res else np.full(n, "video")
        self._res_eff_type = np.array([RESOURCE_TYPE_EFFICIENCY.get(k, 1.0) for k in kind])
        d = (
            pd.to_numeric(res["difficulty"], errors="coerce").fillna(0.5).to_numpy(float)
            if "difficulty" in res
            else np.full(n, 0.5)
        )
        self._res_difficulty = d  # catalogue contract: 0.5 = a typical item, higher = harder
        m = pd.to_numeric(res["minutes"], errors="coerce") if "minutes" in res else None
        self._res_min = np.full(n, 10.0) if m is None else m.fillna(10.0).to_numpy(float)

    def copy(self) -> LearnerEnv:
        """An independent copy (same state, same log, same random stream position)."""
        return copy.deepcopy(self)

    # ------------------------------------------------------------------ time
    def _student(self, student_id: str) -> int:
        try:
            return self._spos[str(student_id)]
        except KeyError:
            raise UnknownIdError("student", [str(student_id)], "not in this environment") from None

    def _forget(self, rows: np.ndarray) -> None:
        if self.half_life is None:
            self._last[rows] = self.clock[rows]
            return
        days = (self.clock[rows] - self._last[rows]) / (86400 * _NS_PER_S)
        keep = 0.5 ** (np.maximum(days, 0.0) / self.half_life)
        th0 = self.theta0[rows]
        self.theta[rows] = th0 + (self.theta[rows] - th0) * keep[:, None]
        self._last[rows] = self.clock[rows]

    def set_time(self, when: str | pd.Timestamp, students: Sequence[str] | None = None) -> None:
        """Move students' clocks forward to ``when`` (clocks never go back)."""
        t = pd.Timestamp(when)
        t = t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")
        rows = self._rows(students)
        self.clock[rows] = np.maximum(self.clock[rows], t.value)
        self._forget(rows)

    def advance(
        self, *, days: float = 0, hours: float = 0, minutes: float = 0, students=None
    ) -> None:
        """Move students' clocks forward (forgetting applies)."""
        rows = self._rows(students)
        dt = ((days * 24 + hours) * 60 + minutes) * 60 * _NS_PER_S
        self.clock[rows] += np.int64(dt)
        self._forget(rows)

    def _rows(self, students) -> np.ndarray:
        if students is None:
            return np.arange(len(self.students))
        if isinstance(students, str):
            students = [students]
        return np.array([self._student(s) for s in students], dtype=np.intp)

    # ------------------------------------------------------------------ truth
    def true_mastery(self, students=None, concepts=None) -> pd.DataFrame:
        """True success probability on a typical item: student x concept."""
        rows = self._rows(students)
        self._forget(rows)
        p = self.model.proba_all(self.theta[rows])
        df = pd.DataFrame(p, index=[self.students[r] for r in rows], columns=self.model.concepts)
        df.index.name = "student_id"
        df.columns.name = "concept_id"
        return df if concepts is None else df[list(concepts)]

    def item_proba(self, rows: np.ndarray, items: np.ndarray) -> np.ndarray:
        """True P(correct) of students ``rows`` on items ``items`` (index arrays)."""
        margin = np.empty(len(rows))
        for n, (r, j) in enumerate(zip(rows, items)):
            cs = self._item_concepts[j]
            margin[n] = np.mean(self.theta[r, cs] - self.model.beta[cs]) if cs else 0.0
        z = self._item_a[items] * (margin - self._item_delta[items])
        c = self._item_c[items]
        return c + (1 - c) * _sigmoid(z)

    def success_proba(self, student_id: str, item_id: str) -> float:
        """True P(correct) of a student on an item now."""
        r = self._student(student_id)
        j = self._item(item_id)
        self._forget(np.array([r]))
        return float(self.item_proba(np.array([r]), np.array([j]))[0])

    def _item(self, item_id: str) -> int:
        try:
            return self._ipos[str(item_id)]
        except KeyError:
            raise UnknownIdError("item", [str(item_id)], "not in the item bank") from None

    # ------------------------------------------------------------------ learning
    def _learn(self, rows, concept_lists, minutes, factor) -> list[dict[str, float]]:
        """Apply study gains; returns per-row gains in typical-item probability."""
        before = self.model.proba_all(self.theta[rows])
        width = max((len(cs) for cs in concept_lists), default=0)
        for slot in range(width):  # vectorised over rows, one concept slot at a time
            sel = np.array([n for n, cs in enumerate(concept_lists) if len(cs) > slot], int)
            if len(sel) == 0:
                continue
            rr = np.asarray(rows)[sel]
            ks = np.array([concept_lists[n][slot] for n in sel], dtype=np.intp)
            share = np.array([minutes[n] / len(concept_lists[n]) for n in sel])
            g = self.model.gain(self.theta[rr], ks, share, self.rates[rr])
            # rows are distinct within one call, so fancy-index assignment is safe
            self.theta[rr] += (np.asarray(factor)[sel] * g)[:, None] * self.model.weights[ks]
        after = self.model.proba_all(self.theta[rows])
        out = []
        for n in range(len(rows)):
            cs = concept_lists[n]
            out.append({self.model.concepts[k]: float(after[n, k] - before[n, k]) for k in cs})
        return out

    def answer_many(
        self, students: Sequence[str], item_ids: Sequence[str], *, learn: bool = True
    ) -> list[StepResult]:
        """Each student answers one item (vectorised); see :meth:`answer`."""
        rows = np.array([self._student(s) for s in students], dtype=np.intp)
        items = np.array([self._item(i) for i in item_ids], dtype=np.intp)
        if len(np.unique(rows)) != len(rows):
            raise ValueError("answer_many takes each student at most once per call")
        self._forget(rows)
        p = self.item_proba(rows, items)
        correct = (self.rng.random(len(rows)) < p).astype(np.int8)
        # working time: item minutes x student speed x noise, longer when wrong
        sec = (
            self._item_min[items]
            * 60.0
            / self.speeds[rows]
            * np.exp(self.rng.normal(0.0, 0.35, len(rows)))
            * np.where(correct == 1, 1.0, 1.25)
        )
        sec = np.clip(sec, 10.0, 3600.0)
        self.clock[rows] += (sec * _NS_PER_S).astype(np.int64)
        lists = [self._item_concepts[j] for j in items]
        gains = (
            self._learn(rows, lists, self._item_min[items], np.ones(len(rows)))
            if learn
            else [{} for _ in rows]
        )
        # a short pause before the next activity
        self.clock[rows] += (self.rng.uniform(5, 40, len(rows)) * _NS_PER_S).astype(np.int64)
        self._last[rows] = self.clock[rows]
        out = []
        for n, r in enumerate(rows):
            j = items[n]
            ts = pd.Timestamp(int(self.clock[r]), tz="UTC").floor("s")
            self._event += 1
            cids = tuple(self.items.at[j, "concept_ids"])
            self._log.append(
                {
                    "student_id": self.students[r],
                    "item_id": str(self.items.at[j, "item_id"]),
                    "concept_ids": cids,
                    "correct": int(correct[n]),
                    "timestamp": ts,
                    "duration_s": round(float(sec[n]), 1),
                    "event_id": f"sim-{self._event:08d}",
                }
            )
            out.append(
                StepResult(
                    self.students[r],
                    "item",
                    str(self.items.at[j, "item_id"]),
                    cids,
                    int(correct[n]),
                    round(float(sec[n]) / 60.0, 2),
                    ts,
                    gains[n],
                )
            )
        return out

    def answer(self, student_id: str, item_id: str, *, learn: bool = True) -> StepResult:
        """The student answers ``item_id`` (and learns from it unless ``learn=False``)."""
        return self.answer_many([student_id], [item_id], learn=learn)[0]

    def study(
        self,
        student_id: str,
        concept_ids: Sequence[str] | None = None,
        minutes: float | None = None,
        *,
        resource_id: str | None = None,
        kind: str = "lesson",
    ) -> StepResult:
        """The student studies a resource, or ``concept_ids`` for ``minutes`` (a lesson).

        Raises
        ------
        UnknownIdError
            For an unknown student, resource or concept.
        """
        r = self._student(student_id)
        self._forget(np.array([r]))
        if resource_id is not None:
            if resource_id not in self._rpos:
                raise UnknownIdError("resource", [str(resource_id)], "not in the catalogue")
            j = self._rpos[resource_id]
            cs = self._res_concepts[j]
            minutes = float(self._res_min[j] if minutes is None else minutes)
            # difficulty fit: best when the predicted success on the resource's own
            # level sits in the productive band (module docstring)
            margin = float(np.mean(self.theta[r, cs] - self.model.beta[cs])) if cs else 0.0
            fit = float(resource_difficulty_fit(margin, self._res_difficulty[j])[0])
            factor = self._res_effect[j] * self._res_eff_type[j] * fit
            cids = tuple(self.model.concepts[k] for k in cs)
            activity, kind = str(resource_id), "resource"
        else:
            if not concept_ids:
                raise ValueError("give concept_ids (and minutes) or a resource_id")
            unknown = [c for c in concept_ids if c not in self._cpos]
            if unknown:
                raise UnknownIdError("concept", unknown, "not a concept of the graph")
            cs = self._concept_index(concept_ids)
            minutes = float(self.model.step_minutes if minutes is None else minutes)
            factor = 1.0
            cids = tuple(concept_ids)
            activity = "+".join(cids)
        gains = self._learn(np.array([r]), [cs], np.array([minutes]), np.array([factor]))[0]
        self.clock[r] += np.int64(minutes * 60 * _NS_PER_S)
        self._last[r] = self.clock[r]
        ts = pd.Timestamp(int(self.clock[r]), tz="UTC").floor("s")
        if kind == "resource":
            self._resource_log.append(
                {
                    "student_id": self.students[r],
                    "resource_id": activity,
                    "concept_ids": cids,
                    "minutes": round(minutes, 2),
                    "timestamp": ts,
                }
            )
        return StepResult(self.students[r], kind, activity, cids, None, minutes, ts, gains)

    def step(self, student_id: str, item_or_resource: str, **kw) -> StepResult:
        """Answer an item or study a resource, whichever the id names.

        Raises
        ------
        UnknownIdError
            If the id is neither an item nor a registered resource.
        """
        key = str(item_or_resource)
        if key in self._ipos:
            return self.answer(student_id, key, **kw)
        if key in self._rpos:
            return self.study(student_id, resource_id=key, **kw)
        raise UnknownIdError("item or resource", [key], "neither in the item bank nor catalogue")

    # ------------------------------------------------------------------ logs
    @property
    def interactions(self) -> pd.DataFrame:
        """Logged answers, canonical columns, each student's rows in time order."""
        cols = ["student_id", "item_id", "concept_ids", "correct", "timestamp"]
        cols += ["duration_s", "event_id"]
        if not self._log:
            df = pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
            df["correct"] = df["correct"].astype(np.int8)
            df["timestamp"] = pd.to_datetime(df["timestamp"], utc=True)
            return df
        df = pd.DataFrame(self._log, columns=cols)
        df["correct"] = df["correct"].astype(np.int8)
        df["timestamp"] = pd.to_datetime(df["timestamp"], utc=True).astype("datetime64[ns, UTC]")
        df = df.sort_values(["student_id", "timestamp", "event_id"], kind="stable")
        return df.reset_index(drop=True)

    @property
    def resource_log(self) -> pd.DataFrame:
        """Logged resource uses: ``student_id, resource_id, concept_ids, minutes, timestamp``."""
        cols = ["student_id", "resource_id", "concept_ids", "minutes", "timestamp"]
        df = pd.DataFrame(self._resource_log, columns=cols)
        if len(df):
            df["timestamp"] = pd.to_datetime(df["timestamp"], utc=True)
            df = df.sort_values(["student_id", "timestamp"], kind="stable")
        return df.reset_index(drop=True)

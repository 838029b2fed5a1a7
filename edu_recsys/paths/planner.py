"""The learning-path planner: from mastery and a graph to an ordered route to a goal.

:class:`PathPlanner` keeps a belief about one student's state (a particle estimate,
:mod:`edu_recsys.paths.belief`), plans with a beam search over study sequences under
a learner model (:mod:`edu_recsys.paths.search`), turns the best sequence into
:class:`~edu_recsys.paths.path.PathStep` objects with items, resources, expected gains,
minutes and reasons, and re-plans after every observed answer (:meth:`observe`).

Where the belief comes from:

* ``mastery``: a mapping concept -> success probability on a typical item, e.g. the
  ``mastery`` column of any tracer of :mod:`edu_recsys.mastery` for one student. The
  particles are spread around those values. **Fallback**: relevant concepts missing
  from the mapping start from the population prior, and the path says so
  (``fallback="unseen_concepts"``).
* ``history``: ``(concept_id, correct)`` pairs of earlier study-and-answer steps (or an
  interactions table of one student); the estimator replays them.
* Both: the mapping as prior, then the history.

The default learner model is :class:`~edu_recsys.simulate.learners.GraphLearnerModel`
with its population defaults (no per-student parameters); any
:class:`~edu_recsys.simulate.model.LearnerModel` can be passed (KSS uses its rules).
Only the targets and their prerequisite closure are modelled: nothing outside it can
change them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

import networkx as nx
import numpy as np
import pandas as pd

from edu_recsys.constants import MASTERY_THRESHOLD, PRODUCTIVE_BAND
from edu_recsys.exceptions import UnknownIdError
from edu_recsys.graph import (
    concepts_needed,
    prerequisite_closure,
    prerequisite_groups,
    prerequisite_view,
)
from edu_recsys.paths.belief import Belief, ParticleEstimator
from edu_recsys.paths.path import LearningPath, PathStep
from edu_recsys.paths.search import PrerequisiteIndex, SearchResult, beam_search
from edu_recsys.simulate.learners import GraphLearnerModel
from edu_recsys.simulate.model import LearnerModel

__all__ = ["PathPlanner", "plan_path", "mastery_mapping"]


def _pct(p: float) -> str:
    return f"{100 * p:.0f}%"


class PathPlanner:
    """Plan and re-plan one student's learning path to one or more target concepts.

    Parameters
    ----------
    G : networkx.DiGraph
        Knowledge graph (prerequisite edges; ``any_of`` groups honoured).
    targets : str or sequence of str
    mastery : mapping or DataFrame, optional
        Concept -> success probability on a typical item; or a tracer's ``mastery()``
        table (long form ``student_id, concept_id, mastery``: the rows of
        ``student_id``; see :func:`mastery_mapping`).
    history : sequence of (str, int) or DataFrame, optional
        Earlier ``(concept_id, correct)`` study-and-answer steps, oldest first; a
        DataFrame needs ``concept_ids`` and ``correct`` (one student, in time order).
    model : LearnerModel, optional
        Default: ``GraphLearnerModel(G, grade=grade)``.
    items : DataFrame, optional
        Item bank (``item_id, concept_ids`` and ``irt_b`` or ``difficulty``, ``minutes``);
        default ``G.graph["items"]`` (ids only).
    resources : DataFrame, optional
        Catalogue (``resource_id, concept_ids`` and optionally ``minutes, difficulty,
        is_quality``); default ``G.graph["resources"]`` (ids only).
    budget_minutes : float, optional
        Time available; the path stops within it.
    max_steps : int, default 40
        Longest path planned (study steps); a longer route ends with status
        ``"partial"``.
    threshold : float, default MASTERY_THRESHOLD
        A concept whose believed success probability (:meth:`mastery`) reaches it counts
        as mastered: a mastered target is skipped, and a mastered prerequisite lets
        its dependents into the path.
    beam_width : int, default 8
    n_particles : int, default 500
    plan_particles : int, default 16
        Particles the search plans on (a representative sample of the belief).
    max_candidates : int or None, default 6
        Concepts expanded per search node (see :func:`~edu_recsys.paths.search.beam_search`).
    random_state : int, default 0
    student_id : str, optional
    grade : int, optional
        The student's grade, for the default model's prior: concepts without a mastery
        value (the fallback) start mostly mastered when they belong to an earlier grade,
        hardly when they belong to a later one. None: every such concept at about 50%.

    Raises
    ------
    UnknownIdError
        If a target is not a concept of ``G``.

    Examples
    --------
    >>> G = nx.DiGraph([("a", "b"), ("b", "c")])
    >>> for n in G: G.nodes[n].update(name=n.upper(), name_en=n)
    >>> planner = PathPlanner(G, "c", mastery={"a": 0.95, "b": 0.3, "c": 0.1})
    >>> path = planner.plan()
    >>> path.status, path.concepts[0]
    ('planned', 'b')
    >>> path = planner.observe("b", 0)  # a wrong answer: re-planned
    >>> path.concepts[0]
    'b'
    >>> PathPlanner(G, "a", mastery={"a": 0.95}).plan().status
    'already_mastered'
    """

    def __init__(
        self,
        G: nx.DiGraph,
        targets: str | Sequence[str],
        *,
        mastery: Mapping[str, float] | pd.DataFrame | None = None,
        history: Iterable[tuple[str, int]] | pd.DataFrame | None = None,
        model: LearnerModel | None = None,
        items: pd.DataFrame | None = None,
        resources: pd.DataFrame | None = None,
        budget_minutes: float | None = None,
        max_steps: int = 40,
        threshold: float = MASTERY_THRESHOLD,
        beam_width: int = 8,
        n_particles: int = 500,
        plan_particles: int = 16,
        max_candidates: int | None = 6,
        progress_weight: float = 0.2,
        random_state: int = 0,
        student_id: str | None = None,
        grade: int | None = None,
    ) -> None:
        targets = [targets] if isinstance(targets, str) else [str(t) for t in targets]
        if not targets:
            raise ValueError("give at least one target concept")
        missing = [t for t in targets if t not in G]
        if missing:
            raise UnknownIdError("concept", missing, "target is not a concept of the graph")
        self.G = G
        self.targets = list(dict.fromkeys(targets))
        self.student_id = student_id
        self.threshold = float(threshold)
        self.budget_minutes = budget_minutes
        self.max_steps = int(max_steps)
        self.beam_width = int(beam_width)
        self.plan_particles = int(plan_particles)
        self.max_candidates = max_candidates
        self.progress_weight = float(progress_weight)
        relevant = prerequisite_closure(G, self.targets, include_targets=True)
        base = model if model is not None else GraphLearnerModel(G, grade=grade)
        self.model = base.restrict(relevant)
        self.concepts = list(self.model.concepts)
        self._pos = {c: i for i, c in enumerate(self.concepts)}
        self.prereqs = PrerequisiteIndex(G, self.concepts)
        self.fallback_concepts: list[str] = []
        self._given: dict[str, float] = {}
        prior = None
        if isinstance(mastery, pd.DataFrame):
            mastery = mastery_mapping(mastery, student_id)
        if mastery is not None:
            mastery = {str(k): float(v) for k, v in dict(mastery).items() if v is not None}
            _, miss = self.model.states_from_mastery(mastery, 1, np.random.default_rng(0))
            self.fallback_concepts = list(miss)
            self._given = {c: p for c, p in mastery.items() if c in self._pos}

            def prior(n, rng, _m=mastery):
                return self.model.states_from_mastery(_m, n, rng)[0]

        self.estimator = ParticleEstimator(
            self.model, n_particles=n_particles, random_state=random_state, prior=prior
        )
        self.estimator.start(self._history_pairs(history))
        self._items = self._item_table(items)
        self._resources = self._resource_table(resources)
        P = prerequisite_view(G)
        self._desc = {c: nx.descendants(P, c) for c in self.concepts}
        self._alternatives: dict[str, list[str]] = {}
        for c in self.concepts:
            _, groups = prerequisite_groups(G, c)
            for members in groups.values():
                for m in members:
                    self._alternatives.setdefault(m, []).extend(x for x in members if x != m)

    # ------------------------------------------------------------------ inputs
    def _history_pairs(self, history) -> list[tuple[int, int]]:
        if history is None:
            return []
        if isinstance(history, pd.DataFrame):
            pairs = []
            for cs, y in zip(history["concept_ids"], history["correct"]):
                for c in (cs,) if isinstance(cs, str) else cs:
                    pairs.append((c, int(y)))
            history = pairs
        out = []
        for c, y in history:
            if c in self._pos:  # answers outside the closure cannot change it
                out.append((self._pos[c], int(y)))
        return out

    def _item_table(self, items) -> dict[str, list[tuple]]:
        """concept -> [(item_id, irt_b or None, minutes or None, secondary)]."""
        by: dict[str, list] = {}
        if items is None:
            for iid, cs in (self.G.graph.get("items") or {}).items():
                for j, c in enumerate(cs):
                    by.setdefault(c, []).append((str(iid), None, None, j > 0))
        else:
            b = (
                items["irt_b"]
                if "irt_b" in items
                else 4.0 * (pd.to_numeric(items.get("difficulty", 0.5)) - 0.5)
                if "difficulty" in items
                else pd.Series([None] * len(items))
            )
            mins = items["minutes"] if "minutes" in items else pd.Series([None] * len(items))
            for iid, cs, bb, mm in zip(items["item_id"], items["concept_ids"], b, mins):
                cs = (cs,) if isinstance(cs, str) else tuple(cs)
                for j, c in enumerate(cs):
                    if c in self._pos:
                        by.setdefault(c, []).append((str(iid), bb, mm, j > 0))
        return by

    def _resource_table(self, resources) -> dict[str, list[dict]]:
        by: dict[str, list[dict]] = {}
        if resources is None:
            for rid, cs in (self.G.graph.get("resources") or {}).items():
                for c in cs:
                    by.setdefault(c, []).append({"resource_id": str(rid)})
            return by
        for row in resources.to_dict("records"):
            cs = row.get("concept_ids")
            cs = (cs,) if isinstance(cs, str) else tuple(cs or ())
            for c in cs:
                if c in self._pos:
                    by.setdefault(c, []).append(row)
        return by

    # ------------------------------------------------------------------ state
    @property
    def belief(self) -> Belief:
        """The particles the search plans on (a representative sample of the belief)."""
        return self.estimator.belief(self.plan_particles, "sample")

    def mastery(self) -> dict[str, float]:
        """Believed success probability on a typical item of each modelled concept.

        The given mastery value of a concept as long as no answer on it was observed
        (exactly what the tracer said); otherwise the belief's weighted median.
        """
        med = self.estimator.summary(self.model.proba_all(self.estimator.theta))
        seen = {self.concepts[h[0]] for h in self.estimator.history}
        return {
            c: self._given[c] if c in self._given and c not in seen else float(med[i])
            for i, c in enumerate(self.concepts)
        }

    def observe(self, concept_id: str, correct: int) -> LearningPath:
        """Take in one study-and-answer step, then re-plan.

        Raises
        ------
        UnknownIdError
            If ``concept_id`` is not a concept of the graph (concepts of the graph
            outside the targets' closure are accepted and ignored).
        """
        if concept_id not in self.G:
            raise UnknownIdError("concept", [str(concept_id)], "not a concept of the graph")
        if concept_id in self._pos:
            self.estimator.update(self._pos[concept_id], int(correct))
        return self.plan()

    # ------------------------------------------------------------------ planning
    def _horizon(self) -> int:
        h = self.max_steps
        if self.budget_minutes is not None:
            step = getattr(self.model, "step_minutes", 5.0)
            h = min(h, int(math.floor(self.budget_minutes / step)))
        return max(h, 0)

    def search(self, horizon: int | None = None) -> SearchResult:
        """The raw beam-search result for the current belief (all unmastered targets)."""
        now = self.mastery()
        todo = [t for t in self.targets if now[t] < self.threshold]
        tidx = np.array([self._pos[t] for t in todo], dtype=np.intp)
        start = np.array([now[c] >= self.threshold for c in self.concepts])
        valued = self._valued(todo, start)
        return beam_search(
            self.model,
            self.belief,
            tidx,
            np.arange(len(self.concepts)),
            self._horizon() if horizon is None else horizon,
            self.prereqs,
            beam_width=self.beam_width,
            progress_weight=self.progress_weight,
            start_mastered=start,
            valued=valued,
            max_candidates=self.max_candidates,
        )

    def _valued(self, todo: list[str], start: np.ndarray) -> np.ndarray:
        """Concepts whose progress the search rewards: the mastered ones (stronger bases)
        and the unmastered ones the route needs (any-of alternatives not taken left out)."""
        mastered = {c for c, m in zip(self.concepts, start) if m}
        needed = set(concepts_needed(self.G, todo, mastered)) if todo else set()
        keep = needed | mastered | set(todo)
        return np.array([i for i, c in enumerate(self.concepts) if c in keep], dtype=np.intp)

    def plan(self) -> LearningPath:
        """The path from the current belief."""
        now = self.mastery()
        todo = [t for t in self.targets if now[t] < self.threshold]
        fb = "unseen_concepts" if self.fallback_concepts else ""
        if not todo:
            names = "、".join(self.G.nodes[t].get("name", t) for t in self.targets)
            names_en = ", ".join(self.G.nodes[t].get("name_en", t) for t in self.targets)
            return LearningPath(
                self.targets,
                [],
                "already_mastered",
                f"目标知识点（{names}）均已掌握，无需新的学习路径。",
                f"All target concepts ({names_en}) are already mastered: no path needed.",
                float(len(self.targets)),
                0.0,
                self.student_id,
                fb,
                list(self.fallback_concepts),
            )
        res = self.search()
        steps = self._steps(res, todo)
        done_before = len(self.targets) - len(todo)
        expected = done_before + (float(res.expected_mastered[-1]) if len(res.sequence) else 0.0)
        # respect the time budget (steps' minutes may exceed the model's step minutes)
        status = "planned" if expected >= len(self.targets) - 0.5 else "partial"
        if self.budget_minutes is not None:
            kept, used = [], 0.0
            for s in steps:
                if used + s.minutes > self.budget_minutes + 1e-9:
                    break
                kept.append(s)
                used += s.minutes
            if len(kept) < len(steps) or (status == "partial" and self._horizon() < self.max_steps):
                status = "budget_exhausted"
            steps = kept
        if not steps:
            status = "no_path" if status in ("planned", "partial") else status
        total = float(sum(s.minutes for s in steps))
        msg, msg_en = self._message(status, steps, total, expected)
        return LearningPath(
            self.targets,
            steps,
            status,
            msg,
            msg_en,
            round(expected, 3),
            round(total, 1),
            self.student_id,
            fb,
            list(self.fallback_concepts),
        )

    def _message(self, status, steps, total, expected) -> tuple[str, str]:
        T = len(self.targets)
        if status == "no_path":
            return (
                "暂时无法规划：目标的先修知识点都还不能学习。",
                "No path: none of the targets' prerequisites can be studied yet.",
            )
        zh = f"共 {len(steps)} 步，约 {total:.0f} 分钟，预计掌握 {expected:.1f}/{T} 个目标知识点。"
        en = (
            f"{len(steps)} steps, about {total:.0f} minutes; "
            f"expected to master {expected:.1f} of {T} target concepts."
        )
        if status == "budget_exhausted":
            zh += "时间预算内学不完，先按此顺序学习。"
            en += " The time budget ends first: follow this order as far as it goes."
        elif status == "partial":
            zh += f"按此路径学完 {len(steps)} 步后仍需继续（随后会重新规划）。"
            en += " More steps will be needed after these (the path is re-planned as you go)."
        return zh, en

    # ------------------------------------------------------------------ steps
    def _steps(self, res: SearchResult, todo: list[str]) -> list[PathStep]:
        seq = [int(k) for k in res.sequence]
        steps: list[PathStep] = []
        used_items: set[str] = set()
        seen: set[str] = set()
        i = 0
        while i < len(seq):
            j = i
            while j + 1 < len(seq) and seq[j + 1] == seq[i]:
                j += 1
            k = seq[i]
            c = self.concepts[k]
            before_p = float(res.success[i, k])
            after_p = float(res.success[j + 1, k])
            before_m = float(res.mastery[i, k])
            practice = j - i + 1
            if c in self.targets:
                role = "target"
            else:
                role = "reinforce" if before_m >= 0.5 else "prerequisite"
            items = self._pick_items(c, before_p, practice, used_items)
            used_items.update(i_ for i_, _ in items)
            first_visit = c not in seen and role != "reinforce"
            res_rows = self._pick_resources(c, before_p) if first_visit else []
            seen.add(c)
            # the items' own minutes; the model's step minutes for steps without one
            step_min = getattr(self.model, "step_minutes", 5.0)
            timed = [m for _, m in items if m is not None]
            minutes = sum(timed) + (practice - len(timed)) * step_min
            minutes += sum(float(r.get("minutes") or 0.0) for r in res_rows)
            zh, en = self._reason(c, role, before_p, after_p, todo)
            node = self.G.nodes[c]
            steps.append(
                PathStep(
                    concept_id=c,
                    name=str(node.get("name", c)),
                    name_en=str(node.get("name_en", c)),
                    role=role,
                    practice=practice,
                    items=[i_ for i_, _ in items],
                    resources=[str(r["resource_id"]) for r in res_rows],
                    expected_gain=round(after_p - before_p, 4),
                    mastery_before=round(before_p, 4),
                    mastery_after=round(after_p, 4),
                    minutes=round(float(minutes), 1),
                    reason=zh,
                    reason_en=en,
                )
            )
            i = j + 1
        return steps

    def _pick_items(self, c, p, n, used) -> list[tuple[str, float | None]]:
        """``n`` items of ``c`` (its own items first), predicted success nearest the middle
        of the productive band."""
        options = [t for t in self._items.get(c, []) if t[0] not in used]
        if not options:
            return []
        beta = getattr(self.model, "beta", None)
        k = self._pos[c]
        mid = sum(PRODUCTIVE_BAND) / 2
        logit_p = math.log(max(p, 1e-6) / max(1 - p, 1e-6))

        def fit(t):
            if t[1] is None or beta is None or pd.isna(t[1]):
                return 0.0
            q = 1 / (1 + math.exp(-(logit_p - (float(t[1]) - beta[k]))))
            return abs(q - mid)

        ranked = sorted(options, key=lambda t: (t[3], fit(t)))[:n]
        return [(t[0], None if t[2] is None or pd.isna(t[2]) else float(t[2])) for t in ranked]

    def _pick_resources(self, c, p) -> list[dict]:
        rows = self._resources.get(c, [])
        if not rows:
            return []

        def key(r):
            q = bool(r.get("is_quality")) if r.get("is_quality") is not None else False
            d = r.get("difficulty")
            d = 0.5 if d is None or pd.isna(d) else float(d)
            return (not q, abs(d - (1 - p)), str(r["resource_id"]))

        return sorted(rows, key=key)[:1]

    def _reason(self, c, role, before, after, todo) -> tuple[str, str]:
        G = self.G
        name, name_en = G.nodes[c].get("name", c), G.nodes[c].get("name_en", c)
        gain = after - before
        dep = next((t for t in todo if t in self._desc[c]), None)
        if dep is None:
            dep = next((t for t in self.targets if t in self._desc[c]), self.targets[0])
        dname, dname_en = G.nodes[dep].get("name", dep), G.nodes[dep].get("name_en", dep)
        if role == "target":
            zh = f"学习目标「{name}」：目前掌握度约 {_pct(before)}，先修知识点已就绪"
            en = f"Target '{name_en}': mastery about {_pct(before)}, prerequisites in place"
        elif role == "reinforce":
            zh = (
                f"巩固「{name}」（已基本掌握，约 {_pct(before)}）：它是「{dname}」的基础，"
                "基础越牢，后面学得越快"
            )
            en = (
                f"Reinforce '{name_en}' (mastered, about {_pct(before)}): '{dname_en}' builds "
                "on it, and a firmer base makes the next steps faster"
            )
        else:
            zh = f"先学「{name}」：它是目标「{dname}」的先修知识点，目前掌握度约 {_pct(before)}"
            en = (
                f"First '{name_en}': a prerequisite of the target '{dname_en}', "
                f"mastery about {_pct(before)}"
            )
        alts = [a for a in self._alternatives.get(c, []) if a in self._pos]
        if alts:
            a = alts[0]
            zh += f"（与「{G.nodes[a].get('name', a)}」任选其一即可，这条路更近）"
            en += f" (either this or '{G.nodes[a].get('name_en', a)}' will do; this one is closer)"
        zh += f"；预计掌握度提升 {100 * gain:+.0f} 个百分点。"
        en += f"; expected gain {100 * gain:+.0f} percentage points."
        return zh, en


def mastery_mapping(table: pd.DataFrame, student_id: str | None = None) -> dict[str, float]:
    """One student's ``concept -> mastery`` from a tracer's long-form ``mastery()`` table.

    Raises
    ------
    UnknownIdError
        If ``student_id`` has no rows (or is None while the table has several students).

    Examples
    --------
    >>> t = pd.DataFrame({"student_id": ["s1", "s1", "s2"], "concept_id": ["a", "b", "a"],
    ...                   "mastery": [0.9, 0.4, 0.2]})
    >>> mastery_mapping(t, "s1")
    {'a': 0.9, 'b': 0.4}
    """
    if "student_id" in table.columns:
        students = table["student_id"].astype(str).unique()
        if student_id is None and len(students) == 1:
            student_id = students[0]
        rows = table[table["student_id"].astype(str) == str(student_id)]
        if rows.empty:
            raise UnknownIdError("student", [str(student_id)], "no rows in the mastery table")
    else:
        rows = table
    return {str(c): float(m) for c, m in zip(rows["concept_id"], rows["mastery"]) if pd.notna(m)}


def plan_path(
    G: nx.DiGraph,
    mastery: Mapping[str, float] | pd.DataFrame | None,
    targets: str | Sequence[str],
    *,
    budget_minutes: float | None = None,
    **kwargs,
) -> LearningPath:
    """Plan a learning path to ``targets`` from per-concept mastery (one call).

    Parameters
    ----------
    G : networkx.DiGraph
    mastery : mapping, DataFrame or None
        Concept -> success probability on a typical item, or a tracer's ``mastery()``
        table (pass ``student_id=`` when it holds several students). None: the
        population prior (flagged as fallback).
    targets : str or sequence of str
    budget_minutes : float, optional
    **kwargs
        Passed to :class:`PathPlanner` (``items``, ``resources``, ``history``, ...).

    Returns
    -------
    LearningPath

    Raises
    ------
    UnknownIdError
        If a target is not a concept of ``G``.

    Examples
    --------
    >>> G = nx.DiGraph([("add", "mul"), ("mul", "eq")])
    >>> path = plan_path(G, {"add": 0.9, "mul": 0.4, "eq": 0.1}, "eq")
    >>> path.concepts[:2], path.steps[0].role
    (['mul', 'eq'], 'prerequisite')
    >>> plan_path(G, {}, "ghost")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    edu_recsys.exceptions.UnknownIdError: unknown concept id(s): 'ghost'; target is not ...
    """
    return PathPlanner(
        G, targets, mastery=mastery if mastery is not None else {}, budget_minutes=budget_minutes,
        **kwargs,
    ).plan()  # fmt: skip

"""A simulated class: a few weeks of lessons and homework on a subject graph.

:func:`simulate_class` is what the class demo and the offline evaluations start from:
a class of seeded students at one grade, taught one new concept of that grade per
school day (in the graph's learning order), each lesson followed by evening homework
(items mostly on the day's concept, some on the last few concepts, some reviewing
its prerequisites), optionally with resources watched before the homework. Everything
a platform would log comes out in the canonical shapes, and so does the hidden truth.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import networkx as nx
import numpy as np
import pandas as pd

from edu_recsys.graph import learning_order, prerequisite_view
from edu_recsys.simulate.env import LearnerEnv
from edu_recsys.simulate.items import make_item_bank
from edu_recsys.simulate.learners import GraphLearnerModel

__all__ = ["SimulatedClass", "simulate_class", "make_learners"]

_NS_PER_MIN = 60 * 1_000_000_000


@dataclass
class SimulatedClass:
    """The outcome of :func:`simulate_class`.

    Attributes
    ----------
    interactions : DataFrame
        Canonical answers (``student_id, item_id, concept_ids, correct, timestamp,
        duration_s, event_id``), each student's rows in time order.
    items : DataFrame
        The item bank: ``item_id, concept_ids, difficulty, minutes`` (+ ``irt_b``,
        ``discrimination``, ``guessing``, ``type``).
    true_mastery : DataFrame
        Student x concept true success probability on a typical item, at the end.
    initial_mastery : DataFrame
        The same at the start.
    students : DataFrame
        ``student_id, class_id, grade`` and the hidden ``ability``, ``learning_rate``,
        ``speed``.
    schedule : DataFrame
        The lessons: ``date, concept_id, name, name_en``.
    resource_log : DataFrame
        Resource uses (empty without resources).
    env : LearnerEnv
        The environment, at the end of the simulation, to continue from
        (``env.step(student, item_or_resource)``, ``env.true_mastery()``, ...).
    graph : networkx.DiGraph
    model : GraphLearnerModel
    """

    interactions: pd.DataFrame
    items: pd.DataFrame
    true_mastery: pd.DataFrame
    initial_mastery: pd.DataFrame
    students: pd.DataFrame
    schedule: pd.DataFrame
    resource_log: pd.DataFrame
    env: LearnerEnv
    graph: nx.DiGraph
    model: GraphLearnerModel


def _default_grade(G: nx.DiGraph) -> int | None:
    grades = sorted(d.get("grade") for _, d in G.nodes(data=True) if d.get("grade"))
    return int(grades[len(grades) // 2]) if grades else None


def make_learners(
    model: GraphLearnerModel,
    n: int,
    random_state: np.random.Generator,
    *,
    rate_sd: float = 0.3,
    speed_sd: float = 0.2,
):
    """Draw ``n`` learners: abilities from the model's prior, learning rates and speeds.

    Returns ``(theta, rates, speeds)``; rates and speeds are log-normal with median 1.
    """
    theta = model.prior_states(n, random_state)
    rates = np.exp(random_state.normal(0.0, rate_sd, n))
    speeds = np.exp(random_state.normal(0.0, speed_sd, n))
    return theta, rates, speeds


def simulate_class(
    G: nx.DiGraph,
    n_students: int = 40,
    weeks: int = 3,
    random_state: int = 0,
    *,
    grade: int | None = None,
    start: str = "2025-09-01",
    timezone: str = "Asia/Shanghai",
    class_id: str = "class-1",
    items_per_concept: int = 6,
    homework_items: tuple[int, int] = (6, 10),
    lesson_minutes: float = 40.0,
    absence_rate: float = 0.04,
    resources: pd.DataFrame | None = None,
    resource_use_rate: float = 0.3,
    forgetting_half_life_days: float | None = 60.0,
    items: pd.DataFrame | None = None,
) -> SimulatedClass:
    """Simulate a class: seeded students, daily lessons and homework over ``weeks`` weeks.

    Parameters
    ----------
    G : networkx.DiGraph
        Subject graph (e.g. ``load_graph("math-7-9")``).
    n_students : int, default 40
    weeks : int, default 3
        School weeks (Monday to Friday) simulated.
    random_state : int, default 0
        Same seed, same class, same logs.
    grade : int, optional
        The class's grade (default: the median grade of the graph's concepts, 8 for
        ``math-7-9``). Concepts of earlier grades start mostly mastered.
    start : str, default "2025-09-01"
        First day (moved to the next Monday if it is not one).
    timezone : str, default "Asia/Shanghai"
        School's time zone (lessons at 08:00, homework from 19:00 local); logs are UTC.
    class_id : str, default "class-1"
        Prefix of the student ids (``"<class_id>-s01"``, ...).
    items_per_concept : int, default 6
    homework_items : (int, int), default (6, 10)
        Inclusive range of items per student per evening.
    lesson_minutes : float, default 40
    absence_rate : float, default 0.04
        Chance that a student misses a day (lesson and homework).
    resources : DataFrame, optional
        A catalogue (``resource_id, concept_ids, minutes`` ...): with probability
        ``resource_use_rate`` a student studies one resource on the day's concept
        before the homework; the uses are in ``resource_log``.
    resource_use_rate : float, default 0.3
    forgetting_half_life_days : float or None, default 60
    items : DataFrame, optional
        Use this item bank instead of generating one.

    Returns
    -------
    SimulatedClass

    Examples
    --------
    >>> G = nx.DiGraph([("a", "b"), ("b", "c")])
    >>> for n in G: G.nodes[n]["grade"] = 8
    >>> sim = simulate_class(G, n_students=3, weeks=1, random_state=0)
    >>> sim.true_mastery.shape, list(sim.schedule.concept_id)
    ((3, 3), ['a', 'b', 'c'])
    >>> sim.interactions.columns[:4].tolist()
    ['student_id', 'item_id', 'concept_ids', 'correct']
    """
    rng = np.random.default_rng(random_state)
    grade = _default_grade(G) if grade is None else int(grade)
    model = GraphLearnerModel(G, grade=grade)
    bank = (
        make_item_bank(G, items_per_concept, random_state=rng)
        if items is None
        else items.reset_index(drop=True)
    )
    students = [f"{class_id}-s{i + 1:02d}" for i in range(n_students)]
    theta, rates, speeds = make_learners(model, n_students, rng)
    first = pd.Timestamp(start)
    first = first + pd.Timedelta(days=(7 - first.weekday()) % 7)  # a Monday
    t0 = pd.Timestamp(first.date()).tz_localize(timezone) + pd.Timedelta(hours=7)
    env = LearnerEnv(
        model,
        students,
        theta,
        bank,
        resources=resources,
        rates=rates,
        speeds=speeds,
        start=t0.tz_convert("UTC"),
        forgetting_half_life_days=forgetting_half_life_days,
        random_state=rng,
    )
    initial = env.true_mastery()

    # the syllabus: this grade's concepts in learning order (all concepts if ungraded)
    order = list(learning_order(G))
    syllabus = [c for c in order if grade is None or G.nodes[c].get("grade") == grade]
    P = prerequisite_view(G)
    items_of: dict[str, list[str]] = {}
    for iid, cs in zip(bank["item_id"], bank["concept_ids"]):
        if len(cs):
            items_of.setdefault(cs[0], []).append(str(iid))
    res_of: dict[str, list[str]] = {}
    if resources is not None:
        for rid, cs in zip(resources["resource_id"], resources["concept_ids"]):
            for c in (cs,) if isinstance(cs, str) else cs:
                res_of.setdefault(c, []).append(str(rid))

    schedule = []
    taught: list[str] = []
    day = pd.Timestamp(first.date())
    for _week in range(weeks):
        for _weekday in range(5):
            if len(taught) < len(syllabus):
                concept = syllabus[len(taught)]
                taught.append(concept)
                schedule.append(
                    {
                        "date": day.date(),
                        "concept_id": concept,
                        "name": G.nodes[concept].get("name"),
                        "name_en": G.nodes[concept].get("name_en"),
                    }
                )
                _school_day(
                    env, rng, day, timezone, concept, taught, P, items_of, res_of,
                    homework_items, lesson_minutes, absence_rate, resource_use_rate,
                )  # fmt: skip
            day += pd.Timedelta(days=1)
        day += pd.Timedelta(days=2)

    who = pd.DataFrame(
        {
            "student_id": students,
            "class_id": class_id,
            "grade": grade,
            "ability": (theta - model.beta).mean(axis=1).round(3),
            "learning_rate": rates.round(3),
            "speed": speeds.round(3),
        }
    )
    return SimulatedClass(
        interactions=env.interactions,
        items=bank,
        true_mastery=env.true_mastery(),
        initial_mastery=initial,
        students=who,
        schedule=pd.DataFrame(schedule, columns=["date", "concept_id", "name", "name_en"]),
        resource_log=env.resource_log,
        env=env,
        graph=G,
        model=model,
    )


def _school_day(
    env: LearnerEnv,
    rng: np.random.Generator,
    day: pd.Timestamp,
    timezone: str,
    concept: str,
    taught: Sequence[str],
    P: nx.DiGraph,
    items_of: dict[str, list[str]],
    res_of: dict[str, list[str]],
    homework_items: tuple[int, int],
    lesson_minutes: float,
    absence_rate: float,
    resource_use_rate: float,
) -> None:
    n = len(env.students)
    present = rng.random(n) >= absence_rate
    local = pd.Timestamp(day.date()).tz_localize(timezone)
    lesson_at = (local + pd.Timedelta(hours=8)).tz_convert("UTC")
    for i in np.flatnonzero(present):
        env.set_time(lesson_at, [env.students[i]])
        env.study(env.students[i], [concept], lesson_minutes, kind="lesson")
    # homework from 19:00 local, each student starting at their own time
    evening = (local + pd.Timedelta(hours=19)).tz_convert("UTC")
    rows = np.flatnonzero(present)
    starts = evening.value + (rng.uniform(0, 120, len(rows)) * _NS_PER_MIN).astype(np.int64)
    for i, t in zip(rows, starts):
        env.set_time(pd.Timestamp(int(t), tz="UTC"), [env.students[i]])
        if res_of.get(concept) and rng.random() < resource_use_rate:
            rid = res_of[concept][rng.integers(len(res_of[concept]))]
            env.study(env.students[i], resource_id=rid)
    recent = [c for c in taught[-5:-1] if items_of.get(c)]
    review = [c for c in P.predecessors(concept) if items_of.get(c)]
    lo, hi = homework_items
    counts = rng.integers(lo, hi + 1, size=len(rows))
    plans = []
    for m in counts:
        pool = []
        for _ in range(m):
            u = rng.random()
            src = [concept] if u < 0.55 or not (recent or review) else None
            if src is None:
                src = recent if (u < 0.8 and recent) or not review else review
            c = src[rng.integers(len(src))]
            options = [i for i in items_of.get(c, []) if i not in pool] or items_of.get(c, [])
            if options:
                pool.append(options[rng.integers(len(options))])
        plans.append(pool)
    width = max((len(p) for p in plans), default=0)
    for slot in range(width):
        sel = [n for n, p in enumerate(plans) if len(p) > slot]
        env.answer_many([env.students[rows[n]] for n in sel], [plans[n][slot] for n in sel])

"""One call for the whole teacher's view of a class: report, groups, homework, items.

:func:`analyse_class` is what the command line (``edu-recsys class-report``,
``edu-recsys demo``) and the service call. It takes the class's interactions, the
subject graph and a fitted tracer (mastery contract: ``mastery(history, students=,
concepts=)`` and ``predict_next(history, candidates)``), or a precomputed mastery long
table, and runs :func:`~edu_recsys.classroom.report.class_report`,
:func:`~edu_recsys.classroom.groups.teaching_groups`,
:func:`~edu_recsys.classroom.homework.personal_homework` and
:func:`~edu_recsys.classroom.items.item_analysis` on one shared mastery matrix.

The tracer's mastery is first calibrated for the class
(:func:`~edu_recsys.classroom.calibrate.calibrate_mastery`; it needs the class's grade,
``calibrate=False`` turns it off): every part then sees the same calibrated matrix
(flag ``"class_calibrated"`` when a cell changed).

Without a grade (and no current unit to read it from) there is no homework
(``flags`` holds ``"no_grade"``); without a tracer, predicted success falls back to
mastery (see :mod:`~edu_recsys.classroom.homework`).
"""

from __future__ import annotations

import logging
import os
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import pandas as pd

from edu_recsys.classroom.calibrate import CalibratedMastery, calibrate_mastery
from edu_recsys.classroom.groups import TeachingGroups, teaching_groups
from edu_recsys.classroom.homework import (
    Homework,
    HomeworkPolicy,
    item_bank,
    personal_homework,
    predict_success,
    useful_items,
)
from edu_recsys.classroom.i18n import check_lang
from edu_recsys.classroom.items import ItemAnalysis, item_analysis
from edu_recsys.classroom.matrix import mastery_matrix, roster_ids
from edu_recsys.classroom.report import ClassReport, class_report
from edu_recsys.constants import MASTERY_THRESHOLD
from edu_recsys.exceptions import InvalidDataError

__all__ = ["ClassAnalysis", "analyse_class", "PARTS"]

log = logging.getLogger(__name__)

#: The parts :func:`analyse_class` can compute (the report is always computed).
PARTS = ("report", "groups", "homework", "items")


@dataclass
class ClassAnalysis:
    """Everything a teacher sees about one class.

    Attributes
    ----------
    report : ClassReport
    groups, homework, items : optional
        Teaching groups, personalised homework, item analysis (None when not asked
        for or not possible; see ``flags``).
    mastery : DataFrame
        The mastery long table used (after calibration: ``fallback`` then names the
        calibration rule of each changed cell).
    calibration : CalibratedMastery or None
        The calibration (None when turned off or the class is empty).
    info : dict
        Class metadata shown in the report (``class_id``, ``name``, ``grade``, ...).
    flags : list of str
        Documented fallbacks used (``"no_grade"``, ``"p_from_mastery"``, ...).
    timings : dict
        Seconds per step.
    """

    report: ClassReport
    groups: TeachingGroups | None
    homework: Homework | None
    items: ItemAnalysis | None
    mastery: pd.DataFrame
    info: dict[str, Any] = field(default_factory=dict)
    flags: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    lang: str = "zh"
    calibration: CalibratedMastery | None = None

    def to_dict(self) -> dict[str, Any]:
        """One JSON-ready object (NaN left as float; ``write_json`` turns it into null)."""
        return {
            "class": self.info,
            "lang": self.lang,
            "flags": self.flags,
            "report": self.report.to_dict(),
            "groups": self.groups.to_dict() if self.groups is not None else None,
            "homework": self.homework.to_dict() if self.homework is not None else None,
            "item_analysis": self.items.to_dict() if self.items is not None else None,
            "timings_s": self.timings,
        }

    def render_html(
        self,
        G: nx.DiGraph | None,
        path: str | os.PathLike | None = None,
        *,
        plots_dir: str | os.PathLike | None = None,
        lang: str | None = None,
    ) -> str:
        """The self-contained HTML report (see :func:`.render.render_report`)."""
        from edu_recsys.classroom.render import render_report

        return render_report(
            self.report,
            G,
            groups=self.groups,
            homework=self.homework,
            items=self.items,
            lang=lang or self.lang,
            class_info=self.info,
            path=path,
            plots_dir=plots_dir,
        )


def _grade_of(G: nx.DiGraph, current_unit: str | Iterable[str] | None) -> int | None:
    if current_unit is None:
        return None
    units = {current_unit} if isinstance(current_unit, str) else set(current_unit)
    grades = [d.get("grade") for _, d in G.nodes(data=True) if d.get("unit") in units]
    grades = [g for g in grades if g]
    return Counter(grades).most_common(1)[0][0] if grades else None


def analyse_class(
    interactions: pd.DataFrame,
    G: nx.DiGraph,
    tracer: Any = None,
    *,
    roster: Iterable[str] | pd.DataFrame | None = None,
    mastery: pd.DataFrame | None = None,
    items: pd.DataFrame | None = None,
    grade: int | None = None,
    subject: str | None = None,
    current_unit: str | Sequence[str] | None = None,
    policy: HomeworkPolicy | Mapping[str, Any] | None = None,
    budget_minutes: float | None = None,
    catalogue: pd.DataFrame | None = None,
    recommend: Callable[[list[str], int], pd.DataFrame] | None = None,
    min_groups: int = 2,
    max_groups: int = 5,
    threshold: float = MASTERY_THRESHOLD,
    parts: Sequence[str] = PARTS,
    class_info: Mapping[str, Any] | None = None,
    calibrate: bool = True,
    random_state: int | None = 0,
    lang: str = "zh",
) -> ClassAnalysis:
    """Report, groups, homework and item analysis of one class.

    Parameters
    ----------
    interactions : DataFrame
        The class's answers (canonical table; other students' rows are ignored when a
        roster is given).
    G : DiGraph
        Subject graph.
    tracer : fitted tracer, optional
        Gives mastery (unless ``mastery`` is passed) and predicted success for the
        homework.
    roster : ids or DataFrame, optional
        The class (default: the students of ``interactions``).
    mastery : DataFrame, optional
        Precomputed mastery long table (e.g. from an online state).
    items : DataFrame, optional
        Item bank (default: items seen in ``interactions`` and ``G.graph["items"]``).
    grade : int, optional
        Default: the grade of the current unit's concepts.
    subject, current_unit, policy, budget_minutes :
        See :func:`~edu_recsys.classroom.homework.personal_homework`.
    catalogue, recommend :
        Resources for the groups (see :func:`~edu_recsys.classroom.groups.teaching_groups`).
    min_groups, max_groups, threshold, random_state, lang :
        Passed on.
    parts : sequence of str
        Which of :data:`PARTS` to compute.
    class_info : mapping, optional
        Shown in the report header and JSON.
    calibrate : bool, default True
        Calibrate the tracer's mastery for the class before every part.

    Returns
    -------
    ClassAnalysis
    """
    lang = check_lang(lang)
    unknown = set(parts) - set(PARTS)
    if unknown:
        raise InvalidDataError(
            f"unknown parts {sorted(unknown)}", column="parts", expected=str(PARTS)
        )
    timings: dict[str, float] = {}
    flags: list[str] = []
    students = roster_ids(roster)
    if students is None:
        students = (
            list(dict.fromkeys(map(str, interactions["student_id"]))) if len(interactions) else []
        )
    hist = interactions
    if len(hist):
        hist = hist[hist["student_id"].astype(str).isin(set(students))]

    t = time.perf_counter()
    if mastery is None:
        if tracer is None:
            raise InvalidDataError(
                "give a fitted tracer or a mastery table",
                column="tracer",
                expected="an estimator of edu_recsys.mastery or the mastery long table",
            )
        mastery = (
            tracer.mastery(hist, students=students, concepts=list(G))
            if students
            else pd.DataFrame(
                columns=["student_id", "concept_id", "mastery", "evidence", "fallback"]
            )
        )
    timings["mastery_s"] = time.perf_counter() - t
    t = time.perf_counter()
    class_grade = grade if grade is not None else _grade_of(G, current_unit)
    cal = None
    if calibrate and students and class_grade is not None:
        cal = calibrate_mastery(mastery, G, grade=class_grade, history=hist, roster=students)
        M = cal.matrix
        if cal.n_changed:
            flags.append("class_calibrated")
            mastery = cal.long()
    else:
        M = mastery_matrix(mastery, students, G)
    timings["calibrate_s"] = time.perf_counter() - t

    t = time.perf_counter()
    rep = class_report(M, G, current_unit=current_unit, threshold=threshold, lang=lang)
    timings["report_s"] = time.perf_counter() - t

    groups = None
    if "groups" in parts:
        t = time.perf_counter()
        groups = teaching_groups(
            M,
            G,
            min_groups=min_groups,
            max_groups=max_groups,
            threshold=threshold,
            catalogue=catalogue,
            recommend=recommend,
            random_state=random_state,
            lang=lang,
        )
        timings["groups_s"] = time.perf_counter() - t

    homework = None
    if "homework" in parts:
        g = class_grade
        if g is None:
            flags.append("no_grade")
            log.warning("no grade given (nor a current unit to read it from): no homework")
        else:
            t = time.perf_counter()
            bank = (
                item_bank(items) if items is not None else item_bank(interactions=interactions, G=G)
            )
            p = None
            if tracer is not None and hasattr(tracer, "predict_next") and len(bank) and students:
                useful = useful_items(bank, M, G, grade=int(g), current_unit=current_unit)
                p = predict_success(tracer, hist, students, useful) if len(useful) else None
                if cal is not None:
                    p = cal.shift_success(p, bank)
            timings["predict_s"] = time.perf_counter() - t
            t = time.perf_counter()
            homework = personal_homework(
                M,
                G,
                bank,
                grade=int(g),
                p_success=p,
                history=hist,
                subject=subject,
                policy=policy,
                budget_minutes=budget_minutes,
                current_unit=current_unit,
                threshold=threshold,
                calibrate=calibrate,
                random_state=random_state,
                lang=lang,
            )
            flags.extend(f for f in homework.flags if f not in flags)
            timings["homework_s"] = time.perf_counter() - t

    ia = None
    if "items" in parts:
        t = time.perf_counter()
        ia = item_analysis(hist, G, lang=lang)
        timings["items_s"] = time.perf_counter() - t

    info = {"grade": class_grade, "subject": subject}
    info.update(dict(class_info or {}))
    return ClassAnalysis(rep, groups, homework, ia, mastery, info, flags, timings, lang, cal)

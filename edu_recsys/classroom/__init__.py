"""Precise teaching for a class (以学定教): report, teaching groups, homework, item analysis.

- :mod:`.report`: the class report (mastery matrix, weakest concepts, attainment bands,
  students at risk, focus for the next lesson).
- :mod:`.groups`: teaching groups by mastery profile (KMeans, k by silhouette).
- :mod:`.calibrate`: the tracer's mastery calibrated for the class (cells without the
  student's answers, concepts the tracer lacks).
- :mod:`.homework`: personalised homework within the "double reduction" time limits.
- :mod:`.items`: item analysis for teaching research (数字化教研).
- :mod:`.render`: the self-contained HTML report and PNG plots.
- :mod:`.analysis`: :func:`analyse_class`, all of the above in one call.
- :mod:`.i18n`: Chinese (default) and English texts.
- :mod:`.matrix`: the student x concept matrix from the mastery long table.

Every function takes plain inputs (a roster, the mastery contract's long table, a
subject graph, an item bank) and returns pandas tables plus ``to_dict()`` for JSON.
"""

from edu_recsys.classroom.analysis import PARTS, ClassAnalysis, analyse_class
from edu_recsys.classroom.calibrate import CalibratedMastery, calibrate_mastery
from edu_recsys.classroom.groups import TeachingGroups, choose_k, teaching_groups
from edu_recsys.classroom.homework import (
    DOUBLE_REDUCTION_MINUTES,
    Homework,
    HomeworkPolicy,
    class_homework,
    days_since_practice,
    item_bank,
    personal_homework,
    predict_success,
    useful_items,
)
from edu_recsys.classroom.i18n import LANGS, text
from edu_recsys.classroom.items import ItemAnalysis, item_analysis
from edu_recsys.classroom.matrix import MasteryMatrix, mastery_matrix, roster_ids
from edu_recsys.classroom.render import find_cjk_font, render_report
from edu_recsys.classroom.report import (
    ATTAINMENT_BANDS,
    RELEVANCE,
    ClassReport,
    attainment_band,
    class_report,
    unit_relevance,
)

__all__ = [
    "ATTAINMENT_BANDS",
    "PARTS",
    "CalibratedMastery",
    "ClassAnalysis",
    "ItemAnalysis",
    "analyse_class",
    "find_cjk_font",
    "item_analysis",
    "render_report",
    "DOUBLE_REDUCTION_MINUTES",
    "LANGS",
    "RELEVANCE",
    "ClassReport",
    "Homework",
    "HomeworkPolicy",
    "MasteryMatrix",
    "TeachingGroups",
    "attainment_band",
    "calibrate_mastery",
    "choose_k",
    "class_homework",
    "class_report",
    "days_since_practice",
    "item_bank",
    "mastery_matrix",
    "personal_homework",
    "predict_success",
    "roster_ids",
    "teaching_groups",
    "text",
    "unit_relevance",
    "useful_items",
]

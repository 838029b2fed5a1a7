"""analyse_class: the whole teacher's view in one call, including degenerate classes."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from edu_recsys.classroom import analyse_class
from edu_recsys.cli._common import write_json
from edu_recsys.exceptions import InvalidDataError


def log_for(G, students, seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for s in students:
        for c in ("a", "b", "c"):
            for k in range(4):
                rows.append((s, f"q{c}{k}", (c,), int(rng.random() < 0.7)))
    return pd.DataFrame(rows, columns=["student_id", "item_id", "concept_ids", "correct"])


class MeanTracer:
    """A minimal tracer (mastery contract): smoothed share correct per concept."""

    def mastery(self, history, students=None, concepts=None):
        e = history.explode("concept_ids")
        g = e.groupby(["student_id", "concept_ids"])["correct"].agg(["sum", "size"])
        rows = []
        for s in students:
            for c in concepts:
                k, n = g.loc[(s, c)] if (s, c) in g.index else (0, 0)
                rows.append((s, c, (k + 1) / (n + 2), n, "" if n else "unseen_concept"))
        return pd.DataFrame(rows, columns=["student_id", "concept_id", "mastery", "evidence",
                                           "fallback"])  # fmt: skip

    def predict_next(self, history, candidates):
        return np.full(len(candidates), 0.7)


def test_full_analysis_and_json(G):
    students = ["s1", "s2", "s3", "s4"]
    log = log_for(G, students)
    a = analyse_class(log, G, MeanTracer(), roster=students + ["new"], current_unit="u2",
                      grade=8, class_info={"class_id": "c1"})  # fmt: skip
    assert a.report.summary["n_students"] == 5
    assert a.groups is not None and a.homework is not None and a.items is not None
    assert set(a.homework.summary["student_id"]) == set(students) | {"new"}
    assert a.homework.summary.set_index("student_id").loc["new", "flag"] == "no_answers"
    # concept d has no answers: calibrated as not yet learned (the only flag)
    assert a.flags == ["class_calibrated"]
    assert (a.calibration.source["d"].loc[students] == "not_yet_learned").all()
    assert set(a.mastery["fallback"]) == {"", "not_yet_learned"}
    raw = analyse_class(log, G, MeanTracer(), roster=students, grade=8, calibrate=False)
    assert raw.flags == [] and raw.calibration is None
    d = a.to_dict()
    assert d["class"]["class_id"] == "c1" and set(d["timings_s"]) >= {"report_s", "homework_s"}


def test_json_is_valid(G, tmp_path):
    log = log_for(G, ["s1", "s2"])
    a = analyse_class(log, G, MeanTracer(), grade=8)
    write_json(a.to_dict(), tmp_path / "a.json")
    json.loads((tmp_path / "a.json").read_text(encoding="utf-8"))  # NaN written as null


def test_grade_from_unit_or_no_homework(G):
    log = log_for(G, ["s1"])
    assert analyse_class(log, G, MeanTracer(), current_unit="u2").homework.budget["grade"] == 8
    a = analyse_class(log, G, MeanTracer())
    assert a.homework is None and a.flags == ["no_grade"]


def test_empty_class(G):
    empty_log = pd.DataFrame(columns=["student_id", "item_id", "concept_ids", "correct"])
    a = analyse_class(empty_log, G, MeanTracer(), roster=[], grade=8)
    assert a.report.summary["status"] == "empty_class"
    assert a.homework.items.empty and a.groups.k == 0
    assert "班级学情报告" in a.render_html(G)


def test_bad_parts_and_missing_tracer(G):
    log = log_for(G, ["s1"])
    with pytest.raises(InvalidDataError, match="parts"):
        analyse_class(log, G, MeanTracer(), parts=["report", "weather"])
    with pytest.raises(InvalidDataError, match="tracer"):
        analyse_class(log, G)

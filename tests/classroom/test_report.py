"""The class report on a hand-built class matches hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from edu_recsys.classroom import class_report, mastery_matrix, unit_relevance
from edu_recsys.exceptions import InvalidDataError
from tests.classroom.conftest import HAND_MASTERY, long_table


def test_concept_statistics_match_hand_computation(G, hand_class):
    long, roster = hand_class
    rep = class_report(long, G, roster, current_unit="u2")
    c = rep.concepts
    # a: .9 .7 .9
    assert c.loc["a", "mean"] == pytest.approx(0.8333333)
    assert c.loc["a", "std"] == pytest.approx(math.sqrt(((0.2 / 3) ** 2 * 2 + (0.4 / 3) ** 2) / 3))
    assert c.loc["a", "gap"] == pytest.approx((0.1 / 0.8) / 3)
    assert c.loc["a", "n_below"] == 1 and c.loc["a", "n_mastered"] == 2
    # dependents: a -> {b, c, d}, b -> {c}; relevance: c, d in unit; a, b direct prerequisites
    assert c["dependents"].to_dict() == {"a": 3, "b": 1, "c": 0, "d": 0}
    assert c["relevance"].to_dict() == {"a": 0.8, "b": 0.8, "c": 1.0, "d": 1.0}
    expected_block = {
        "a": (0.125 / 3) * 4 * 0.8,
        "b": ((0.375 + 0.125) / 3) * 2 * 0.8,
        "c": ((0.125 + 0.625 + 0.375) / 3) * 1 * 1.0,
        "d": (0.25 / 3) * 1 * 1.0,
    }
    for k, v in expected_block.items():
        assert c.loc[k, "block_score"] == pytest.approx(v)
    assert rep.weakest.index.tolist() == ["c", "b", "a", "d"]
    assert c["rank"].to_dict() == {"a": 3, "b": 2, "c": 1, "d": 4}


def test_students_bands_and_risk(G, hand_class):
    long, roster = hand_class
    rep = class_report(long, G, roster, current_unit="u2")
    st = rep.students.set_index("student_id")
    assert st.loc["s1", "mean_mastery"] == pytest.approx(0.85)
    assert st["band"].to_dict() == {"s1": "excellent", "s2": "below", "s3": "good", "s4": "no_data"}
    assert st.loc["s2", "risk_codes"] == ["low_mean", "missing_prerequisites"]
    assert not st.loc["s3", "at_risk"] and not st.loc["s4", "at_risk"]
    assert st.loc["s4", "flag"] == "no_answers"
    assert rep.bands.set_index("band")["count"].to_dict() == {
        "excellent": 1,
        "good": 1,
        "pass": 0,
        "below": 1,
    }
    assert rep.bands["share"].iloc[0] == pytest.approx(1 / 3)
    assert rep.summary["class_mean"] == pytest.approx(0.7)
    assert rep.summary["share_mastered"] == pytest.approx(5 / 12)
    assert rep.summary["n_with_answers"] == 3 and rep.summary["n_students"] == 4


def test_focus_reasons(G, hand_class):
    long, roster = hand_class
    rep = class_report(long, G, roster, current_unit="u2", lang="en")
    f = rep.focus.set_index("concept_id")
    assert f.index.tolist() == ["c", "b", "a"]
    assert f.loc["c", "reason_codes"] == ["class_mean", "in_unit", "weak_prerequisite"]
    assert f.loc["b", "reason_codes"] == ["class_mean", "blocks", "prerequisite_of_unit"]
    assert "3 of 3 students below" in f.loc["c", "reasons"][0]
    assert "multiplication" in f.loc["c", "reasons"][2]
    zh = class_report(long, G, roster, current_unit="u2").focus
    assert "全班平均掌握度 50%" in zh["reasons"][0][0]


def test_without_unit_relevance_is_one(G, hand_class):
    long, roster = hand_class
    rep = class_report(long, G, roster)
    assert set(rep.concepts["relevance"]) == {1.0}
    # a blocks 3 concepts: (0.125/3) * 4 = 0.1667 > d's 0.0833
    assert rep.concepts.loc["a", "block_score"] == pytest.approx(0.125 / 3 * 4)


def test_untaught_concepts_are_not_ranked(G):
    long = long_table({"s1": {"a": 0.5, "b": 0.2}, "s2": {"a": 0.6, "b": 0.3}})
    long.loc[long["concept_id"] == "b", "evidence"] = 0  # a prior only, never practised
    rep = class_report(long, G)
    assert rep.taught == ["a"]
    assert rep.weakest.index.tolist() == ["a"]
    assert rep.concepts.loc["b", "block_score"] == 0


def test_taught_override(G):
    long = long_table({"s1": {"a": 0.5, "b": 0.2}})
    long.loc[long["concept_id"] == "b", "evidence"] = 0
    rep = class_report(long, G, taught=["b"])
    assert rep.taught == ["a", "b"]


def test_empty_class_is_a_documented_result(G):
    empty = pd.DataFrame(columns=["student_id", "concept_id", "mastery", "evidence", "fallback"])
    rep = class_report(empty, G, roster=[])
    assert rep.summary["status"] == "empty_class"
    assert rep.students.empty and rep.weakest.empty and rep.focus.empty
    assert math.isnan(rep.summary["class_mean"])
    assert rep.to_dict()["summary"]["n_students"] == 0


def test_class_without_answers(G):
    empty = pd.DataFrame(columns=["student_id", "concept_id", "mastery", "evidence", "fallback"])
    rep = class_report(empty, G, roster=["x", "y"])
    assert rep.summary["status"] == "no_answers"
    assert rep.students["flag"].tolist() == ["no_answers", "no_answers"]
    assert rep.weakest.empty


def test_unseen_student_flag_from_tracer(G):
    long = long_table({"s1": {"a": 0.9}, "s2": {"a": 0.5}})
    long.loc[long["student_id"] == "s2", "fallback"] = "unseen_student"
    rep = class_report(long, G)
    assert rep.students.set_index("student_id").loc["s2", "flag"] == "no_answers"
    assert rep.concepts.loc["a", "mean"] == pytest.approx(0.9)


def test_bad_inputs(G):
    with pytest.raises(InvalidDataError, match="mastery"):
        class_report(long_table({"s1": {"a": 1.5}}), G)
    with pytest.raises(InvalidDataError, match="concept_id"):
        class_report(pd.DataFrame({"student_id": ["s"], "mastery": [0.5]}), G)
    with pytest.raises(InvalidDataError):
        class_report(long_table(HAND_MASTERY), G, bands=(("x", 0.5), ("y", 0.7)))
    with pytest.raises(InvalidDataError):
        class_report(long_table(HAND_MASTERY), G, lang="fr")


def test_matrix_is_roster_by_graph_order(G, hand_class):
    long, roster = hand_class
    M = mastery_matrix(long, roster[::-1], G)
    assert M.students == ["s4", "s3", "s2", "s1"]
    assert M.concepts == ["a", "b", "c", "d"]
    assert np.isnan(M.mastery.loc["s4"]).all()


def test_unit_relevance_levels(G):
    G.add_edge("z", "a")
    G.nodes["z"]["unit"] = "u0"
    rel = unit_relevance(G, "u2")
    assert rel == {"a": 0.8, "b": 0.8, "c": 1.0, "d": 1.0, "z": 0.5}


def test_to_dict_is_json_ready(G, hand_class):
    import json

    long, roster = hand_class
    d = class_report(long, G, roster, current_unit="u2").to_dict()
    text = json.dumps(d, default=str)
    assert "weakest" in d and d["matrix"]["concepts"] == ["a", "b", "c", "d"]
    assert "乘方" in json.loads(text)["weakest"][0]["name"]

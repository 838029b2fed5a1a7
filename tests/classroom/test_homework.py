"""Personalised homework: the "double reduction" caps hold, sets are sensible."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edu_recsys.classroom import (
    DOUBLE_REDUCTION_MINUTES,
    HomeworkPolicy,
    class_homework,
    days_since_practice,
    personal_homework,
    useful_items,
)
from edu_recsys.constants import PRODUCTIVE_BAND
from edu_recsys.exceptions import InvalidDataError
from tests.classroom.conftest import chain_graph, long_table, random_class

GRAPH = chain_graph(25, seed=2)
CLASS = random_class(GRAPH, 12, seed=5)


def bank_with_minutes(minutes: list[float], concepts: list[str]) -> pd.DataFrame:
    rows = [(f"i{k}", (concepts[k % len(concepts)],), m) for k, m in enumerate(minutes)]
    return pd.DataFrame(rows, columns=["item_id", "concept_ids", "minutes"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    grade=st.integers(1, 9),
    daily=st.floats(0, 200, allow_nan=False),
    share=st.floats(0, 1),
    review=st.floats(0, 1),
    minutes=st.lists(st.floats(0.5, 40, allow_nan=False), min_size=1, max_size=80),
    requested=st.one_of(st.none(), st.floats(0, 300, allow_nan=False)),
)
def test_never_exceeds_the_budget(grade, daily, share, review, minutes, requested):
    policy = HomeworkPolicy(
        daily_minutes={**DOUBLE_REDUCTION_MINUTES, grade: daily}
        if grade > 2
        else DOUBLE_REDUCTION_MINUTES,
        subject_shares={"math": share},
        review_share=review,
    )
    bank = bank_with_minutes(minutes, list(GRAPH))
    hw = personal_homework(
        CLASS, GRAPH, bank, grade=grade, subject="math", policy=policy, budget_minutes=requested
    )
    cap = policy.budget(grade, "math")
    budget = cap if requested is None else min(requested, cap)
    assert hw.budget["budget_minutes"] == pytest.approx(budget)
    per_student = hw.items.groupby("student_id")["minutes"].sum()
    assert (per_student <= budget + 1e-9).all()
    assert (hw.summary["minutes"] <= budget + 1e-9).all()
    if grade <= 2:
        assert hw.items.empty
        assert set(hw.summary["flag"]) == {"no_written_homework"}


@pytest.mark.parametrize("grade", [1, 2])
def test_grades_one_and_two_get_no_written_homework(grade, tiny_bank, G, hand_class):
    long, roster = hand_class
    hw = personal_homework(long, G, tiny_bank, grade=grade, roster=roster, budget_minutes=30)
    assert hw.items.empty
    assert hw.summary["n_items"].tolist() == [0, 0, 0, 0]
    assert "一、二年级不布置书面家庭作业" in hw.summary["note"][0]


def test_default_caps_by_grade():
    p = HomeworkPolicy()
    assert [p.budget(g) for g in range(1, 10)] == [0, 0, 60, 60, 60, 60, 90, 90, 90]
    with pytest.raises(InvalidDataError, match="grade"):
        p.budget(11)


def test_policy_validation():
    with pytest.raises(ValueError):
        HomeworkPolicy(subject_shares={"math": 0.7, "chinese": 0.5})
    with pytest.raises(ValueError):
        HomeworkPolicy(daily_minutes={7: -5})
    with pytest.raises(ValueError):
        HomeworkPolicy(band=(0.9, 0.5))
    p = HomeworkPolicy.model_validate({"daily_minutes": {"3": 45}, "subject_shares": {"math": 0.5}})
    assert p.budget(3, "math") == 22.5


def test_sets_target_weak_concepts_in_band(G, hand_class, tiny_bank):
    long, roster = hand_class
    hw = personal_homework(
        long, G, tiny_bank, grade=8, roster=roster, budget_minutes=20, current_unit="u2", lang="en"
    )
    s2 = hw.for_student("s2")
    assert s2["minutes"].sum() <= 20
    # s2 is weak everywhere: no review, new work on weak concepts
    assert set(s2["kind"]) == {"weak"}
    # s1 masters a, b, d: review on one of them, new work on c (0.7: in the band)
    s1 = hw.for_student("s1")
    assert "c" in set(s1.loc[s1["kind"] == "weak", "concept_id"])
    assert (s1.loc[s1["kind"] == "review", "concept_id"].isin(["a", "b", "d"])).all()
    new = hw.items[hw.items["kind"] != "review"]
    lo, hi = PRODUCTIVE_BAND
    assert ((new["p_success"] >= lo - 0.15) & (new["p_success"] <= hi + 0.1)).all()
    assert hw.items["reason"].str.len().gt(0).all()
    assert (hw.items.groupby(["student_id", "concept_id"]).size() <= 3).all()


def test_predicted_success_drives_item_choice(G, tiny_bank):
    long = long_table({"s1": {"a": 0.95, "b": 0.5, "c": 0.2, "d": 0.95}})
    p = pd.DataFrame({"student_id": "s1", "item_id": tiny_bank["item_id"], "p_success": 0.3})
    p.loc[p["item_id"] == "qb4", "p_success"] = 0.7  # the only b item in the band
    hw = personal_homework(
        long,
        G,
        tiny_bank,
        grade=8,
        p_success=p,
        budget_minutes=10,
        policy=HomeworkPolicy(review_share=0),
    )
    assert hw.for_student("s1")["item_id"].tolist() == ["qb4"]


def test_student_without_answers_gets_class_needs(G, hand_class, tiny_bank):
    long, roster = hand_class
    hw = personal_homework(long, G, tiny_bank, grade=8, roster=roster, budget_minutes=15)
    s4 = hw.summary.set_index("student_id").loc["s4"]
    assert s4["flag"] == "no_answers" and s4["n_items"] > 0


def test_nothing_suitable(G, hand_class):
    long, roster = hand_class
    bank = pd.DataFrame({"item_id": ["z"], "concept_ids": [("unknown",)], "minutes": [3.0]})
    hw = personal_homework(long, G, bank, grade=8, roster=roster)
    assert set(hw.summary["flag"]) == {"nothing_suitable"}


def test_uniform_homework_is_the_same_for_everyone(G, hand_class, tiny_bank):
    long, roster = hand_class
    hw = class_homework(long, G, tiny_bank, grade=8, roster=roster, budget_minutes=12)
    sets = hw.items.groupby("student_id")["item_id"].apply(tuple)
    assert sets.nunique() == 1 and len(sets) == 4
    assert hw.summary["minutes"].max() <= 12


def test_spaced_review_prefers_longest_unpractised(G, tiny_bank):
    long = long_table({"s1": {"a": 0.95, "b": 0.95, "c": 0.5, "d": 0.95}})
    ts = pd.to_datetime(["2024-03-01", "2024-03-09", "2024-03-10"], utc=True)
    hist = pd.DataFrame(
        {
            "student_id": "s1",
            "item_id": ["x1", "x2", "x3"],
            "concept_ids": [("d",), ("a",), ("b",)],
            "correct": 1,
            "timestamp": ts,
        }
    )
    hw = personal_homework(
        long,
        G,
        tiny_bank,
        grade=8,
        history=hist,
        budget_minutes=10,
        policy=HomeworkPolicy(review_share=0.2),
        lang="en",
    )
    rev = hw.for_student("s1").query("kind == 'review'")
    assert rev["concept_id"].iloc[0] == "d"
    assert "9 days" in rev["reason"].iloc[0]
    d = days_since_practice(hist)
    assert d.set_index("concept_id")["days"].to_dict() == {"a": 1.0, "b": 0.0, "d": 9.0}


def test_same_seed_same_homework():
    bank = bank_with_minutes([3.0] * 100, list(GRAPH))
    a = personal_homework(CLASS, GRAPH, bank, grade=8, random_state=1)
    b = personal_homework(CLASS, GRAPH, bank, grade=8, random_state=1)
    pd.testing.assert_frame_equal(a.items, b.items)
    assert np.all(a.summary["budget_used"] <= 1.0)


def test_useful_items_give_the_same_homework(G, hand_class):
    long, roster = hand_class
    G.add_node("e", grade=9, unit="u3")  # a later concept: never useful
    G.add_edge("c", "e")
    for n in "abcd":
        G.nodes[n]["grade"] = 8
    bank = pd.DataFrame(
        [(f"q{c}{k}", (c,), 2.0 + k) for c in "abcde" for k in range(4)]
        + [("mix", ("a", "e"), 2.0)],
        columns=["item_id", "concept_ids", "minutes"],
    )
    rng = np.random.default_rng(0)
    p_all = pd.DataFrame(
        [(s, i, float(rng.uniform(0.4, 0.95))) for s in roster for i in bank["item_id"]],
        columns=["student_id", "item_id", "p_success"],
    )
    useful = useful_items(bank, long, G, grade=8, current_unit="u2")
    assert "mix" not in set(useful["item_id"]) and not useful["item_id"].str.startswith("qe").any()
    p_useful = p_all[p_all["item_id"].isin(set(useful["item_id"]))]
    kw = dict(grade=8, roster=roster, current_unit="u2", budget_minutes=20)
    a = personal_homework(long, G, bank, p_success=p_all, **kw)
    b = personal_homework(long, G, bank, p_success=p_useful, **kw)
    pd.testing.assert_frame_equal(a.items, b.items)


def test_empty_class_and_class_without_answers(G, tiny_bank):
    empty = pd.DataFrame(columns=["student_id", "concept_id", "mastery", "evidence", "fallback"])
    hw = personal_homework(empty, G, tiny_bank, grade=8, roster=[])
    assert hw.items.empty and hw.summary.empty
    hw = personal_homework(empty, G, tiny_bank, grade=8, roster=["x", "y"])
    assert hw.items.empty
    assert hw.summary["flag"].tolist() == ["no_answers", "no_answers"]

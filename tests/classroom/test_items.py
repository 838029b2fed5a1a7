"""Item analysis: classical statistics, bad items, and prerequisites the answers disagree with."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from edu_recsys.classroom.items import item_analysis


def simulated_log(n_students=200, seed=0, reversed_item=True):
    """2PL answers (slope 2.5) on 6 items of concept a, an item answered in reverse, and
    an item everybody gets right."""
    rng = np.random.default_rng(seed)
    theta = rng.normal(0, 1, n_students)
    b = np.array([-1.5, -0.5, 0.0, 0.5, 1.5, 2.5])
    rows = []
    for s, t in enumerate(theta):
        for j, bj in enumerate(b):
            rows.append(
                (f"s{s}", f"q{j}", ("a",), int(rng.random() < 1 / (1 + np.exp(2.5 * (bj - t)))))
            )
        if reversed_item:
            rows.append((f"s{s}", "rev", ("a",), int(rng.random() < 1 / (1 + np.exp(2.5 * t)))))
        rows.append((f"s{s}", "const", ("a",), 1))
    return pd.DataFrame(rows, columns=["student_id", "item_id", "concept_ids", "correct"]), b


def test_statistics_recover_the_simulation():
    log, b = simulated_log()
    ia = item_analysis(log)  # 200 students: above min_answers
    items = ia.items.set_index("item_id")
    est = items.loc[[f"q{j}" for j in range(6)], "irt_b"].to_numpy()
    assert np.all(np.diff(est) > 0)  # difficulty order recovered
    assert np.corrcoef(est, b)[0, 1] > 0.95
    p = log.groupby("item_id")["correct"].mean()
    assert items["p_correct"].to_dict() == pytest.approx(p.to_dict())
    assert (items.loc[[f"q{j}" for j in range(5)], "discrimination"] > 0.2).all()
    assert items.loc["rev", "flags"] == ["negative_discrimination"]
    assert items.loc["const", "flags"] == ["all_correct"]
    assert set(ia.bad_items["item_id"]) >= {"rev", "const"}
    assert ia.bad_items["item_id"].iloc[0] == "rev"  # worst first


def test_point_biserial_by_hand():
    # 4 students, items x and y; the rest score of x is y's answer and vice versa
    log = pd.DataFrame(
        {
            "student_id": ["1", "1", "2", "2", "3", "3", "4", "4"],
            "item_id": ["x", "y"] * 4,
            "concept_ids": [("a",)] * 8,
            "correct": [1, 1, 1, 0, 0, 0, 0, 1],
        }
    )
    ia = item_analysis(log, min_answers=1)
    x = np.array([1, 1, 0, 0])
    y = np.array([1, 0, 0, 1])
    assert ia.items.set_index("item_id").loc["x", "discrimination"] == pytest.approx(
        np.corrcoef(x, y)[0, 1]
    )


def test_only_first_attempts_count():
    log = pd.DataFrame(
        {
            "student_id": ["1", "1", "2"],
            "item_id": ["x", "x", "x"],
            "concept_ids": [("a",)] * 3,
            "correct": [0, 1, 1],
        }
    )
    ia = item_analysis(log, min_answers=1)
    assert ia.items.loc[0, "n"] == 2 and ia.items.loc[0, "p_correct"] == 0.5


def test_prerequisite_conflict_detected():
    G = nx.DiGraph([("u", "v"), ("v", "w")])
    rng = np.random.default_rng(1)
    rows = []
    for s in range(60):
        # everybody good on v and w, but half fail u: u's items disagree with the graph
        for k in range(3):
            rows.append((f"s{s}", f"v{k}", ("v",), int(rng.random() < 0.9)))
            rows.append((f"s{s}", f"w{k}", ("w",), int(rng.random() < 0.85)))
            rows.append((f"s{s}", f"u{k}", ("u",), 0 if s % 2 else 1))
    log = pd.DataFrame(rows, columns=["student_id", "item_id", "concept_ids", "correct"])
    ia = item_analysis(log, G)
    pairs = list(zip(ia.conflicts["prerequisite"], ia.conflicts["dependent"]))
    assert pairs == [("u", "v")]
    assert ia.conflicts.loc[0, "violation_rate"] == pytest.approx(0.5, abs=0.1)
    c = ia.concepts.set_index("concept_id")
    assert c.loc["u", "p_correct"] == pytest.approx(0.5)


def test_few_answers_get_no_discrimination_flag():
    log, _ = simulated_log(n_students=12)
    ia = item_analysis(log)
    flags = ia.items.set_index("item_id")["flags"]
    assert flags["rev"] == ["few_answers"]
    assert "const" in set(ia.bad_items["item_id"])
    for f in ia.bad_items["flags"]:  # only constant items; nothing judged on 12 answers
        assert set(f) - {"few_answers"} <= {"all_correct", "all_wrong"}


def test_empty_log():
    empty = pd.DataFrame(columns=["student_id", "item_id", "concept_ids", "correct"])
    ia = item_analysis(empty)
    assert ia.items.empty and ia.conflicts.empty
    assert ia.params["status"] == "no_answers"

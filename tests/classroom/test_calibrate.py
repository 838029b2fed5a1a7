"""calibrate_mastery: the class calibration of the tracer's mastery, rule by rule."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from scipy.special import expit, logit

from edu_recsys.classroom import calibrate_mastery, mastery_matrix, personal_homework


def graded_graph() -> nx.DiGraph:
    """old1, old2 (grade 7) -> cur (grade 8, taught) -> nxt (grade 8, not taught yet)."""
    G = nx.DiGraph()
    for c, g in [("old1", 7), ("old2", 7), ("cur", 8), ("nxt", 8)]:
        G.add_node(c, name=c, name_en=c, grade=g, unit="u7" if g == 7 else "u8")
    G.add_edge("old1", "cur", relation="prerequisite")
    G.add_edge("old2", "cur", relation="prerequisite")
    G.add_edge("cur", "nxt", relation="prerequisite")
    return G


def long(rows) -> pd.DataFrame:
    return pd.DataFrame(
        rows, columns=["student_id", "concept_id", "mastery", "evidence", "fallback"]
    )


@pytest.fixture
def cls() -> pd.DataFrame:
    # s1 answered old1 (4 answers) but not old2; s2 answered both; s3 nothing at all
    return long(
        [
            ("s1", "old1", 0.9, 4, ""),
            ("s1", "old2", 0.77, 0, ""),
            ("s1", "cur", 0.85, 6, ""),
            ("s1", "nxt", 0.77, 0, ""),
            ("s2", "old1", 0.6, 2, ""),
            ("s2", "old2", 0.7, 2, ""),
            ("s2", "cur", 0.5, 6, ""),
            ("s2", "nxt", 0.4, 0, ""),
            ("s3", "old1", 0.7, 0, "unseen_student"),
            ("s3", "old2", 0.7, 0, "unseen_student"),
            ("s3", "cur", 0.7, 0, "unseen_student"),
            ("s3", "nxt", 0.7, 0, "unseen_student"),
        ]
    )


def test_rules_match_hand_computed_values(cls):
    G = graded_graph()
    cal = calibrate_mastery(cls, G, grade=8, level_strength=2.0)
    m = cal.matrix.mastery
    # class earlier-grade level: (0.9*4 + 0.6*2 + 0.7*2) / 8 = 0.775
    # s1: (0.9*4 + 2*0.775) / (4 + 2)
    assert m.at["s1", "old2"] == pytest.approx((0.9 * 4 + 2 * 0.775) / 6)
    assert cal.source.at["s1", "old2"] == "earlier_grade_level"
    # not yet learned: min(tracer, 0.5)
    assert m.at["s1", "nxt"] == 0.5 and m.at["s2", "nxt"] == 0.4
    assert cal.source.at["s1", "nxt"] == cal.source.at["s2", "nxt"] == "not_yet_learned"
    # cells with the student's own answers keep the tracer's value
    assert m.at["s1", "cur"] == 0.85 and m.at["s2", "old1"] == 0.6
    # a student without any answer keeps the tracer's new-student values
    assert (m.loc["s3"] == 0.7).all() and (cal.source.loc["s3"] == "").all()
    assert cal.n_changed == 3
    assert cal.matrix.calibrated and not cal.before.calibrated


def test_evidence_update_for_concepts_the_tracer_lacks(cls):
    G = graded_graph()
    rows = cls.copy()
    # s1 practised nxt twice after the fit (one right): the tracer flags unseen_concept
    rows.loc[(rows.student_id == "s1") & (rows.concept_id == "nxt"), ["evidence", "fallback"]] = (
        2,
        "unseen_concept",
    )
    hist = pd.DataFrame(
        {"student_id": ["s1", "s1"], "item_id": ["q1", "q2"],
         "concept_ids": [("nxt",), ("nxt",)], "correct": [1, 0]}
    )  # fmt: skip
    cal = calibrate_mastery(rows, G, grade=8, history=hist, prior_strength=2.0)
    # Beta-binomial on the rule-2 prior min(0.77, 0.5): (2 * 0.5 + 1) / (2 + 2)
    assert cal.matrix.mastery.at["s1", "nxt"] == pytest.approx(0.5)
    assert cal.source.at["s1", "nxt"] == "evidence_update"
    hist["correct"] = [1, 1]
    cal = calibrate_mastery(rows, G, grade=8, history=hist, prior_strength=2.0)
    assert cal.matrix.mastery.at["s1", "nxt"] == pytest.approx((2 * 0.5 + 2) / 4)
    # without the history the cell keeps the tracer's value
    assert calibrate_mastery(rows, G, grade=8).matrix.mastery.at["s1", "nxt"] == 0.77


def test_idempotent_and_matrix_input(cls):
    G = graded_graph()
    cal = calibrate_mastery(cls, G, grade=8)
    again = calibrate_mastery(cal.matrix, G, grade=8)
    pd.testing.assert_frame_equal(again.matrix.mastery, cal.matrix.mastery)
    assert again.n_changed == 0
    # an uncalibrated matrix gets rules 1-2 (rule 3 needs the long table's flags)
    M = mastery_matrix(cls, None, G)
    pd.testing.assert_frame_equal(
        calibrate_mastery(M, G, grade=8).matrix.mastery, cal.matrix.mastery
    )
    # long() round-trips into the same matrix
    back = mastery_matrix(cal.long(), None, G)
    pd.testing.assert_frame_equal(back.mastery, cal.matrix.mastery)


def test_shift_success_moves_items_with_their_concepts(cls):
    G = graded_graph()
    cal = calibrate_mastery(cls, G, grade=8)
    items = pd.DataFrame(
        {"item_id": ["qn", "qc", "qmix"], "concept_ids": [("nxt",), ("cur",), ("cur", "nxt")]}
    )
    p = pd.DataFrame(
        {"student_id": ["s1", "s1", "s1", "s3"], "item_id": ["qn", "qc", "qmix", "qn"],
         "p_success": [0.9, 0.8, 0.7, 0.6]}
    )  # fmt: skip
    out = cal.shift_success(p, items).set_index(["student_id", "item_id"])["p_success"]
    d = logit(0.5) - logit(0.77)  # s1's shift on nxt
    assert out[("s1", "qn")] == pytest.approx(expit(logit(0.9) + d))
    assert out[("s1", "qc")] == pytest.approx(0.8)  # cur unchanged
    assert out[("s1", "qmix")] == pytest.approx(expit(logit(0.7) + d / 2))
    assert out[("s3", "qn")] == pytest.approx(0.6)  # no answers: untouched
    assert cal.shift_success(None, items) is None


def test_no_grade_treats_every_concept_as_current(cls):
    cal = calibrate_mastery(cls, graded_graph(), grade=None)
    assert cal.matrix.mastery.at["s1", "old2"] == 0.5
    assert cal.source.at["s1", "old2"] == "not_yet_learned"


def test_empty_class():
    empty = long([])
    cal = calibrate_mastery(empty, graded_graph(), grade=8, roster=[])
    assert cal.matrix.mastery.shape == (0, 4) and cal.n_changed == 0


def test_homework_practises_the_frontier_only_when_calibrated():
    """A not-yet-taught concept that the tracer's fallback puts at mastery level is the
    ready-to-learn frontier once calibrated (its prerequisites are mastered)."""
    G = graded_graph()
    rows = long(
        [
            ("s1", "old1", 0.95, 5, ""),
            ("s1", "old2", 0.95, 5, ""),
            ("s1", "cur", 0.9, 6, ""),
            ("s1", "nxt", 0.85, 0, ""),
        ]
    )
    bank = pd.DataFrame(
        {"item_id": [f"q{c}{k}" for c in ("cur", "nxt") for k in range(3)],
         "concept_ids": [(c,) for c in ("cur", "nxt") for _ in range(3)], "minutes": 3.0}
    )  # fmt: skip
    p = pd.DataFrame({"student_id": "s1", "item_id": bank["item_id"], "p_success": 0.9})
    kw = dict(grade=8, p_success=p, current_unit="u8", budget_minutes=10, lang="en")
    raw = personal_homework(rows, G, bank, calibrate=False, **kw)
    assert "nxt" not in set(raw.items["concept_id"])
    cal = personal_homework(rows, G, bank, **kw)
    got = cal.items[cal.items["concept_id"] == "nxt"]
    assert len(got) and set(got["kind"]) == {"ready"}
    # predicted success moved with the calibration (0.9 -> about 0.78), into the band
    assert got["p_success"].between(0.6, 0.85).all()
    assert "class_calibrated" in cal.flags and cal.summary["minutes"].max() <= 10


@pytest.mark.parametrize("seed", [0])
def test_calibration_is_closer_to_the_truth_on_a_simulated_class(seed):
    from edu_recsys.graph import load_graph
    from edu_recsys.mastery import make_model
    from edu_recsys.simulate import simulate_class

    G = load_graph("math-7-9")
    sim = simulate_class(G, n_students=12, weeks=2, random_state=seed, grade=8)
    students = sim.students["student_id"].tolist()
    tracer = make_model("default").fit(sim.interactions)
    table = tracer.mastery(sim.interactions, students=students, concepts=list(G))
    cal = calibrate_mastery(table, G, grade=8, history=sim.interactions)
    truth = sim.true_mastery.loc[students, list(G)].to_numpy()
    changed = cal.source.to_numpy(dtype=object) != ""
    before = np.abs(cal.before.mastery.to_numpy() - truth)[changed].mean()
    after = np.abs(cal.matrix.mastery.to_numpy() - truth)[changed].mean()
    assert changed.sum() > 100 and after < 0.8 * before

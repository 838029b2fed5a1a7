"""Recommender(calibrate=True): a tracer's table calibrated with the grades, flagged."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from edu_recsys.recommend import Recommender


@pytest.fixture
def world():
    """old (grade 7) -> new (grade 8) -> later (grade 9); one video each."""
    G = nx.DiGraph([("old", "new"), ("new", "later")])
    for c, g in {"old": 7, "new": 8, "later": 9}.items():
        G.nodes[c].update(name=c, name_en=c, grade=g)
    cat = pd.DataFrame(
        {"resource_id": ["r_old", "r_new", "r_later"], "type": "video",
         "concept_ids": ["old", "new", "later"], "minutes": 8}
    )  # fmt: skip
    # a tracer's table: no answers on new/later, yet ~0.93 (its population fallback)
    long = pd.DataFrame(
        {"student_id": ["s1"] * 3 + ["s2"] * 3, "concept_id": ["old", "new", "later"] * 2,
         "mastery": [0.9, 0.93, 0.93, 0.6, 0.93, 0.93], "evidence": [4, 0, 0, 3, 0, 0],
         "fallback": ""}
    )  # fmt: skip
    return G, cat, long


def test_calibration_changes_the_next_step_and_is_flagged(world):
    G, cat, long = world
    plain = Recommender(G, grade=8).fit(cat, long)
    cal = Recommender(G, grade=8, calibrate=True).fit(cat, long)
    # uncalibrated, s1 looks done (new and later at 0.93): nothing to recommend
    assert plain.recommend("s1").empty
    top = cal.recommend("s1", lang="en")
    assert top["concept_id"].tolist() == ["new"]
    assert top["mastery"][0] == pytest.approx(0.5)
    assert top["fallback"][0].split(";")[0] == "calibrated"
    # the reason names the rule and the row's number
    assert any("not assumed mastered" in r and "0.50" in r for r in top["reasons"][0])
    assert cal.fit_report_["calibrated_cells"] == 4 and plain.fit_report_["calibrated_cells"] == 0
    # s2's own answers on old keep the tracer's value and carry no flag
    s2 = cal.recommend("s2")
    assert s2["concept_id"][0] == "old" and s2["mastery"][0] == pytest.approx(0.6)
    assert "calibrated" not in s2["fallback"][0]


def test_values_given_later_replace_the_calibration(world):
    G, cat, long = world
    rec = Recommender(G, grade=8, calibrate=True).fit(cat, long)
    # per call: a mastery given for new is used as it is, without the flag
    out = rec.recommend("s1", mastery={"new": 0.4})
    assert out["mastery"][0] == pytest.approx(0.4) and "calibrated" not in out["fallback"][0]
    rec.update_mastery("s1", {"new": 0.45}, evidence={"new": 2})
    out = rec.recommend("s1")
    assert out["mastery"][0] == pytest.approx(0.45) and "calibrated" not in out["fallback"][0]


def test_wide_table_is_used_as_it_is(world):
    G, cat, long = world
    wide = long.pivot(index="student_id", columns="concept_id", values="mastery")
    rec = Recommender(G, grade=8, calibrate=True).fit(cat, wide)
    assert rec.fit_report_["calibrated_cells"] == 0
    row = rec.students_.get_loc("s1")
    j = rec.concepts_.get_loc("new")
    assert rec.mastery_[row, j] == pytest.approx(0.93)


def test_tracer_observer_is_closer_to_the_truth_when_calibrated():
    from edu_recsys.recommend.simulation import simulate_policies

    kw = dict(
        policies=("default",), n_students=12, steps=2, n_history=40, history_steps=4,
        observe="tracer", random_state=5,
    )  # fmt: skip
    cal = simulate_policies(**kw)
    raw = simulate_policies(**kw, calibrate=False)
    assert cal.settings["calibrate"] is True and raw.settings["calibrate"] is False
    assert 0 < cal.policies["default"]["mastery_mae"] < raw.policies["default"]["mastery_mae"]
    again = simulate_policies(**kw)
    np.testing.assert_array_equal(again.per_student["default"], cal.per_student["default"])

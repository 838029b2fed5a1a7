"""Rows -> answers: expanded multi-concept answers merge, repeated attempts do not."""

from __future__ import annotations

import numpy as np
import pandas as pd

from edu_recsys.mastery.answers import build_answers, concept_pairs


def _df(rows):
    return pd.DataFrame(rows, columns=["student_id", "item_id", "concept_ids", "correct"])


def test_expanded_rows_merge_into_one_answer_with_union_of_concepts():
    df = _df(
        [
            ("s", "q1", ("a",), 1),
            ("s", "q1", ("b",), 1),
            ("s", "q2", ("a",), 0),
        ]
    )
    ans = build_answers(df)
    assert ans.row_answer.tolist() == [0, 0, 1]
    assert ans.n_answers == 2
    concepts = [set(ans.concept_ids[ans.pair_concept[ans.pair_answer == a]]) for a in range(2)]
    assert concepts == [{"a", "b"}, {"a"}]
    assert ans.first_row.tolist() == [0, 2]


def test_repeated_concept_starts_a_new_answer():
    # items that are skills (ASSISTments 2015): the same item twice is two attempts
    df = _df([("s", "k1", ("k1",), 0), ("s", "k1", ("k1",), 1)])
    assert build_answers(df).row_answer.tolist() == [0, 1]
    # A, B, A, B on one item: two attempts of a two-concept item
    df = _df([("s", "q", (c,), y) for c, y in (("a", 1), ("b", 1), ("a", 0), ("b", 0))])
    assert build_answers(df).row_answer.tolist() == [0, 0, 1, 1]


def test_different_correctness_or_student_never_merges():
    df = _df([("s", "q", ("a",), 1), ("s", "q", ("b",), 0), ("t", "q", ("c",), 0)])
    assert build_answers(df).row_answer.tolist() == [0, 1, 2]


def test_different_timestamps_never_merge():
    df = _df([("s", "q", ("a",), 1), ("s", "q", ("b",), 1)])
    df["timestamp"] = pd.to_datetime(["2024-01-01 10:00", "2024-01-01 10:05"], utc=True)
    assert build_answers(df).row_answer.tolist() == [0, 1]


def test_merge_can_be_switched_off():
    df = _df([("s", "q", ("a",), 1), ("s", "q", ("b",), 1)])
    assert build_answers(df, merge_expanded=False).row_answer.tolist() == [0, 1]


def test_interleaved_students_keep_their_own_order():
    df = _df(
        [
            ("s", "q1", ("a",), 1),
            ("t", "q9", ("a",), 0),
            ("s", "q1", ("b",), 1),
            ("s", "q2", ("a",), 0),
        ]
    )
    ans = build_answers(df)
    # s's two q1 rows are consecutive for s (t's row in between does not split them)
    assert ans.row_answer[0] == ans.row_answer[2]
    assert len(set(ans.row_answer.tolist())) == 3
    stu = ans.student_ids[ans.student]
    assert stu.tolist() == ["s", "s", "t"]
    assert ans.pos.tolist() == [0, 1, 0]


def test_concept_pairs_handles_empty_and_multi():
    rows, codes, uniq = concept_pairs(pd.Series([("x", "y"), (), ("y",)]))
    assert rows.tolist() == [0, 0, 2]
    assert uniq[codes].tolist() == ["x", "y", "y"]


def test_real_layout_counts(make_sim):
    df = make_sim(expand=True, random_state=3)
    ans = build_answers(df)
    flat = make_sim(expand=False, random_state=3)
    # one answer per row of the unexpanded simulation
    assert ans.n_answers == len(flat)
    np.testing.assert_array_equal(ans.y, flat["correct"].to_numpy(dtype=float))

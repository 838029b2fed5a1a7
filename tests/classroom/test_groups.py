"""Teaching groups: clusters recovered, stable under a seed, named by shared weak concepts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from edu_recsys.classroom import teaching_groups
from edu_recsys.exceptions import InvalidDataError
from tests.classroom.conftest import chain_graph, long_table, random_class


def three_profiles(seed: int = 0, per_group: int = 6):
    """Three clear profiles on a -> b -> c, a -> d: weak in a+b, weak in c, strong."""
    rng = np.random.default_rng(seed)
    centres = {
        "weak_ab": (0.3, 0.3, 0.9, 0.9),
        "weak_c": (0.9, 0.9, 0.3, 0.9),
        "strong": (0.95, 0.95, 0.95, 0.95),
    }
    values, truth = {}, {}
    for name, centre in centres.items():
        for i in range(per_group):
            sid = f"{name}_{i}"
            noisy = np.clip(np.array(centre) + rng.normal(0, 0.03, 4), 0, 1)
            values[sid] = dict(zip("abcd", noisy))
            truth[sid] = name
    return long_table(values), truth


def test_recovers_clear_groups_and_names_them(G):
    long, truth = three_profiles()
    tg = teaching_groups(long, G, min_groups=2, max_groups=5, lang="en")
    assert tg.k == 3
    assign = tg.assignments.set_index("student_id")["group"]
    for name in set(truth.values()):
        members = [s for s, t in truth.items() if t == name]
        assert assign[members].nunique() == 1
    g = tg.groups.set_index("group")
    # group 1 = lowest mean mastery = weak in a and b (a blocks more, so named first)
    assert g.loc[1, "weak_concepts"] == ["a", "b"]
    assert g.loc[1, "name"] == "Consolidate addition, multiplication"
    assert g.loc[3, "weak_concepts"] == [] and g.loc[3, "name"] == "Extension group"
    assert set(tg.silhouette) == {2, 3, 4, 5}
    assert tg.silhouette[3] == max(tg.silhouette.values())


def test_same_seed_same_groups():
    G = chain_graph(40)
    long = random_class(G, 45, seed=3)
    a = teaching_groups(long, G, random_state=7)
    b = teaching_groups(long, G, random_state=7)
    pd.testing.assert_frame_equal(a.assignments, b.assignments)
    pd.testing.assert_frame_equal(a.groups, b.groups)
    assert a.silhouette == b.silhouette


def test_bounds_are_respected():
    G = chain_graph(30)
    long = random_class(G, 30, seed=1)
    for lo, hi in [(2, 2), (3, 4), (4, 6)]:
        tg = teaching_groups(long, G, min_groups=lo, max_groups=hi)
        assert lo <= tg.k <= hi
        assert sorted(tg.groups["group"]) == list(range(1, tg.k + 1))
    with pytest.raises(InvalidDataError):
        teaching_groups(long, G, min_groups=4, max_groups=3)


def test_students_without_answers_get_group_zero(G):
    long, _ = three_profiles(per_group=3)
    roster = list(dict.fromkeys(long["student_id"])) + ["newcomer"]
    tg = teaching_groups(long, G, roster=roster)
    assert tg.assignments.set_index("student_id").loc["newcomer", "group"] == 0
    g0 = tg.groups.set_index("group").loc[0]
    assert g0["members"] == ["newcomer"] and g0["size"] == 1


def test_tiny_and_empty_classes(G):
    one = long_table({"s1": {"a": 0.4, "b": 0.9}})
    tg = teaching_groups(one, G)
    assert tg.k == 1 and tg.assignments["group"].tolist() == [1]
    assert tg.groups.loc[0, "weak_concepts"] == ["a"]
    same = long_table({f"s{i}": {"a": 0.5, "b": 0.5} for i in range(5)})
    assert teaching_groups(same, G).k == 1
    empty = pd.DataFrame(columns=["student_id", "concept_id", "mastery", "evidence", "fallback"])
    tg = teaching_groups(empty, G, roster=[])
    assert tg.k == 0 and tg.groups.empty and tg.assignments.empty


def test_resources_from_catalogue_and_recommend(G):
    long, _ = three_profiles(per_group=4)
    cat = pd.DataFrame(
        {
            "resource_id": ["r_a", "r_a2", "r_b", "r_c"],
            "title": ["加法微课", "加法练习", "乘法微课", "乘方微课"],
            "concept_ids": [("a",), ("a",), ("b",), ("c",)],
            "is_quality": [False, True, True, True],
        }
    )
    tg = teaching_groups(long, G, catalogue=cat, n_resources=2)
    g = tg.groups.set_index("group")
    assert g.loc[1, "resources"] == ["r_a2", "r_b"]  # quality course first, one per weak concept
    assert g.loc[3, "resources"] == []
    calls = []

    def recommend(ids, k):
        calls.append(list(ids))
        return pd.DataFrame(
            {
                "student_id": ids,
                "resource_id": ["r_c"] * len(ids),
                "concept_id": ["c"] * len(ids),
                "title": ["乘方微课"] * len(ids),
            }
        )

    tg = teaching_groups(long, G, recommend=recommend)
    assert len(calls) == tg.k
    assert set(tg.resources["source"]) == {"recommend"}

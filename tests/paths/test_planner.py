"""The planner: prerequisites respected (property-based, any-of included), re-planning,
mastered and unknown targets, budgets, items and resources."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edu_recsys.constants import MASTERY_THRESHOLD
from edu_recsys.exceptions import UnknownIdError
from edu_recsys.graph import prerequisite_groups
from edu_recsys.paths import PathPlanner, plan_path
from edu_recsys.simulate import make_item_bank


@st.composite
def dags(draw):
    """A random DAG (edges only from lower to higher index), some any-of groups, mastery."""
    n = draw(st.integers(3, 9))
    G = nx.DiGraph()
    for i in range(n):
        G.add_node(f"c{i}", name=f"概念{i}", name_en=f"concept {i}")
    for v in range(1, n):
        preds = draw(st.lists(st.integers(0, v - 1), unique=True, max_size=3))
        group = draw(st.booleans()) and len(preds) >= 2
        for j, u in enumerate(preds):
            if group and j < 2:
                G.add_edge(f"c{u}", f"c{v}", any_of=f"g{v}")
            else:
                G.add_edge(f"c{u}", f"c{v}")
    probs = draw(st.lists(st.floats(0.02, 0.98), min_size=n, max_size=n))
    mastery = {f"c{i}": p for i, p in enumerate(probs)}
    k = draw(st.integers(1, 2))
    targets = draw(st.lists(st.sampled_from(list(G)), min_size=1, max_size=k, unique=True))
    return G, mastery, targets


def _met(G, c, known):
    req, groups = prerequisite_groups(G, c)
    return all(q in known for q in req) and all(any(q in known for q in g) for g in groups.values())


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dags())
def test_never_a_concept_before_an_unmastered_prerequisite(case):
    G, mastery, targets = case
    path = plan_path(G, mastery, targets, max_steps=12, beam_width=6, n_particles=100)
    known = {c for c, p in mastery.items() if p >= MASTERY_THRESHOLD}
    for step in path.steps:
        assert _met(G, step.concept_id, known), (step.concept_id, path.concepts)
        known.add(step.concept_id)
    # mastered targets are skipped; with nothing left the path is empty and says so
    if all(mastery[t] >= MASTERY_THRESHOLD for t in targets):
        assert path.status == "already_mastered" and path.steps == []
    else:
        assert path.status != "already_mastered"
    closure = set(targets).union(*(nx.ancestors(G, t) for t in targets))
    assert set(path.concepts) <= closure


def _chain():
    G = nx.DiGraph([("a", "b"), ("b", "c")])
    for n, zh in zip("abc", ["加法", "乘法", "方程"]):
        G.nodes[n].update(name=zh, name_en=n, difficulty=0.5)
    return G


def test_replans_after_a_wrong_answer():
    G = _chain()
    start = {"a": 0.95, "b": 0.6, "c": 0.2}
    wrong, right = (PathPlanner(G, "c", mastery=start, random_state=0) for _ in range(2))
    first = wrong.plan()
    assert first.concepts[0] == "b" and first.steps[0].role == "prerequisite"
    # each observation is a study step on b followed by an answer on it
    for _ in range(3):
        after_wrong = wrong.observe("b", 0)
        after_right = right.observe("b", 1)
    assert wrong.mastery()["b"] < right.mastery()["b"]
    assert after_wrong.concepts[0] == "b"  # wrong answers: more practice on b first
    assert after_right.concepts[0] == "c"  # right answers: on to the target
    for _ in range(4):
        path = wrong.observe("b", 1)
    assert path.concepts[0] == "c"


def test_targets_already_mastered():
    G = _chain()
    path = plan_path(G, {"a": 0.99, "b": 0.9, "c": 0.85}, ["b", "c"])
    assert path.status == "already_mastered" and len(path) == 0
    assert "已掌握" in path.message and "already mastered" in path.message_en
    assert path.expected_targets_mastered == 2


def test_mastered_target_skipped_but_others_planned():
    G = _chain()
    path = plan_path(G, {"a": 0.99, "b": 0.9, "c": 0.1}, ["b", "c"])
    assert path.concepts and set(path.concepts) <= {"b", "c"} and path.concepts[-1] == "c"


def test_unknown_targets_and_observations():
    G = _chain()
    with pytest.raises(UnknownIdError, match="'zzz'"):
        plan_path(G, {}, ["c", "zzz"])
    planner = PathPlanner(G, "c", mastery={})
    with pytest.raises(UnknownIdError):
        planner.observe("nope", 1)


def test_any_of_follows_the_mastered_alternative():
    G = nx.DiGraph()
    G.add_edge("subst", "system", any_of="g")
    G.add_edge("elim", "system", any_of="g")
    G.add_edge("eq", "system")
    mastery = {"subst": 0.1, "elim": 0.9, "eq": 0.95, "system": 0.2}
    path = plan_path(G, mastery, "system")
    assert path.concepts == ["system"]
    # neither alternative mastered: exactly one of them is learned first
    mastery["elim"] = 0.3
    path = plan_path(G, mastery, "system")
    assert len({"subst", "elim"} & set(path.concepts)) == 1
    assert path.concepts[-1] == "system"


def test_budget_and_fallback_flag():
    G = _chain()
    path = plan_path(G, {"a": 0.2}, "c", budget_minutes=10)
    assert path.status == "budget_exhausted" and path.total_minutes <= 10
    assert path.fallback == "unseen_concepts" and set(path.fallback_concepts) == {"b", "c"}


def test_items_resources_reasons_and_determinism():
    G = _chain()
    bank = make_item_bank(G, 4, random_state=0)
    res = pd.DataFrame(
        {
            "resource_id": ["v-b", "v-b2", "v-c"],
            "concept_ids": [("b",), ("b",), ("c",)],
            "minutes": [8.0, 8.0, 6.0],
            "difficulty": [0.5, 0.5, 0.5],
            "is_quality": [False, True, True],
        }
    )
    kw = dict(mastery={"a": 0.95, "b": 0.3, "c": 0.1}, items=bank, resources=res)
    path = PathPlanner(G, "c", **kw).plan()
    concepts_of = dict(zip(bank.item_id, bank.concept_ids))
    for step in path.steps:
        assert step.items and all(step.concept_id in concepts_of[i] for i in step.items)
        assert step.items[0].startswith(step.concept_id + "#")  # its own items first
        assert step.minutes > 0 and step.reason and step.reason_en
        assert step.name in step.reason and step.name_en in step.reason_en
    assert path.steps[0].resources == ["v-b2"]  # the quality course first
    again = PathPlanner(G, "c", **kw).plan()
    assert again.to_dict() == path.to_dict()
    df = path.to_frame()
    assert list(df.step) == list(range(1, len(path) + 1))
    assert path.text("en").startswith(path.message_en)


def test_planner_on_the_shipped_graph_uses_only_the_closure():
    from edu_recsys.graph import load_graph, prerequisite_closure

    G = load_graph("math-7-9")
    target = "m8.linear_fn.linear_function"
    closure = prerequisite_closure(G, target, include_targets=True)
    rng = np.random.default_rng(0)
    mastery = {c: float(rng.uniform(0.3, 0.95)) for c in G}
    path = plan_path(G, mastery, target, max_steps=15)
    assert set(path.concepts) <= closure
    assert path.steps


def test_mastery_from_a_tracer_table():
    G = _chain()
    table = pd.DataFrame(
        {
            "student_id": ["s1"] * 3 + ["s2"] * 3,
            "concept_id": list("abc") * 2,
            "mastery": [0.95, 0.3, 0.1, 0.99, 0.95, 0.9],
            "evidence": [5] * 6,
            "fallback": [""] * 6,
        }
    )
    p1 = PathPlanner(G, "c", mastery=table, student_id="s1").plan()
    p2 = PathPlanner(G, "c", mastery=table, student_id="s2").plan()
    assert p1.concepts[0] == "b" and p1.student_id == "s1"
    assert p2.status == "already_mastered"
    with pytest.raises(UnknownIdError):
        PathPlanner(G, "c", mastery=table, student_id="ghost")

"""Queries on tiny graphs (any-of groups, cycles) and properties on random DAGs."""

from __future__ import annotations

import math

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edu_recsys.exceptions import UnknownIdError
from edu_recsys.graph import (
    CycleError,
    concept_depth,
    concept_distance,
    concepts_needed,
    dependents_count,
    learning_order,
    prerequisite_closure,
    prerequisites_met,
    ready_to_learn,
    subgraph_for,
)


def test_ready_to_learn_honours_any_of(small_graph):
    assert ready_to_learn(small_graph, {}) == ["eq"]
    assert ready_to_learn(small_graph, {"eq": 0.9}) == ["subst", "elim"]
    # one alternative of the group is enough
    assert ready_to_learn(small_graph, {"eq": 0.9, "elim": 0.85}) == ["subst", "word"]
    # below the threshold counts as not mastered; a custom threshold changes that
    assert ready_to_learn(small_graph, {"eq": 0.7}) == ["eq"]
    assert ready_to_learn(small_graph, {"eq": 0.7}, threshold=0.6) == ["subst", "elim"]
    # a set of mastered concepts works too; unknown keys are ignored
    assert ready_to_learn(small_graph, {"eq", "subst", "zzz"}) == ["elim", "word"]


def test_prerequisites_met(small_graph):
    assert not prerequisites_met(small_graph, "word", {"eq"})
    assert prerequisites_met(small_graph, "word", {"eq", "subst"})
    assert not prerequisites_met(small_graph, "word", {"subst", "elim"})
    with pytest.raises(UnknownIdError):
        prerequisites_met(small_graph, "nope", set())


def test_closure_includes_all_alternatives(small_graph):
    assert prerequisite_closure(small_graph, "app") == {"eq", "subst", "elim", "word"}
    assert prerequisite_closure(small_graph, ["word", "eq"]) == {"eq", "subst", "elim"}
    assert prerequisite_closure(small_graph, "eq", include_targets=True) == {"eq"}
    with pytest.raises(UnknownIdError):
        prerequisite_closure(small_graph, ["eq", "x"])


def test_concepts_needed_picks_one_alternative(small_graph):
    assert concepts_needed(small_graph, "app", {}) == ["eq", "subst", "word", "app"]
    # the alternative with higher mastery wins a tie
    assert concepts_needed(small_graph, "app", {"elim": 0.5}) == ["eq", "elim", "word", "app"]
    # an already mastered alternative needs nothing
    assert concepts_needed(small_graph, "app", {"eq": 1, "elim": 1}) == ["word", "app"]
    assert concepts_needed(small_graph, "app", {"app": 0.95}) == []
    # mastered concepts stop the descent
    assert concepts_needed(small_graph, "app", {"word": 0.9}) == ["app"]


def test_concepts_needed_prefers_the_shorter_route():
    G = nx.DiGraph()
    G.add_edges_from([("x1", "x2"), ("x2", "long")])
    G.add_edge("long", "t", any_of="g")
    G.add_edge("short", "t", any_of="g")
    assert concepts_needed(G, "t", {}) == ["short", "t"]
    # equally short once x1, x2 are mastered: the file order breaks the tie
    assert concepts_needed(G, "t", {"x1": 1, "x2": 1}) == ["long", "t"]


def test_learning_order_and_cycles(small_graph):
    order = list(learning_order(small_graph))
    assert order == ["eq", "subst", "elim", "word", "app"]
    gens = list(learning_order(small_graph, generations=True))
    assert gens == [["eq"], ["subst", "elim"], ["word"], ["app"]]
    small_graph.add_edge("app", "eq")
    with pytest.raises(CycleError) as e:
        list(learning_order(small_graph))
    assert " -> " in str(e.value) and isinstance(e.value, nx.NetworkXUnfeasible)
    with pytest.raises(CycleError):
        concepts_needed(small_graph, "app", {})


def test_learning_order_tie_breaks_grade_then_difficulty():
    G = nx.DiGraph()
    G.add_node("g8", grade=8)
    G.add_node("hard7", grade=7, difficulty=0.9)
    G.add_node("easy7", grade=7, difficulty=0.1)
    assert list(learning_order(G)) == ["easy7", "hard7", "g8"]


def test_distance_subgraph_dependents(small_graph):
    assert concept_distance(small_graph, "subst", "elim") == 2
    assert concept_distance(small_graph, "eq", "app", directed=True) == 2
    assert concept_distance(small_graph, "app", "eq", directed=True) == math.inf
    H = subgraph_for(small_graph, unit="u2")
    assert list(H) == ["app"] and H.graph["items"] == {"q2": ["app"]}
    assert H.graph["resources"] == {} and list(H.graph["units"]) == ["u2"]
    H = subgraph_for(small_graph, grade=8, include_prerequisites=True)
    assert set(H) == set(small_graph)
    assert dependents_count(small_graph) == {"eq": 4, "subst": 2, "elim": 2, "word": 1, "app": 0}
    assert concept_depth(small_graph)["app"] == 3
    # other relations are not prerequisites
    small_graph.add_edge("app", "eq", relation="related")
    assert list(learning_order(small_graph))[0] == "eq"


@st.composite
def dags(draw):
    n = draw(st.integers(2, 12))
    G = nx.DiGraph()
    G.add_nodes_from(f"c{i}" for i in range(n))
    for j in range(1, n):
        for i in range(j):
            if draw(st.booleans()) and draw(st.booleans()):
                G.add_edge(f"c{i}", f"c{j}", any_of=draw(st.sampled_from([None, None, "g"])))
    for _u, _v, d in list(G.edges(data=True)):
        if d["any_of"] is None:
            del d["any_of"]
    mastered = draw(st.sets(st.sampled_from(sorted(G))))
    return G, mastered


@settings(max_examples=60, deadline=None)
@given(dags())
def test_properties_on_random_dags(case):
    G, mastered = case
    order = list(learning_order(G))
    pos = {c: i for i, c in enumerate(order)}
    assert sorted(order) == sorted(G) and all(pos[u] < pos[v] for u, v in G.edges)
    frontier = ready_to_learn(G, mastered)
    for c in G:
        assert (c in frontier) == (c not in mastered and prerequisites_met(G, c, mastered))
    target = order[-1]
    needed = concepts_needed(G, target, mastered)
    assert set(needed) <= prerequisite_closure(G, target, include_targets=True) - mastered
    # learning the needed concepts in the returned order is always possible
    known = set(mastered)
    for c in needed:
        assert prerequisites_met(G, c, known), (c, known)
        known.add(c)
    assert target in known

"""Candidate stage: the vectorised frontier agrees with the graph module's queries;
weak, review and target sources."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from edu_recsys.recommend import CandidateSelector, Recommender
from edu_recsys.recommend.candidates import SOURCE_NAMES
from edu_recsys.recommend.space import ConceptSpace

graph_mod = __import__("edu_recsys.graph", fromlist=["ready_to_learn"])


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=6, max_size=6))
def test_frontier_matches_ready_to_learn(graph, values):
    space = ConceptSpace.build(graph, [])
    sel = CandidateSelector(sources=("frontier",), unlock_bonus=0).fit(space)
    M = np.array([values], np.float32)
    rel, src, _ = sel.select(M, np.zeros_like(M))
    mine = {c for c, r in zip(space.concepts, rel[0]) if r > 0}
    theirs = set(graph_mod.ready_to_learn(graph, dict(zip(space.concepts, M[0].tolist()))))
    assert mine == theirs


def test_any_of_group_one_member_suffices(graph):
    space = ConceptSpace.build(graph, [])
    sel = CandidateSelector(sources=("frontier",)).fit(space)
    order = list(space.concepts)  # a b c d e f
    base = dict(a=0.9, b=0.2, c=0.9, d=0.9, e=0.1, f=0.1)
    M = np.array([[base[c] for c in order]], np.float32)
    rel, _, _ = sel.select(M, np.zeros_like(M))
    assert rel[0, order.index("e")] > 0  # c stands in for b in the any-of group
    assert rel[0, order.index("b")] > 0  # b itself is ready (a mastered)
    M[0, order.index("c")] = 0.2
    rel, _, _ = sel.select(M, np.zeros_like(M))
    assert rel[0, order.index("e")] == 0


def test_weak_needs_evidence_and_review_needs_time(graph):
    space = ConceptSpace.build(graph, [])
    sel = CandidateSelector(unlock_bonus=0, review_half_life_days=10).fit(space)
    order = list(space.concepts)
    M = np.array([[0.95, 0.5, 0.5, 0.1, 0.1, 0.1]], np.float32)
    E = np.array([[3, 2, 0, 0, 0, 0]], np.float32)
    days = np.array([[40, 1, np.nan, np.nan, np.nan, np.nan]], np.float32)
    rel, src, m_now = sel.select(M, E, days)
    names = [SOURCE_NAMES[s] for s in src[0]]
    assert names[order.index("b")] == "weak" and rel[0, order.index("b")] == 1.0
    assert names[order.index("c")] == "frontier" and rel[0, order.index("c")] == 0.8
    # a: 0.95 * 0.5 ** (40 / (10 * sqrt(4))) = 0.2375 < 0.8 -> due for review
    assert names[order.index("a")] == "review"
    assert m_now[0, order.index("a")] == np.float32(0.95 * 0.5**2)
    rel2, src2, _ = sel.select(M, E, None)
    assert SOURCE_NAMES[src2[0, order.index("a")]] == ""


def test_target_path_uses_concepts_needed(graph, catalogue, mastery_table):
    rec = Recommender(graph, sources=("target",)).fit(catalogue, mastery_table)
    out = rec.recommend("s1", k=20, target="f")
    assert len(out) > 0 and set(out["source"]) == {"target"}
    # s1 has a mastered, b at 0.45: the path to f is b -> d -> f; only b is ready now
    assert set(out["concept_id"]) == {"b"}
    assert len(rec.recommend("s1", k=5)) == 0  # no target: that source yields nothing


def test_review_brings_seen_resources_back(graph, catalogue, mastery_table):
    # s0 used a0 on day 0 and has a mastered at 0.9; forty days later a is due
    rows = mastery_table.copy()
    rows["last_practiced"] = pd.Timestamp("2024-09-01", tz="UTC")
    rec = Recommender(graph, review_half_life_days=5).fit(
        catalogue, rows, now=pd.Timestamp("2024-10-11")
    )
    out = rec.recommend("s0", k=30)
    rev = out[out["source"] == "review"]
    assert "a0" in set(rev["resource_id"])
    assert rev.loc[rev["resource_id"] == "a0", "seen"].item()
    # without review the seen resource stays excluded
    rec2 = Recommender(graph, sources=("weak", "frontier")).fit(catalogue, rows)
    assert "a0" not in set(rec2.recommend("s0", k=30)["resource_id"])


def test_untaught_frontier_concepts_weigh_less(graph):
    space = ConceptSpace.build(graph, [])
    sel = CandidateSelector(sources=("frontier",), unlock_bonus=0).fit(space)
    order = list(space.concepts)
    M = np.array([[0.9, 0.3, 0.3, 0.1, 0.1, 0.1]], np.float32)
    taught = np.array([c in "ab" for c in order])
    rel, _, _ = sel.select(M, np.zeros_like(M), taught=taught)
    assert rel[0, order.index("b")] == np.float32(0.8)  # practised by somebody
    assert rel[0, order.index("c")] == np.float32(0.4)  # nobody has reached c yet

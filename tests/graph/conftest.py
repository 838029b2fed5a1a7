"""Tiny hand-made graphs shared by the graph tests."""

from __future__ import annotations

import networkx as nx
import pytest


def concept(G: nx.DiGraph, cid: str, grade: int = 7, unit: str = "u1", **attrs) -> None:
    G.add_node(cid, name=f"名{cid}", name_en=cid, grade=grade, subject="math", unit=unit, **attrs)


@pytest.fixture
def add_concept():
    """``add_concept(G, id, grade=7, unit="u1", **attrs)``."""
    return concept


@pytest.fixture
def small_graph() -> nx.DiGraph:
    """eq -> {subst, elim} -> word (any-of group g), eq -> word, word -> app (grade 8)."""
    units = {"u1": {"name": "单元一"}, "u2": {"name": "单元二"}}
    G = nx.DiGraph(id="small", subject="math", units=units)
    for c in ("eq", "subst", "elim", "word"):
        concept(G, c)
    concept(G, "app", grade=8, unit="u2", difficulty=0.7)
    G.add_edge("eq", "subst", relation="prerequisite")
    G.add_edge("eq", "elim", relation="prerequisite")
    G.add_edge("eq", "word", relation="prerequisite")
    G.add_edge("subst", "word", relation="prerequisite", any_of="g")
    G.add_edge("elim", "word", relation="prerequisite", any_of="g")
    G.add_edge("word", "app", relation="prerequisite")
    G.graph["items"] = {"q1": ["eq"], "q2": ["word", "app"]}
    G.graph["resources"] = {"video1": ["subst"]}
    return G

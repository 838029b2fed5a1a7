"""Hand-built classes for the classroom tests (values chosen so results can be hand-computed)."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
import pytest


def tiny_graph() -> nx.DiGraph:
    """a -> b -> c, a -> d; units u1 = {a, b}, u2 = {c, d}."""
    G = nx.DiGraph()
    for c, name, en, unit in [
        ("a", "加法", "addition", "u1"),
        ("b", "乘法", "multiplication", "u1"),
        ("c", "乘方", "powers", "u2"),
        ("d", "减法", "subtraction", "u2"),
    ]:
        G.add_node(c, name=name, name_en=en, unit=unit, grade=8, subject="math")
    G.add_edge("a", "b", relation="prerequisite")
    G.add_edge("b", "c", relation="prerequisite")
    G.add_edge("a", "d", relation="prerequisite")
    G.graph["units"] = {
        "u1": {"name": "运算一", "name_en": "Operations I"},
        "u2": {"name": "运算二", "name_en": "Operations II"},
    }
    return G


#: mastery of the hand-built class (s4 has no answers)
HAND_MASTERY = {
    "s1": {"a": 0.9, "b": 0.9, "c": 0.7, "d": 0.9},
    "s2": {"a": 0.7, "b": 0.5, "c": 0.3, "d": 0.6},
    "s3": {"a": 0.9, "b": 0.7, "c": 0.5, "d": 0.8},
}


def long_table(values: dict[str, dict[str, float]], evidence: int = 3) -> pd.DataFrame:
    rows = [(s, c, m, evidence, "") for s, ms in values.items() for c, m in ms.items()]
    return pd.DataFrame(
        rows, columns=["student_id", "concept_id", "mastery", "evidence", "fallback"]
    )


@pytest.fixture
def G() -> nx.DiGraph:
    return tiny_graph()


@pytest.fixture
def hand_class() -> tuple[pd.DataFrame, list[str]]:
    return long_table(HAND_MASTERY), ["s1", "s2", "s3", "s4"]


@pytest.fixture
def tiny_bank() -> pd.DataFrame:
    rows = [(f"q{c}{k}", (c,), float(m)) for c in "abcd" for k, m in enumerate((2, 3, 4, 5, 6))]
    return pd.DataFrame(rows, columns=["item_id", "concept_ids", "minutes"])


def chain_graph(n: int, seed: int = 0) -> nx.DiGraph:
    """A random layered DAG of ``n`` concepts (for larger, generated classes)."""
    rng = np.random.default_rng(seed)
    G = nx.DiGraph()
    for i in range(n):
        G.add_node(
            f"k{i:03d}", name=f"知识点{i}", name_en=f"concept {i}", unit=f"u{i // 10}", grade=8
        )
    for i in range(1, n):
        for j in rng.choice(i, size=min(i, rng.integers(1, 3)), replace=False):
            G.add_edge(f"k{j:03d}", f"k{i:03d}", relation="prerequisite")
    return G


def random_class(G: nx.DiGraph, n_students: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    ability = rng.normal(0, 1, n_students)
    concepts = list(G)
    diff = rng.normal(0, 1, len(concepts))
    m = 1 / (1 + np.exp(-(ability[:, None] - diff[None, :] + 1)))
    ev = rng.integers(0, 5, m.shape)
    rows = [
        (f"s{i:03d}", c, float(m[i, j]), int(ev[i, j]), "")
        for i in range(n_students)
        for j, c in enumerate(concepts)
    ]
    return pd.DataFrame(
        rows, columns=["student_id", "concept_id", "mastery", "evidence", "fallback"]
    )

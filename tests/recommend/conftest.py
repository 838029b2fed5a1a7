"""Small fixtures for the recommendation tests: a graph with an any-of group, a
catalogue with usage and ratings, a mastery table and answers with timestamps."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from edu_recsys.resources import as_catalogue

T0 = pd.Timestamp("2024-09-02 08:00", tz="UTC")


@pytest.fixture(scope="session")
def graph() -> nx.DiGraph:
    """a -> b -> d -> f; a -> c; e needs one of {b, c} (any-of) and d."""
    G = nx.DiGraph()
    names = {
        "a": "数的认识",
        "b": "加法",
        "c": "减法",
        "d": "乘法",
        "e": "混合运算",
        "f": "除法",
    }
    for i, (c, n) in enumerate(names.items()):
        G.add_node(c, name=n, name_en=c, grade=3, subject="math", unit="u1", difficulty=i / 10)
    G.add_edge("a", "b", relation="prerequisite")
    G.add_edge("a", "c", relation="prerequisite")
    G.add_edge("b", "d", relation="prerequisite")
    G.add_edge("b", "e", relation="prerequisite", any_of="g1")
    G.add_edge("c", "e", relation="prerequisite", any_of="g1")
    G.add_edge("d", "e", relation="prerequisite")
    G.add_edge("d", "f", relation="prerequisite")
    return G


@pytest.fixture(scope="session")
def catalogue():
    rows = []
    for i, c in enumerate("abcdef"):
        for j, (t, minutes, diff) in enumerate(
            [("video", 8, 0.3), ("exercise_set", 15, 0.5), ("reading", 10, 0.7)]
        ):
            rows.append(
                {
                    "resource_id": f"{c}{j}",
                    "title": f"{c}-{t}",
                    "type": t,
                    "concept_ids": c,
                    "grade": 3,
                    "subject": "math",
                    "minutes": minutes,
                    "difficulty": diff,
                    "source": "test",
                    "is_quality": j == 0 and i % 2 == 0,
                }
            )
    rows.append({"resource_id": "bd", "type": "courseware", "concept_ids": "b;d", "minutes": 20})
    students = [f"s{i}" for i in range(12)]
    usage = pd.DataFrame(
        {
            "student_id": np.repeat(students, 2),
            "resource_id": ["a0", "b0"] * 12,
            "timestamp": [T0 + pd.Timedelta(days=d) for d in range(24)],
            "completed": [1, 0] * 12,
        }
    )
    ratings = pd.DataFrame(
        {"student_id": students[:6], "resource_id": "b1", "rating": [5, 4, 5, 5, 4, 5]}
    )
    return as_catalogue(pd.DataFrame(rows), usage, ratings)


@pytest.fixture(scope="session")
def mastery_table() -> pd.DataFrame:
    """s0..s11: a mastered by all; b mastered by the even students; the rest low."""
    rows = []
    for i in range(12):
        m = {
            "a": 0.9,
            "b": 0.85 if i % 2 == 0 else 0.45,
            "c": 0.3 + 0.02 * i,
            "d": 0.2,
            "e": 0.1,
            "f": 0.1,
        }
        ev = {"a": 6, "b": 4, "c": 2 if i % 3 == 0 else 0, "d": 0, "e": 0, "f": 0}
        for c in "abcdef":
            rows.append(
                {
                    "student_id": f"s{i}",
                    "concept_id": c,
                    "mastery": m[c],
                    "evidence": ev[c],
                    "fallback": "",
                }
            )
    return pd.DataFrame(rows)

"""Seeded synthetic interactions for the mastery tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


def simulate(
    n_students: int = 120,
    n_items: int = 40,
    n_concepts: int = 5,
    length: tuple[int, int] = (10, 40),
    multi_share: float = 0.2,
    expand: bool = False,
    timestamps: bool = False,
    random_state: int = 0,
) -> pd.DataFrame:
    """Students with an ability that grows with practice, items with a difficulty.

    ``expand`` writes a multi-concept answer as one row per concept (the public fold
    files' layout); otherwise as one row with a concept tuple.
    """
    rng = np.random.default_rng(random_state)
    concepts = [f"c{k}" for k in range(n_concepts)]
    item_concepts = []
    for _ in range(n_items):
        k = 2 if rng.random() < multi_share else 1
        item_concepts.append(tuple(sorted(rng.choice(concepts, size=k, replace=False))))
    difficulty = rng.normal(0, 1, n_items)
    rows = []
    t0 = pd.Timestamp("2024-01-01", tz="UTC")
    for s in range(n_students):
        ability = rng.normal(0, 1)
        skill = dict.fromkeys(concepts, 0.0)
        t = t0 + pd.Timedelta(hours=float(rng.integers(0, 1000)))
        for _ in range(int(rng.integers(*length))):
            i = int(rng.integers(n_items))
            cs = item_concepts[i]
            logit = ability + np.mean([skill[c] for c in cs]) - difficulty[i]
            y = int(rng.random() < 1 / (1 + np.exp(-logit)))
            for c in cs:
                skill[c] += 0.15
            t = t + pd.Timedelta(minutes=float(rng.exponential(30)))
            row = {"student_id": f"s{s}", "item_id": f"q{i}", "correct": y}
            if timestamps:
                row["timestamp"] = t
            if expand:
                for c in cs:
                    rows.append({**row, "concept_ids": (c,)})
            else:
                rows.append({**row, "concept_ids": cs})
    return pd.DataFrame(rows)


@pytest.fixture(scope="session")
def sim() -> pd.DataFrame:
    return simulate()


@pytest.fixture(scope="session")
def sim_expanded() -> pd.DataFrame:
    return simulate(expand=True, random_state=1)


@pytest.fixture(scope="session")
def sim_time() -> pd.DataFrame:
    return simulate(timestamps=True, random_state=2)


@pytest.fixture(scope="session")
def make_sim():
    """The :func:`simulate` function (conftest modules are not importable by name)."""
    return simulate

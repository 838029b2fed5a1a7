"""Item banks for simulated learners: seeded, on any knowledge graph.

Every concept gets ``items_per_concept`` items. An item's difficulty on the 0..1 scale
of the resource catalogue (0.5 = a typical item of its concepts) is the concept's
``difficulty`` plus noise; its IRT difficulty is ``irt_b = 4 * (difficulty - 0.5)``,
the scale of :class:`~edu_recsys.simulate.learners.GraphLearnerModel`. A share of the
items are multiple choice (guessing 0.25), the others fill-in or worked problems
(no guessing); discriminations are log-normal around 1. A share of the items also
exercise one prerequisite of their concept (two concepts; answered with the mean
ability of both). Minutes depend on the type and grow with difficulty.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd

from edu_recsys.graph import learning_order, prerequisite_view

__all__ = ["make_item_bank", "ITEM_TYPES"]

#: item type -> (guessing, base minutes)
ITEM_TYPES = {"choice": (0.25, 1.5), "fill": (0.0, 2.5), "problem": (0.0, 5.0)}


def make_item_bank(
    G: nx.DiGraph,
    items_per_concept: int = 6,
    *,
    concepts=None,
    difficulty_sd: float = 0.12,
    two_concept_share: float = 0.15,
    type_shares: tuple[float, float, float] = (0.4, 0.35, 0.25),
    random_state: int | np.random.Generator | None = 0,
) -> pd.DataFrame:
    """A seeded item bank for the concepts of ``G``.

    Parameters
    ----------
    G : networkx.DiGraph
    items_per_concept : int, default 6
    concepts : sequence of str, optional
        Only these concepts (default: all, in learning order).
    difficulty_sd : float, default 0.12
        Spread of item difficulty around the concept's (0..1 scale).
    two_concept_share : float, default 0.15
        Share of items that also exercise one direct prerequisite of their concept.
    type_shares : (float, float, float)
        Shares of ``choice``, ``fill`` and ``problem`` items.
    random_state : int or Generator, default 0

    Returns
    -------
    DataFrame
        ``item_id, concept_ids, difficulty, minutes, irt_b, discrimination, guessing,
        type`` (item ids ``"<concept>#<n>"``).

    Examples
    --------
    >>> G = nx.DiGraph([("a", "b")])
    >>> bank = make_item_bank(G, items_per_concept=2, random_state=0)
    >>> bank[["item_id", "concept_ids"]].head(2).to_dict("list")
    {'item_id': ['a#1', 'a#2'], 'concept_ids': [('a',), ('a',)]}
    >>> bool(((bank.difficulty >= 0) & (bank.difficulty <= 1)).all()), len(bank)
    (True, 4)
    """
    rng = np.random.default_rng(random_state)
    P = prerequisite_view(G)
    concepts = list(learning_order(G)) if concepts is None else list(concepts)
    types = np.array(list(ITEM_TYPES))
    shares = np.asarray(type_shares, float) / np.sum(type_shares)
    rows = []
    for c in concepts:
        d0 = G.nodes[c].get("difficulty")
        d0 = 0.5 if d0 is None or (isinstance(d0, float) and np.isnan(d0)) else float(d0)
        preds = sorted(P.predecessors(c))
        n = int(items_per_concept)
        diff = np.round(np.clip(d0 + rng.normal(0, difficulty_sd, n), 0.0, 1.0), 3)
        kinds = rng.choice(types, size=n, p=shares)
        disc = np.exp(rng.normal(0.0, 0.25, n))
        two = rng.random(n) < two_concept_share
        extra = rng.integers(0, max(len(preds), 1), n)
        speed = np.exp(rng.normal(0.0, 0.2, n))
        for j in range(n):
            cs = (c, preds[extra[j]]) if two[j] and preds else (c,)
            guess, base = ITEM_TYPES[str(kinds[j])]
            rows.append(
                {
                    "item_id": f"{c}#{j + 1}",
                    "concept_ids": cs,
                    "difficulty": round(float(diff[j]), 3),
                    "minutes": round(float(base * (0.7 + 0.8 * diff[j]) * speed[j]), 1),
                    "irt_b": round(float(4.0 * (diff[j] - 0.5)), 3),
                    "discrimination": round(float(disc[j]), 3),
                    "guessing": guess,
                    "type": str(kinds[j]),
                }
            )
    cols = ["item_id", "concept_ids", "difficulty", "minutes", "irt_b", "discrimination"]
    cols += ["guessing", "type"]
    return pd.DataFrame(rows, columns=cols)

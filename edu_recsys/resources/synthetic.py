"""Seeded synthetic catalogues on any concept graph (demos, tests, offline evaluation).

A generated catalogue looks like a school platform's: several resources per concept
of mixed types (micro-lecture videos, exercise sets, readings, courseware) with
type-typical lengths, a spread of difficulties, some resources covering a concept
together with one of its prerequisites, Chinese titles from the concept names, and
a few curated quality courses. Each resource also gets a hidden **effectiveness**
(how much it teaches per use, 1 = average) and **appeal** (how often it is picked),
weakly correlated, kept in ``Catalogue.truth`` so that a simulator can use them and
an evaluation can check quality estimates against them; the recommender never reads
``truth``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from edu_recsys.resources.catalogue import Catalogue, as_catalogue, validate_usage
from edu_recsys.resources.schema import RESOURCE_TYPES

__all__ = ["synthetic_catalogue", "synthetic_usage", "DEFAULT_TYPE_MIX"]

#: Share of each resource type in a generated catalogue.
DEFAULT_TYPE_MIX: dict[str, float] = {
    "video": 0.35,
    "exercise_set": 0.35,
    "reading": 0.15,
    "courseware": 0.15,
}

# median minutes and log-spread per type
_MINUTES = {"video": (8.0, 0.35), "exercise_set": (15.0, 0.4), "reading": (10.0, 0.4)}
_MINUTES_OTHER = (20.0, 0.35)
_LEVEL = ((0.4, "基础"), (0.65, "提高"), (1.01, "拓展"))


def _level(d: float) -> str:
    return next(name for hi, name in _LEVEL if d < hi)


def synthetic_catalogue(
    G,
    n_resources: int | None = None,
    *,
    per_concept: int = 6,
    type_mix: dict[str, float] | None = None,
    multi_concept_share: float = 0.2,
    quality_share: float = 0.08,
    subject: str | None = None,
    random_state: int | None = 0,
) -> Catalogue:
    """Generate a catalogue of resources teaching the concepts of graph ``G``.

    Parameters
    ----------
    G : networkx.DiGraph
        Concept graph (nodes are concepts; ``name``, ``grade``, ``subject`` and
        ``difficulty`` node attributes are used when present).
    n_resources : int, optional
        Total number of resources (spread evenly over concepts, the rest at
        random). Default: ``per_concept`` times the number of concepts.
    per_concept : int, default 6
        Resources per concept when ``n_resources`` is not given.
    type_mix : dict, optional
        Share of each type (default :data:`DEFAULT_TYPE_MIX`).
    multi_concept_share : float, default 0.2
        Share of resources that also cover one prerequisite of their concept.
    quality_share : float, default 0.08
        Share curated as quality courses (more likely among effective ones).
    subject : str, optional
        Subject for every row (default: the node's ``subject`` attribute).
    random_state : int, optional
        Seed; the same seed gives the same catalogue.

    Returns
    -------
    Catalogue
        ``resources`` (validated, ids ``R00000``...), empty usage/ratings, and
        ``truth`` with ``resource_id, effectiveness, appeal``.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.DiGraph([("a", "b")], relation="prerequisite")
    >>> cat = synthetic_catalogue(G, per_concept=3, random_state=1)
    >>> len(cat), sorted(cat.concepts())
    (6, ['a', 'b'])
    >>> cat.resources.equals(synthetic_catalogue(G, per_concept=3, random_state=1).resources)
    True
    """
    rng = np.random.default_rng(random_state)
    concepts = list(G.nodes)
    if not concepts:
        return as_catalogue([])
    n = len(concepts) * per_concept if n_resources is None else int(n_resources)
    mix = dict(type_mix or DEFAULT_TYPE_MIX)
    types = list(mix)
    probs = np.array([mix[t] for t in types], float)
    probs /= probs.sum()

    base = np.tile(np.arange(len(concepts)), n // len(concepts))
    extra = rng.choice(len(concepts), n - len(base), replace=False) if n % len(concepts) else []
    owner = np.concatenate([base, np.asarray(extra, int)]).astype(int)
    rng.shuffle(owner)
    rtype = rng.choice(len(types), size=n, p=probs)
    difficulty = np.clip(rng.beta(4, 4, size=n) * 0.9 + 0.05, 0.05, 0.95).round(2)
    # hidden truth: effectiveness log-normal around 1, appeal weakly correlated with it
    z_eff = rng.normal(size=n)
    effectiveness = np.exp(0.45 * z_eff - 0.1)
    appeal = np.exp(0.8 * (0.3 * z_eff + np.sqrt(1 - 0.3**2) * rng.normal(size=n)))
    # experts pick quality courses mostly among the effective ones
    curated_score = z_eff + rng.normal(scale=0.7, size=n)
    n_quality = int(round(quality_share * n))
    is_quality = np.zeros(n, bool)
    if n_quality:
        is_quality[np.argsort(-curated_score)[:n_quality]] = True
    multi = rng.random(n) < multi_concept_share

    rows = []
    for i in range(n):
        c = concepts[owner[i]]
        attrs = G.nodes[c]
        t = types[rtype[i]]
        med, spread = _MINUTES.get(t, _MINUTES_OTHER)
        minutes = float(np.clip(round(med * np.exp(spread * rng.normal()), 0), 2, 90))
        cids = [c]
        preds = [p for p in G.predecessors(c)]
        if multi[i] and preds:
            cids = [c, preds[int(rng.integers(len(preds)))]]
        names = [str(G.nodes[x].get("name", x)) for x in cids]
        title = f"{'与'.join(names)}·{RESOURCE_TYPES.get(t, t)}（{_level(difficulty[i])}）"
        rows.append(
            {
                "resource_id": f"R{i:05d}",
                "title": title,
                "type": t,
                "concept_ids": tuple(cids),
                "grade": attrs.get("grade"),
                "subject": subject or attrs.get("subject"),
                "minutes": minutes,
                "difficulty": float(difficulty[i]),
                "source": "synthetic",
                "is_quality": bool(is_quality[i]),
            }
        )
    cat = as_catalogue(pd.DataFrame(rows))
    cat.truth = pd.DataFrame(
        {
            "resource_id": cat.resources["resource_id"],
            "effectiveness": effectiveness,
            "appeal": appeal,
        }
    )
    cat.provenance = {"generator": "synthetic_catalogue", "random_state": random_state}
    return cat


def synthetic_usage(
    catalogue: Catalogue,
    n_students: int = 200,
    uses_per_student: float = 8.0,
    *,
    rating_share: float = 0.3,
    start: str = "2024-09-01",
    random_state: int | None = 0,
) -> Catalogue:
    """Add seeded usage and ratings records driven by the hidden truth.

    Students pick resources in proportion to ``appeal`` (popularity is not quality);
    completion is likelier for effective and short resources; ratings (for a share of
    uses) follow effectiveness with noise. Students are ``S0000``...; timestamps are
    spread over 8 weeks from ``start``. Returns a new catalogue with the records.

    Examples
    --------
    >>> import networkx as nx
    >>> cat = synthetic_catalogue(nx.DiGraph([("a", "b")]), per_concept=5)
    >>> cat = synthetic_usage(cat, n_students=20, random_state=0)
    >>> len(cat.usage) > 0, cat.ratings["rating"].between(1, 5).all()
    (True, np.True_)
    """
    rng = np.random.default_rng(random_state)
    truth = catalogue.truth
    res = catalogue.resources
    if truth is None or len(res) == 0:
        raise ValueError("synthetic_usage needs a catalogue from synthetic_catalogue")
    n_uses = rng.poisson(uses_per_student, size=n_students)
    total = int(n_uses.sum())
    p = truth["appeal"].to_numpy(float)
    p = p / p.sum()
    r_idx = rng.choice(len(res), size=total, p=p)
    s_idx = np.repeat(np.arange(n_students), n_uses)
    eff = truth["effectiveness"].to_numpy(float)[r_idx]
    minutes = res["minutes"].to_numpy(float)[r_idx]
    logit = 0.8 + 1.2 * np.log(eff) - 0.03 * (minutes - 10)
    completed = (rng.random(total) < 1 / (1 + np.exp(-logit))).astype(float)
    share = np.where(completed == 1, rng.uniform(0.8, 1.3, total), rng.uniform(0.1, 0.7, total))
    spent = minutes * share
    t0 = pd.Timestamp(start, tz="UTC")
    ts = t0 + pd.to_timedelta(rng.uniform(0, 56 * 24 * 3600, total), unit="s")
    usage = pd.DataFrame(
        {
            "student_id": [f"S{i:04d}" for i in s_idx],
            "resource_id": res["resource_id"].to_numpy()[r_idx],
            "timestamp": ts,
            "minutes": spent.round(1),
            "completed": completed,
        }
    )
    rated = rng.random(total) < rating_share
    rating = np.clip(np.round(3.4 + 1.6 * np.log(eff) + rng.normal(scale=0.8, size=total)), 1, 5)
    ratings = pd.DataFrame(
        {
            "student_id": usage["student_id"][rated].to_numpy(),
            "resource_id": usage["resource_id"][rated].to_numpy(),
            "rating": rating[rated],
            "timestamp": ts[rated],
        }
    )
    out = as_catalogue(catalogue.resources, validate_usage(usage), ratings)
    out.truth = truth
    out.provenance = {**catalogue.provenance, "usage": "synthetic_usage", "seed": random_state}
    return out

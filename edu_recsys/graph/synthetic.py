"""A minimal generator of interaction logs on a known prerequisite graph.

It exists to check structure learners (:mod:`edu_recsys.graph.learn`): a concept is
learned much more slowly while its prerequisites are unknown, and nothing else links
concepts except a general ability. For realistic classes (IRT items, timestamps,
forgetting, resources) use :mod:`edu_recsys.simulate`.

Model (binary knowledge, BKT-like): each student has an ability ``theta ~ N(0, 1)``
and practises every concept ``attempts`` times, in the graph's learning order with
per-student noise (``order_noise``, in positions, so some students meet a concept
before its prerequisites). A concept is known at the start with probability
``p_initial`` (times ``gate`` if its prerequisites are not known). After each answer an
unknown concept becomes known with probability ``p_learn * 2 * sigmoid(theta)``, times
``gate`` while its prerequisites are not met (any-of groups honoured). Answers are
correct with probability ``sigmoid(logit(1 - slip) + 0.5 theta)`` when known and
``sigmoid(logit(guess) + 0.5 theta)`` otherwise.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd

from edu_recsys.graph.queries import learning_order, prerequisite_groups

__all__ = ["simulate_prerequisite_logs"]


def _logit(p: float) -> float:
    return float(np.log(p / (1 - p)))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def simulate_prerequisite_logs(
    G: nx.DiGraph,
    n_students: int = 500,
    *,
    attempts: int = 4,
    order_noise: float = 1.5,
    p_initial: float = 0.15,
    p_learn: float = 0.3,
    gate: float = 0.1,
    guess: float = 0.2,
    slip: float = 0.1,
    items_per_concept: int = 3,
    random_state: int | np.random.Generator | None = 0,
) -> pd.DataFrame:
    """Simulated answers of ``n_students`` on every concept of ``G``.

    Parameters
    ----------
    G : DiGraph
        The true prerequisite graph (a DAG; any-of groups honoured).
    n_students : int, default 500
    attempts : int, default 4
        Answers per student and concept.
    order_noise : float, default 1.5
        Standard deviation of the per-student shift of each concept's position in the
        learning order.
    p_initial, p_learn, gate, guess, slip : float
        See the module docstring.
    items_per_concept : int, default 3
        Item ids are ``"<concept>#<k>"``.
    random_state : int or Generator, default 0

    Returns
    -------
    DataFrame
        Canonical interactions: ``student_id``, ``item_id``, ``concept_ids`` (1-tuples),
        ``correct`` (int8), ``timestamp`` (UTC, one minute apart), in time order.

    Examples
    --------
    >>> logs = simulate_prerequisite_logs(nx.DiGraph([("a", "b")]), n_students=3, attempts=2)
    >>> logs.shape, logs.columns.tolist()
    ((12, 5), ['student_id', 'item_id', 'concept_ids', 'correct', 'timestamp'])
    """
    rng = np.random.default_rng(random_state)
    concepts = list(learning_order(G))
    idx = {c: i for i, c in enumerate(concepts)}
    K, S = len(concepts), n_students
    req = np.zeros((K, K), dtype=bool)  # req[u, v]: u is a required prerequisite of v
    g_members, g_target = [], []
    for v in concepts:
        required, groups = prerequisite_groups(G, v)
        for u in required:
            req[idx[u], idx[v]] = True
        for alts in groups.values():
            m = np.zeros(K, dtype=bool)
            m[[idx[a] for a in alts]] = True
            g_members.append(m)
            g_target.append(idx[v])
    gm = np.array(g_members, dtype=float).reshape(len(g_members), K)
    gt = np.array(g_target, dtype=np.intp)

    def met(known: np.ndarray, c: np.ndarray) -> np.ndarray:
        missing = (~known & req[:, c].T).any(axis=1)
        if len(gt):
            sat = (known.astype(float) @ gm.T) > 0
            missing |= ((gt[None, :] == c[:, None]) & ~sat).any(axis=1)
        return ~missing

    theta = rng.normal(0.0, 1.0, S)
    learn_rate = np.clip(p_learn * 2 * _sigmoid(theta), 0, 1)
    known = np.zeros((S, K), dtype=bool)
    for k in range(K):  # initial knowledge, in learning order
        c = np.full(S, k)
        p0 = p_initial * np.where(met(known, c), 1.0, gate)
        known[:, k] = rng.random(S) < p0
    order = np.argsort(np.arange(K)[None, :] + rng.normal(0, order_noise, (S, K)), axis=1)
    p_known = _sigmoid(_logit(1 - slip) + 0.5 * theta)
    p_unknown = _sigmoid(_logit(guess) + 0.5 * theta)

    n_steps = K * attempts
    out_c = np.empty((S, n_steps), dtype=np.intp)
    out_y = np.empty((S, n_steps), dtype=np.int8)
    rows = np.arange(S)
    for t in range(n_steps):
        c = order[:, t // attempts]
        kn = known[rows, c]
        y = rng.random(S) < np.where(kn, p_known, p_unknown)
        out_c[:, t], out_y[:, t] = c, y
        p = learn_rate * np.where(met(known, c), 1.0, gate)
        learned = ~kn & (rng.random(S) < p)
        known[rows[learned], c[learned]] = True

    names = np.array(concepts, dtype=object)
    item_k = rng.integers(0, items_per_concept, (S, n_steps))
    cs = names[out_c.ravel()]
    start = pd.Timestamp("2024-09-02 08:00", tz="UTC")
    return pd.DataFrame(
        {
            "student_id": np.repeat([f"s{i:05d}" for i in range(S)], n_steps),
            "item_id": [f"{c}#{k}" for c, k in zip(cs, item_k.ravel())],
            "concept_ids": [(c,) for c in cs],
            "correct": out_y.ravel().astype(np.int8),
            "timestamp": start + pd.to_timedelta(np.tile(np.arange(n_steps), S), unit="min"),
        }
    )

"""Latency of the recommendation pipeline at catalogue scale.

:func:`measure_latency` builds a seeded synthetic catalogue on a shipped graph, gives
it a usage log (so popularity, quality and the collaborative signal have data), takes
``n_students`` simulated learners' true success probabilities as the mastery table (a
realistic spread of frontiers, weak and mastered concepts), fits the default
recommender and times ``recommend_batch`` for all of them (top 10, reasons included)
and ``recommend`` for single students.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

__all__ = ["measure_latency"]


def measure_latency(
    n_students: int = 1000,
    n_resources: int = 10000,
    graph: str = "math-7-9",
    *,
    k: int = 10,
    repeats: int = 3,
    single_calls: int = 50,
    policy: str = "default",
    random_state: int = 0,
) -> dict:
    """Time batch and single-student recommendation (seconds / milliseconds).

    Returns
    -------
    dict
        ``batch_s`` (best of ``repeats`` batch calls), ``one_student_ms`` (median over
        ``single_calls`` calls), the same in CPU time of this process
        (``batch_cpu_s``, ``one_student_cpu_ms``: less sensitive to a shared
        machine, but counting every thread of BLAS), ``fit_s``, ``rows`` (recommendations returned),
        ``students``, ``resources``, ``concepts``.
    """
    from edu_recsys.graph import load_graph
    from edu_recsys.recommend.recommender import make_recommender
    from edu_recsys.resources.synthetic import synthetic_catalogue, synthetic_usage
    from edu_recsys.simulate.learners import GraphLearnerModel

    G = load_graph(graph)
    rng = np.random.default_rng(random_state)
    cat = synthetic_catalogue(G, n_resources, random_state=random_state)
    ids = [f"S{i:05d}" for i in range(n_students)]
    cat = synthetic_usage(cat, n_students=n_students, random_state=random_state)
    model = GraphLearnerModel(G, grade=8)
    P = model.proba_all(model.prior_states(n_students, rng))
    C = len(model.concepts)
    mastery = pd.DataFrame(
        {
            "student_id": np.repeat(ids, C),
            "concept_id": np.tile(list(model.concepts), n_students),
            "mastery": P.ravel(),
            "evidence": rng.poisson(3, n_students * C),
        }
    )
    t0 = time.perf_counter()
    rec = make_recommender(policy, G, random_state=random_state).fit(cat, mastery)
    fit_s = time.perf_counter() - t0
    rec.recommend_batch(ids[:10], k)  # warm caches
    times, cpu = [], []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        out = rec.recommend_batch(ids, k)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    single, single_cpu = [], []
    for i in range(single_calls):
        t0, c0 = time.perf_counter(), time.process_time()
        rec.recommend(ids[i % n_students], k)
        single.append(time.perf_counter() - t0)
        single_cpu.append(time.process_time() - c0)
    return {
        "batch_s": float(min(times)),
        "one_student_ms": float(np.median(single) * 1000),
        "batch_cpu_s": float(min(cpu)),
        "one_student_cpu_ms": float(np.median(single_cpu) * 1000),
        "fit_s": float(fit_s),
        "rows": int(len(out)),
        "students": n_students,
        "resources": n_resources,
        "concepts": C,
    }

"""Run path policies on the same seeded learners and measure the normalised promotion.

For each learner and policy: ``E_start`` = targets mastered at the start (after the
warm-up), the policy runs ``steps`` study steps, ``E_end`` = targets mastered then;
``E_p = (E_end - E_start) / (E_sup - E_start)`` with ``E_sup`` = number of targets (the
normalised promotion of the learning-path literature), averaged over learners with a
95% normal-approximation confidence interval; ``promotion`` is the mean raw
``E_end - E_start``. Every policy meets the same learners and the same answer noise
(each episode is replayed from a fresh copy with its own seed). Planning time is the
wall time a policy spends in ``begin``, ``choose`` and ``observe``, per step
(``ms_per_step``), and the CPU time of the same (``cpu_ms_per_step``: what the
planning costs on a machine that other work does not slow down).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

import numpy as np

from edu_recsys.paths.policies import Policy, make_policy
from edu_recsys.simulate.episodes import PathEnvironment

__all__ = ["evaluate_policies", "summarise"]

log = logging.getLogger(__name__)


def summarise(ep_values: Sequence[float]) -> tuple[float, list[float]]:
    """Mean and 95% normal-approximation CI.

    Examples
    --------
    >>> summarise([0.0, 1.0, 0.5, 0.5])
    (0.5, [0.0999, 0.9001])
    """
    x = np.asarray(ep_values, dtype=float)
    mean = float(x.mean())
    half = 1.96 * float(x.std(ddof=1)) / np.sqrt(len(x)) if len(x) > 1 else float("nan")
    return round(mean, 4), [round(float(mean - half), 4), round(float(mean + half), 4)]


def evaluate_policies(
    env: PathEnvironment,
    policies: Sequence[str | Policy],
    n_learners: int = 1000,
    steps: int = 20,
    *,
    progress: bool = False,
) -> dict:
    """Run every policy on the same ``n_learners`` episodes of ``env``.

    Returns
    -------
    dict
        ``{"env", "learners", "steps", "policies": {name: {"ep", "ep_ci",
        "promotion", "ms_per_step", "cpu_ms_per_step", "ep_values"}}}``.

    Examples
    --------
    >>> from edu_recsys.simulate.kss import KSSEnv
    >>> out = evaluate_policies(KSSEnv(0), ["topological", "greedy-weakest"], 5, 4)
    >>> sorted(out["policies"]), out["learners"]
    (['greedy-weakest', 'topological'], 5)
    """
    pols = [make_policy(p) if isinstance(p, str) else p for p in policies]
    episodes = env.episodes(n_learners)
    out: dict = {"env": env.name, "learners": len(episodes), "steps": int(steps), "policies": {}}
    iterator = episodes
    if progress:
        from tqdm import tqdm

        iterator = tqdm(episodes, desc=f"bench paths {env.name}", unit="learner")
    vals = {p.name: [] for p in pols}
    raw = {p.name: [] for p in pols}
    secs = dict.fromkeys(vals, 0.0)
    cpu = dict.fromkeys(vals, 0.0)
    for base in iterator:
        start = env.exam(base)
        sup = len(base.targets)
        for pol in pols:
            ep = base.fresh()
            t0, c0 = time.perf_counter(), time.process_time()
            pol.begin(env, ep, steps)
            spent, used = time.perf_counter() - t0, time.process_time() - c0
            for _ in range(steps):
                t0, c0 = time.perf_counter(), time.process_time()
                k = pol.choose()
                spent += time.perf_counter() - t0
                used += time.process_time() - c0
                y = env.step(ep, k)
                t0, c0 = time.perf_counter(), time.process_time()
                pol.observe(k, y)
                spent += time.perf_counter() - t0
                used += time.process_time() - c0
            end = env.exam(ep)
            vals[pol.name].append((end - start) / (sup - start))
            raw[pol.name].append(end - start)
            secs[pol.name] += spent
            cpu[pol.name] += used
    for name in vals:
        ep_mean, ci = summarise(vals[name])
        out["policies"][name] = {
            "ep": ep_mean,
            "ep_ci": ci,
            "promotion": round(float(np.mean(raw[name])), 4),
            "ms_per_step": round(1000 * secs[name] / (len(episodes) * steps), 3),
            "cpu_ms_per_step": round(1000 * cpu[name] / (len(episodes) * steps), 3),
            "ep_values": [round(float(v), 4) for v in vals[name]],
        }
    return out

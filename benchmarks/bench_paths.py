"""Learning-path figures: E_p per policy in KSS and on math-7-9, KSS calibration, and
planning time on a 150-concept graph.

Usage::

    nice python benchmarks/bench_paths.py [--learners 1000] [--steps 20] [--seed 0]
        [--json PATH] [--quick] [--parts kss,calibration,math,planning] [--tutor truth|answers]

Parts (each documented in ``docs/paths.md``):

* ``kss``: ``edu-recsys bench paths --env kss`` (20-step warm-up, as the KSS rules say).
* ``calibration``: KSS without warm-up, the setting of the issue's reference figures
  (random ~0.18, topological ~0.14, greedy-weakest ~0.65, one-step lookahead on the
  truth ~0.47, two-step ~0.82), for both readings of the gate rule.
* ``math``: ``edu-recsys bench paths --env math7-9`` (``--tutor`` as there: what the
  episode generator reads, ``truth`` by default).
* ``planning``: planning time per step on a 150-concept graph (the first 150 concepts of
  ``math-7-9`` in learning order): the benchmark policy per step, and
  :class:`~edu_recsys.paths.PathPlanner` re-planning a whole path after each answer.

Planning times are wall clock and CPU time (``time.process_time``); the machine's load
average is recorded, because a shared machine inflates wall times.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np

from edu_recsys.cli._common import format_table, write_json
from edu_recsys.graph import learning_order, load_graph
from edu_recsys.paths import PathPlanner
from edu_recsys.paths.evaluate import evaluate_policies
from edu_recsys.paths.policies import make_policy, planner_settings
from edu_recsys.simulate.graph_env import GraphPathEnv
from edu_recsys.simulate.kss import KSSEnv

POLICIES = [
    "default",
    "random",
    "topological",
    "greedy-weakest",
    "oracle",
    "lookahead1-truth",
    "lookahead2-truth",
]


def _policies(env_name: str, names=POLICIES):
    return [make_policy(n, **planner_settings(env_name, n)) for n in names]


def _table(title: str, out: dict) -> None:
    oracle = out["policies"].get("oracle", {}).get("ep")
    rows = [
        {
            "policy": k,
            "E_p": v["ep"],
            "95% CI": f"[{v['ep_ci'][0]:.3f}, {v['ep_ci'][1]:.3f}]",
            "promotion": v["promotion"],
            "ms/step": v["ms_per_step"],
            "cpu ms/step": v["cpu_ms_per_step"],
            "of oracle": v["ep"] / oracle if oracle else None,
        }
        for k, v in out["policies"].items()
    ]
    print(f"\n{title}")
    print(format_table(rows))


def _strip(out: dict) -> dict:
    for v in out["policies"].values():
        v.pop("ep_values", None)
    return out


def part_kss(args) -> dict:
    env = KSSEnv(args.seed, warmup_steps=20)
    out = evaluate_policies(env, _policies("kss"), args.learners, args.steps, progress=True)
    _table("KSS (20-step warm-up)", out)
    return _strip(out)


def part_calibration(args) -> dict:
    res = {}
    for gate in ("previous", "effective"):
        env = KSSEnv(args.seed, warmup_steps=0, gate_reference=gate)
        out = evaluate_policies(env, _policies("kss"), args.learners, args.steps, progress=True)
        _table(f"KSS calibration: no warm-up, gate reference = {gate}", out)
        res[gate] = _strip(out)
    return res


def part_math(args) -> dict:
    env = GraphPathEnv(load_graph("math-7-9"), args.seed, name="math7-9", tutor=args.tutor)
    out = evaluate_policies(env, _policies("math7-9"), args.learners, args.steps, progress=True)
    _table(f"math-7-9 (20-step warm-up, tutor={args.tutor})", out)
    return _strip(out)


def part_planning(args) -> dict:
    G = load_graph("math-7-9")
    keep = list(learning_order(G))[:150]
    H = G.subgraph(keep).copy()  # closed under prerequisites: a prefix of learning order
    H.graph = dict(G.graph)
    env = GraphPathEnv(H, args.seed, name="math-150")
    n = max(20, args.learners // 10)
    out = evaluate_policies(env, _policies("math-150", ["default"]), n, args.steps)
    pol = out["policies"]["default"]
    # the library planner: a whole path re-planned after each answer
    rng = np.random.default_rng(args.seed)
    targets = [c for c in keep if H.nodes[c].get("grade") == 9][-5:]
    wall, cpu = [], []
    for t in targets:
        mastery = {c: float(rng.uniform(0.2, 0.95)) for c in H}
        planner = PathPlanner(H, t, mastery=mastery, max_steps=args.steps, random_state=0)
        path = planner.plan()
        for _ in range(10):
            c = path.steps[0].concept_id if path.steps else t
            t0, c0 = time.perf_counter(), time.process_time()
            path = planner.observe(c, int(rng.random() < 0.6))
            wall.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
    res = {
        "graph_concepts": H.number_of_nodes(),
        "policy_learners": n,
        "policy_ms_per_step": pol["ms_per_step"],
        "policy_cpu_ms_per_step": pol["cpu_ms_per_step"],
        "policy_ep": pol["ep"],
        "planner_replan_ms_median": round(1000 * statistics.median(wall), 2),
        "planner_replan_cpu_ms_median": round(1000 * statistics.median(cpu), 2),
        "planner_max_steps": args.steps,
    }
    print("\nPlanning time on a 150-concept graph")
    print(format_table([res]))
    return res


PARTS = {"kss": part_kss, "calibration": part_calibration, "math": part_math}
PARTS["planning"] = part_planning


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--learners", type=int, default=1000)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", default=None)
    ap.add_argument("--quick", action="store_true", help="100 learners")
    ap.add_argument("--parts", default=",".join(PARTS))
    ap.add_argument("--tutor", choices=["truth", "answers"], default="truth")
    args = ap.parse_args()
    if args.quick:
        args.learners = 100
    out = {
        "learners": args.learners,
        "steps": args.steps,
        "seed": args.seed,
        "tutor": args.tutor,
        "load_average_at_start": list(os.getloadavg()),
        "cpus": os.cpu_count(),
    }
    for name in args.parts.split(","):
        out[name] = PARTS[name](args)
    out["load_average_at_end"] = list(os.getloadavg())
    write_json(out, args.json)


if __name__ == "__main__":
    main()

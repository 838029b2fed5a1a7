"""``edu-recsys bench paths``: learning-path policies on the same seeded learners.

Usage::

    edu-recsys bench paths --env kss|math7-9 --learners N --steps S --seed K [--json PATH]
        [--policies default,random,...] [--warmup 20] [--gate-reference previous|effective]
        [--tutor truth|answers] [--per-learner]

``--per-learner`` keeps each policy's per-learner ``E_p`` values in the JSON
(``ep_values``, in the same learner order for every policy, for paired comparisons).
With ``default`` and ``oracle`` both run, the paired difference oracle - default
(mean and 95% CI over learners) is printed under the table.

``--tutor`` (math7-9 only) chooses what the episode generator reads: ``truth`` (the
session-1 protocol: the warm-up tutor and the target draw read the hidden state) or
``answers`` (they decide only from the warm-up answers and population figures, see
:class:`~edu_recsys.simulate.graph_env.GraphPathEnv`). KSS keeps its published rules.

Prints a table (E_p mean and 95% CI, raw promotion, planning wall and CPU ms per
step, and the share of the oracle reached) and writes one JSON object::

    {"env": ..., "learners": N, "steps": S,
     "policies": {NAME: {"ep": mean, "ep_ci": [lo, hi], "promotion": ..., "ms_per_step": ...}}}

Planning times are wall-clock on the machine at hand (run it with ``nice`` on a
shared machine; contention inflates them).
"""

from __future__ import annotations

import logging

from edu_recsys.cli._common import format_table, write_json
from edu_recsys.exceptions import EduRecsysError

log = logging.getLogger(__name__)

DEFAULT_POLICIES = (
    "default",
    "random",
    "topological",
    "greedy-weakest",
    "oracle",
    "lookahead1-truth",
    "lookahead2-truth",
)


def _run(args) -> int:
    from edu_recsys.paths.evaluate import evaluate_policies
    from edu_recsys.paths.policies import make_policy, planner_settings

    if args.learners < 1 or args.steps < 1:
        raise EduRecsysError("--learners and --steps must be at least 1")
    if args.warmup < 0:
        raise EduRecsysError("--warmup must be >= 0")
    names = [p.strip() for p in args.policies.split(",") if p.strip()]
    if not names:
        raise EduRecsysError("--policies is empty")
    if args.env == "kss" and args.tutor not in (None, "truth"):
        raise EduRecsysError("--tutor answers is for --env math7-9 (KSS keeps its published rules)")
    if args.env == "kss":
        from edu_recsys.simulate.kss import KSSEnv

        env = KSSEnv(args.seed, warmup_steps=args.warmup, gate_reference=args.gate_reference)
    else:
        from edu_recsys.graph import load_graph
        from edu_recsys.simulate.graph_env import GraphPathEnv

        env = GraphPathEnv(
            load_graph("math-7-9"),
            args.seed,
            warmup_steps=args.warmup,
            name="math7-9",
            tutor=args.tutor or "truth",
        )
    try:
        policies = [make_policy(n, **planner_settings(args.env, n)) for n in names]
    except ValueError as e:
        raise EduRecsysError(str(e)) from None
    out = evaluate_policies(env, policies, args.learners, args.steps, progress=not args.no_progress)
    oracle = out["policies"].get("oracle", {}).get("ep")
    paired = None
    if "default" in out["policies"] and "oracle" in out["policies"]:
        import numpy as np

        d = np.subtract(
            out["policies"]["oracle"]["ep_values"], out["policies"]["default"]["ep_values"]
        )
        half = 1.96 * float(d.std(ddof=1)) / np.sqrt(len(d)) if len(d) > 1 else float("nan")
        paired = (float(d.mean()), half)
    rows = []
    for name, r in out["policies"].items():
        rows.append(
            {
                "policy": name,
                "E_p": r["ep"],
                "95% CI": f"[{r['ep_ci'][0]:.3f}, {r['ep_ci'][1]:.3f}]",
                "promotion": r["promotion"],
                "ms/step": r["ms_per_step"],
                "cpu ms/step": r["cpu_ms_per_step"],
                "of oracle": (r["ep"] / oracle) if oracle else None,
            }
        )
        # the JSON keeps the contract's keys only (and the per-learner values on request)
        for extra in ("cpu_ms_per_step",) if args.per_learner else ("ep_values", "cpu_ms_per_step"):
            r.pop(extra, None)
    tutor = f" tutor={args.tutor or 'truth'}" if args.env != "kss" else ""
    print(
        f"bench paths: env={out['env']} learners={out['learners']} steps={out['steps']} "
        f"seed={args.seed} warmup={args.warmup}{tutor}"
    )
    print(format_table(rows))
    if paired is not None:
        print(
            f"paired oracle - default: {paired[0]:+.4f} +/- {paired[1]:.4f} (95% CI over "
            f"learners); default / oracle = {out['policies']['default']['ep'] / oracle:.4f}"
            if oracle
            else f"paired oracle - default: {paired[0]:+.4f} +/- {paired[1]:.4f}"
        )
    write_json(out, args.json)
    return 0


def register(sub) -> None:
    p = sub.add_parser(
        "paths",
        help="learning-path policies in a simulator (E_p per policy)",
        description="Run every policy on the same seeded learners; E_p, promotion, ms/step.",
    )
    p.add_argument("--env", choices=["kss", "math7-9"], default="kss")
    p.add_argument("--learners", type=int, default=1000)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", default=None, help="write the figures as JSON (- for stdout)")
    p.add_argument(
        "--policies",
        default=",".join(DEFAULT_POLICIES),
        help="comma-separated policy names (default: %(default)s)",
    )
    p.add_argument("--warmup", type=int, default=20, help="warm-up steps per learner")
    p.add_argument(
        "--gate-reference",
        choices=["previous", "effective"],
        default="previous",
        help="KSS only: what the gate compares a step with (see docs/paths.md)",
    )
    p.add_argument(
        "--tutor",
        choices=["truth", "answers"],
        default=None,
        help="math7-9 only: what the warm-up tutor and the target draw read "
        "(truth: the hidden state, the session-1 protocol and the default; answers: "
        "only the warm-up answers and population figures)",
    )
    p.add_argument(
        "--per-learner",
        action="store_true",
        help="keep each policy's per-learner E_p values (ep_values) in the JSON",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=_run)

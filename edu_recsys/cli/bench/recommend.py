"""``edu-recsys bench recommend [--json PATH]``: recommendation policies compared.

Three parts (each documented in ``docs/recommend.md``):

1. learning gain per minute of each policy in the learner simulator
   (:func:`edu_recsys.recommend.simulation.simulate_policies`);
2. NDCG@10 on held-out real lecture usage (EdNet KT4 sample; ``null`` when the data
   directory is absent) (:func:`edu_recsys.recommend.offline.ednet_ranking_eval`);
3. latency: 1,000 students x 10,000 resources in one batch, and one student
   (:func:`edu_recsys.recommend.latency.measure_latency`).

The JSON object: ``{"env", "students", "steps", "policies": {NAME: {"gain_per_minute",
"gain_per_minute_ci", "ndcg_at_10"}}, "latency": {"batch_1000x10000_s",
"one_student_ms"}}``.
"""

from __future__ import annotations

import logging
import os

from edu_recsys.cli._common import add_data_dir_option, format_table, write_json

log = logging.getLogger(__name__)

POLICIES = ("default", "popularity", "random", "quality-only", "mastery-only")
#: The simulated learners' grade (on math-7-9: grade 7 taught, grade 9 not yet).
GRADE = 8


def _run(args) -> int:
    from edu_recsys.datasets import DataNotFoundError
    from edu_recsys.graph import load_graph
    from edu_recsys.recommend import make_recommender
    from edu_recsys.recommend.latency import measure_latency
    from edu_recsys.recommend.offline import ednet_ranking_eval
    from edu_recsys.recommend.simulation import pool_results, simulate_policies

    policies = list(POLICIES)
    G = load_graph(args.graph)
    if args.quick:
        args.students, args.steps, args.history, args.seeds = 40, 8, 80, 1
    calibrate = args.observe == "tracer" and not args.no_calibrate
    # with the library's tracer the recommenders calibrate its table like the observer
    extra = {"grade": GRADE, "calibrate": True} if calibrate else {}
    runs = [
        simulate_policies(
            args.graph,
            policies=policies,
            make=lambda p, s=seed: make_recommender(p, G, random_state=s, **extra),
            n_students=args.students,
            steps=args.steps,
            n_history=args.history,
            random_state=seed,
            grade=GRADE,
            start=args.start,
            observe=args.observe,
            observer_decay=args.observer_decay,
            grade_prior=None if args.no_grade_prior else (0.85, 0.15),
            tracer=args.tracer,
            calibrate=not args.no_calibrate,
            progress=not args.no_progress,
        )
        for seed in range(args.seed, args.seed + args.seeds)
    ]
    sim = pool_results(runs)
    load = list(os.getloadavg())
    ndcg: dict[str, float | None] = {p: None for p in policies}
    if not args.no_ranking:
        try:
            rank = ednet_ranking_eval(
                policies,
                lambda p: make_recommender(p, random_state=args.seed),
                data_dir=args.data_dir,
            )
            ndcg = dict(zip(rank["policy"], rank["ndcg_at_10"]))
        except DataNotFoundError as e:
            log.warning("ranking metrics skipped: %s", e)
    latency = {"batch_1000x10000_s": None, "one_student_ms": None}
    if not args.no_latency:
        n_s, n_r = (200, 2000) if args.quick else (1000, 10000)
        lat = measure_latency(n_s, n_r, args.graph, random_state=args.seed)
        latency = {
            "batch_1000x10000_s": lat["batch_s"],
            "one_student_ms": lat["one_student_ms"],
            "batch_1000x10000_cpu_s": lat.get("batch_cpu_s"),
            "one_student_cpu_ms": lat.get("one_student_cpu_ms"),
        }
        if args.quick:
            latency = {"batch_1000x10000_s": None, "one_student_ms": lat["one_student_ms"]}
        latency["load_average"] = list(os.getloadavg())
    out = {
        "env": sim.env,
        "students": sim.students,
        "steps": sim.steps,
        "policies": {
            p: {
                "gain_per_minute": sim.policies[p]["gain_per_minute"],
                "gain_per_minute_ci": sim.policies[p]["gain_per_minute_ci"],
                "ndcg_at_10": ndcg.get(p),
                "x_popularity": sim.policies[p]["x_popularity"],
                "x_popularity_ci": sim.policies[p]["x_popularity_ci"],
                "per_seed": sim.policies[p]["per_seed"],
                "minutes": sim.policies[p]["minutes"],
                "mastery_mae": sim.policies[p]["mastery_mae"],
            }
            for p in policies
        },
        "seeds": list(range(args.seed, args.seed + args.seeds)),
        "settings": {
            "observe": args.observe,
            "observer_decay": args.observer_decay,
            "grade_prior": None if args.no_grade_prior else [0.85, 0.15],
            "start": args.start,
            "history": args.history,
            "load_average_after_simulation": load,
            "tracer": args.tracer if args.observe == "tracer" else None,
            "calibrate": calibrate if args.observe == "tracer" else None,
        },
        "latency": latency,
    }
    rows = [
        {
            "policy": p,
            "gain/min": v["gain_per_minute"],
            "95% CI": v["gain_per_minute_ci"],
            "x popularity": v["x_popularity"],
            "95% CI (x pop.)": v["x_popularity_ci"],
            "per seed": sim.policies[p]["per_seed"],
            "minutes": sim.policies[p]["minutes"],
            "NDCG@10 (EdNet)": ndcg.get(p),
        }
        for p, v in out["policies"].items()
    ]
    print(f"env: {sim.env}; {sim.students} students x {sim.steps} steps")
    print(format_table(rows))
    print(
        "latency: batch 1000x10000 = "
        + (f"{latency['batch_1000x10000_s']:.3f} s" if latency["batch_1000x10000_s"] else "-")
        + "; one student = "
        + (f"{latency['one_student_ms']:.1f} ms" if latency["one_student_ms"] else "-")
        + (
            f" (CPU {latency['batch_1000x10000_cpu_s']:.3f} s, "
            f"{latency['one_student_cpu_ms']:.1f} ms; load {latency['load_average'][0]:.2f})"
            if latency.get("batch_1000x10000_cpu_s") is not None
            else ""
        )
    )
    write_json(out, args.json)
    return 0


def register(sub) -> None:
    p = sub.add_parser(
        "recommend",
        help="recommendation policies: gain per minute in simulation, NDCG, latency",
        description="Compare the default recommender with the popularity, random, "
        "quality-only and mastery-only baselines (same seeds).",
    )
    p.add_argument("--json", metavar="PATH", help="write the figures as JSON ('-': stdout)")
    p.add_argument("--graph", default="math-7-9", help="shipped graph name or file")
    p.add_argument("--students", type=int, default=200, help="evaluation learners")
    p.add_argument("--steps", type=int, default=20, help="study steps per learner")
    p.add_argument("--history", type=int, default=300, help="learners in the platform history")
    p.add_argument(
        "--seed", type=int, default=100, help="first seed (0-99 were used while developing)"
    )
    p.add_argument(
        "--seeds", type=int, default=3, help="number of seeds (worlds) pooled (default 3)"
    )
    p.add_argument(
        "--start",
        choices=("history", "diagnostic"),
        default="history",
        help="evaluation learners known from the platform history (default) or new",
    )
    p.add_argument(
        "--observe",
        choices=("answers", "tracer", "true"),
        default="answers",
        help="policies see mastery estimated from answers (Beta-smoothed accuracy, "
        "default), from the library's tracer (fitted once on the training learners, "
        "online state, calibrated with the grades), or the true state",
    )
    p.add_argument("--tracer", default="default", help="mastery preset for --observe tracer")
    p.add_argument(
        "--no-calibrate",
        action="store_true",
        help="--observe tracer: use the tracer's values as they are (no grade calibration)",
    )
    p.add_argument(
        "--observer-decay",
        type=float,
        default=0.5,
        help="--observe answers: weight of an answer per later answer on its concept "
        "(1: all answers alike)",
    )
    p.add_argument(
        "--no-grade-prior",
        action="store_true",
        help="--observe answers: no grade-based prior (every concept starts from the "
        "history mean, as in the first version)",
    )
    p.add_argument("--quick", action="store_true", help="small settings (smoke run)")
    p.add_argument("--no-latency", action="store_true")
    p.add_argument("--no-ranking", action="store_true")
    p.add_argument("--no-progress", action="store_true")
    add_data_dir_option(p)
    p.set_defaults(func=_run)

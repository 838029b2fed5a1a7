"""Classroom figures: speed of the teacher's view, and what personalised homework buys.

Usage::

    nice python benchmarks/bench_classroom.py [--json PATH] [--classes 5] [--evenings 3]
        [--budget 30] [--repeat 5] [--seed 0] [--skip-speed] [--skip-homework]

1. **Speed** (issue figure: <= 1 s): a simulated class of 50 students on a 150-concept
   graph (the first 150 concepts of ``math-7-9`` in learning order), three weeks of
   practice, the default tracer fitted; then, timed (median of ``--repeat`` runs):
   mastery of every student x concept, predicted success on every item, class report,
   teaching groups and homework for everyone.

2. **Personalised vs same-for-everyone homework** in the simulator: ``--classes``
   simulated grade-8 classes of 40 on ``math-7-9`` (three weeks of lessons), the default
   tracer fitted on their answers. Two copies of each class's learner environment start
   from the same true state; for ``--evenings`` evenings one copy does the personalised
   homework (:func:`edu_recsys.classroom.personal_homework`), the other the class's
   common set (:func:`edu_recsys.classroom.class_homework`), both within the same
   ``--budget`` minutes. Each evening's answers are added to that arm's history (mastery
   re-estimated without refitting). Learning = the sum over all concepts of the change
   in the *true* success probability (the simulator's hidden state), net of what a third
   copy without homework gains (forgetting included); per minute = summed over students
   and divided by the minutes actually spent. A fourth copy gets personalised homework
   computed from the simulator's true state (``personal_oracle``: what a perfectly
   calibrated tracer would give). Reported: per arm with a 95 % bootstrap CI over
   students, and personal - uniform with its (paired) CI.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import pandas as pd

from edu_recsys.classroom import (
    HomeworkPolicy,
    class_homework,
    class_report,
    item_bank,
    mastery_matrix,
    personal_homework,
    predict_success,
    teaching_groups,
    useful_items,
)
from edu_recsys.cli._common import format_table, write_json
from edu_recsys.graph import learning_order, load_graph
from edu_recsys.mastery import make_model
from edu_recsys.simulate import simulate_class


def speed(repeat: int, seed: int) -> dict:
    G = load_graph("math-7-9")
    keep = list(learning_order(G))[:150]
    G150 = G.subgraph(keep).copy()
    sim = simulate_class(G150, n_students=50, weeks=3, random_state=seed, grade=8)
    hist = sim.interactions
    t = time.perf_counter()
    tracer = make_model("default").fit(hist)
    fit_s = time.perf_counter() - t
    students = sim.students["student_id"].tolist()
    unit = G150.nodes[sim.schedule["concept_id"].iloc[-1]]["unit"]
    bank = item_bank(sim.items)
    steps: dict[str, list[float]] = {
        k: [] for k in ("mastery", "predict", "report", "groups", "homework", "total")
    }
    for _ in range(repeat):
        t0 = time.perf_counter()
        long = tracer.mastery(hist, students=students, concepts=list(G150))
        t1 = time.perf_counter()
        M = mastery_matrix(long, students, G150)
        useful = useful_items(bank, M, G150, grade=8, current_unit=unit)
        p = predict_success(tracer, hist, students, useful)
        t2 = time.perf_counter()
        class_report(M, G150, current_unit=unit)
        t3 = time.perf_counter()
        teaching_groups(M, G150, random_state=seed)
        t4 = time.perf_counter()
        personal_homework(
            M, G150, bank, grade=8, p_success=p, history=hist, current_unit=unit,
            budget_minutes=30,
        )  # fmt: skip
        t5 = time.perf_counter()
        for k, v in zip(steps, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4, t5 - t0)):
            steps[k].append(v)
    med = {f"{k}_s": statistics.median(v) for k, v in steps.items()}
    return {
        "students": 50,
        "concepts": G150.number_of_nodes(),
        "items": len(bank),
        "answers": len(hist),
        "fit_s": fit_s,
        "repeat": repeat,
        **med,
    }


def _apply(env, sets: pd.DataFrame, students: list[str]) -> tuple[pd.Series, pd.DataFrame]:
    """Every student does their items in order; returns (minutes per student, new answers)."""
    n_before = len(env.interactions)
    minutes = dict.fromkeys(students, 0.0)
    by_student = {s: g["item_id"].tolist() for s, g in sets.groupby("student_id", sort=False)}
    longest = max((len(v) for v in by_student.values()), default=0)
    for k in range(longest):
        who = [s for s in students if len(by_student.get(s, [])) > k]
        for r in env.answer_many(who, [by_student[s][k] for s in who]):
            minutes[r.student_id] += r.minutes
    new = env.interactions.iloc[n_before:] if n_before else env.interactions
    return pd.Series(minutes), new


def _true_inputs(env, long: pd.DataFrame, students: list[str], bank: pd.DataFrame, G):
    """The simulator's hidden truth in the shapes the homework takes (the oracle arm)."""
    T = env.true_mastery(students)
    true_long = T.stack().rename("mastery").reset_index()
    ev = long.set_index(["student_id", "concept_id"])["evidence"]
    true_long["evidence"] = (
        ev.reindex(pd.MultiIndex.from_frame(true_long[["student_id", "concept_id"]]))
        .fillna(0)
        .to_numpy()
    )
    rows = np.repeat(np.arange(len(students)), len(bank))
    spos = {s: i for i, s in enumerate(env.students)}
    ipos = {str(i): j for j, i in enumerate(env.items["item_id"])}
    srows = np.array([spos[s] for s in students])[rows]
    items = np.tile(np.array([ipos[i] for i in bank["item_id"]]), len(students))
    p = pd.DataFrame(
        {
            "student_id": np.array(students, dtype=object)[rows],
            "item_id": np.tile(bank["item_id"].to_numpy(dtype=object), len(students)),
            "p_success": env.item_proba(srows, items),
        }
    )
    return mastery_matrix(true_long, students, G), p


ARMS = ("personal", "uniform", "personal_oracle", "none")


def homework_experiment(
    classes: int, evenings: int, budget: float, seed: int, review_share: float = 0.2
) -> dict:
    G = load_graph("math-7-9")
    policy = HomeworkPolicy(review_share=review_share)
    gain: dict[str, list[float]] = {a: [] for a in ARMS}
    spent: dict[str, list[float]] = {a: [] for a in ARMS}
    for c in range(classes):
        sim = simulate_class(G, n_students=40, weeks=3, random_state=seed + c, grade=8)
        tracer = make_model("default").fit(sim.interactions)
        students = sim.students["student_id"].tolist()
        unit = G.nodes[sim.schedule["concept_id"].iloc[-1]]["unit"]
        bank = item_bank(sim.items)
        envs = {a: sim.env.copy() for a in ARMS}
        hists = dict.fromkeys(ARMS, sim.interactions)
        start = {a: envs[a].true_mastery(students) for a in ARMS}
        minutes = {a: pd.Series(0.0, index=students) for a in ARMS}
        for e in range(evenings):
            for arm, env in envs.items():
                hist = hists[arm]
                if arm != "none":
                    long = tracer.mastery(hist, students=students, concepts=list(G))
                    M = mastery_matrix(long, students, G)
                    if arm == "personal_oracle":
                        M, p = _true_inputs(env, long, students, bank, G)
                    else:
                        useful = useful_items(bank, M, G, grade=8, current_unit=unit)
                        p = predict_success(tracer, hist, students, useful)
                    kw = dict(grade=8, p_success=p, current_unit=unit, budget_minutes=budget,
                              random_state=seed + e, policy=policy)  # fmt: skip
                    hw = (
                        class_homework(M, G, bank, **kw)
                        if arm == "uniform"
                        else personal_homework(M, G, bank, history=hist, **kw)
                    )
                    mins, new = _apply(env, hw.items, students)
                    minutes[arm] = minutes[arm].add(mins, fill_value=0)
                    hists[arm] = pd.concat([hist, new], ignore_index=True)
                env.advance(days=1)
        for arm, env in envs.items():
            # learning: sum over concepts of the change of the true success probability
            gain[arm].extend((env.true_mastery(students) - start[arm]).sum(axis=1).tolist())
            spent[arm].extend(minutes[arm].tolist())
    base = np.array(gain["none"])
    out: dict = {
        "classes": classes,
        "students": 40 * classes,
        "evenings": evenings,
        "budget_minutes": budget,
        "review_share": review_share,
        "metric": "sum over students of (gain - gain without homework) / sum of minutes",
    }
    rng = np.random.default_rng(seed)
    boot = rng.integers(0, len(base), (2000, len(base)))

    def per_minute(arm: str, idx=None) -> np.ndarray | float:
        eff = np.array(gain[arm]) - base
        mins = np.array(spent[arm])
        if idx is None:
            return float(eff.sum() / max(mins.sum(), 1e-9))
        return eff[idx].sum(axis=1) / np.maximum(mins[idx].sum(axis=1), 1e-9)

    for arm in ARMS[:-1]:
        b = per_minute(arm, boot)
        out[arm] = {
            "gain_per_minute": per_minute(arm),
            "gain_per_minute_ci": [float(np.quantile(b, 0.025)), float(np.quantile(b, 0.975))],
            "gain_vs_none": float(np.mean(np.array(gain[arm]) - base)),
            "minutes": float(np.mean(spent[arm])),
        }
    d = per_minute("personal", boot) - per_minute("uniform", boot)
    out["personal_minus_uniform"] = {
        "mean": per_minute("personal") - per_minute("uniform"),
        "ci": [float(np.quantile(d, 0.025)), float(np.quantile(d, 0.975))],
    }
    out["ratio"] = per_minute("personal") / per_minute("uniform")
    out["ratio_oracle"] = per_minute("personal_oracle") / per_minute("uniform")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json")
    ap.add_argument("--classes", type=int, default=5)
    ap.add_argument("--evenings", type=int, default=3)
    ap.add_argument("--budget", type=float, default=30.0)
    ap.add_argument(
        "--review-share", type=float, default=0.2, help="homework policy's review share"
    )
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--skip-speed", action="store_true")
    ap.add_argument("--skip-homework", action="store_true")
    args = ap.parse_args()
    result: dict = {"benchmark": "classroom"}
    if not args.skip_speed:
        result["speed"] = speed(args.repeat, args.seed)
        print(format_table([{"step": k, "seconds": v} for k, v in result["speed"].items()
                            if k.endswith("_s")]))  # fmt: skip
    if not args.skip_homework:
        h = homework_experiment(
            args.classes, args.evenings, args.budget, args.seed, args.review_share
        )
        result["homework"] = h
        print(format_table([{"arm": a, **h[a]} for a in ARMS[:-1]]))
        print(
            f"personal - uniform: {h['personal_minus_uniform']}, ratio {h['ratio']:.3f} "
            f"(oracle {h['ratio_oracle']:.3f})"
        )
    write_json(result, args.json or "-")


if __name__ == "__main__":
    main()

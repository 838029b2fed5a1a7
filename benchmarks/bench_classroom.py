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
   in the *true* success probability (the simulator's hidden state); per minute = divided
   by the minutes actually spent. Reported: mean per arm with a 95 % bootstrap CI over
   students, and the paired per-student difference with its CI.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import pandas as pd

from edu_recsys.classroom import (
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


def bootstrap_ci(x: np.ndarray, n_boot: int = 2000, seed: int = 0) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    x = np.asarray(x, float)
    means = x[rng.integers(0, len(x), (n_boot, len(x)))].mean(axis=1)
    return float(np.quantile(means, 0.025)), float(np.quantile(means, 0.975))


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


def homework_experiment(classes: int, evenings: int, budget: float, seed: int) -> dict:
    G = load_graph("math-7-9")
    gains = {"personal": [], "uniform": []}
    per_min = {"personal": [], "uniform": []}
    minutes = {"personal": [], "uniform": []}
    for c in range(classes):
        sim = simulate_class(G, n_students=40, weeks=3, random_state=seed + c, grade=8)
        tracer = make_model("default").fit(sim.interactions)
        students = sim.students["student_id"].tolist()
        unit = G.nodes[sim.schedule["concept_id"].iloc[-1]]["unit"]
        bank = item_bank(sim.items)
        envs = {"personal": sim.env.copy(), "uniform": sim.env.copy()}
        hists = {"personal": sim.interactions, "uniform": sim.interactions}
        start = {a: envs[a].true_mastery(students) for a in envs}
        spent = {a: pd.Series(0.0, index=students) for a in envs}
        for e in range(evenings):
            for arm, env in envs.items():
                hist = hists[arm]
                long = tracer.mastery(hist, students=students, concepts=list(G))
                M = mastery_matrix(long, students, G)
                useful = useful_items(bank, M, G, grade=8, current_unit=unit)
                p = predict_success(tracer, hist, students, useful)
                kw = dict(grade=8, p_success=p, current_unit=unit, budget_minutes=budget,
                          random_state=seed + e)  # fmt: skip
                hw = (
                    personal_homework(M, G, bank, history=hist, **kw)
                    if arm == "personal"
                    else class_homework(M, G, bank, **kw)
                )
                mins, new = _apply(env, hw.items, students)
                spent[arm] = spent[arm].add(mins, fill_value=0)
                hists[arm] = pd.concat([hist, new], ignore_index=True)
                env.advance(days=1)
        for arm, env in envs.items():
            end = env.true_mastery(students)
            g = (end - start[arm]).sum(axis=1)  # concept units of true success probability
            gains[arm].extend(g.tolist())
            minutes[arm].extend(spent[arm].tolist())
            per_min[arm].extend((g / spent[arm].clip(lower=1e-9)).tolist())
    out = {"classes": classes, "students": 40 * classes, "evenings": evenings, "budget": budget}
    for arm in gains:
        x = np.array(per_min[arm])
        out[arm] = {
            "gain_per_minute": float(x.mean()),
            "gain_per_minute_ci": bootstrap_ci(x, seed=seed),
            "gain": float(np.mean(gains[arm])),
            "minutes": float(np.mean(minutes[arm])),
        }
    d = np.array(per_min["personal"]) - np.array(per_min["uniform"])
    out["paired_difference"] = {"mean": float(d.mean()), "ci": bootstrap_ci(d, seed=seed + 1)}
    out["ratio"] = out["personal"]["gain_per_minute"] / out["uniform"]["gain_per_minute"]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json")
    ap.add_argument("--classes", type=int, default=5)
    ap.add_argument("--evenings", type=int, default=3)
    ap.add_argument("--budget", type=float, default=30.0)
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
        h = homework_experiment(args.classes, args.evenings, args.budget, args.seed)
        result["homework"] = h
        print(
            format_table(
                [{"arm": a, **{k: v for k, v in h[a].items()}} for a in ("personal", "uniform")]
            )
        )
        print(f"paired difference {h['paired_difference']}, ratio {h['ratio']:.3f}")
    write_json(result, args.json or "-")


if __name__ == "__main__":
    main()

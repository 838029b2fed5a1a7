"""Classroom figures: speed of the teacher's view, and what personalised homework buys.

Usage::

    nice python benchmarks/bench_classroom.py [--json PATH] [--classes 5] [--evenings 3]
        [--budget 30] [--repeat 5] [--seed 0] [--tracer default] [--skip-speed]
        [--skip-homework]

1. **Speed** (issue figure: <= 1 s): a simulated class of 50 students on a 150-concept
   graph (the first 150 concepts of ``math-7-9`` in learning order), three weeks of
   practice, the tracer fitted; then, timed (median of ``--repeat`` runs, wall and CPU
   time): mastery of every student x concept, class calibration, predicted success on
   the choosable items, class report, teaching groups and homework for everyone.

2. **Personalised vs same-for-everyone homework** in the simulator: ``--classes``
   simulated grade-8 classes of 40 on ``math-7-9`` (three weeks of lessons; class ``c``
   uses seed ``--seed + c``), the tracer fitted on their answers. Copies of each
   class's learner environment start from the same true state; for ``--evenings``
   evenings each copy does one arm's homework, every arm within the same ``--budget``
   minutes a day:

   - ``personal``: :func:`edu_recsys.classroom.personal_homework` as the library does
     it (tracer mastery calibrated for the class, predicted success moved with it);
   - ``uniform``: :func:`edu_recsys.classroom.class_homework`, the class's common set
     from the same calibrated inputs (the two differ only in personalisation);
   - ``personal_tracer`` / ``uniform_tracer``: the same without the calibration (the
     tracer's own mastery; the previous version of this benchmark);
   - ``personal_oracle``: personalised homework from the simulator's true state (what
     a perfect tracer would give; a reference, not available to a school);
   - ``none``: no homework (the baseline every gain is net of).

   Each evening's answers are added to that arm's history (mastery re-estimated with
   the fitted tracer, not refitted). Learning = the sum over all concepts of the change
   in the *true* success probability (the simulator's hidden state), net of the
   ``none`` copy (forgetting included); per minute = summed over students and divided
   by the minutes actually spent. Reported: per arm with a 95 % bootstrap CI over
   students; ``personal`` minus each uniform arm per minute, paired (the same students
   resampled in both arms), with its 95 % CI; the ratio per class.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np
import pandas as pd

from edu_recsys.classroom import (
    calibrate_mastery,
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

STEPS = ("mastery", "calibrate", "predict", "report", "groups", "homework", "total")


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def speed(repeat: int, seed: int, tracer_name: str = "default") -> dict:
    G = load_graph("math-7-9")
    keep = list(learning_order(G))[:150]
    G150 = G.subgraph(keep).copy()
    sim = simulate_class(G150, n_students=50, weeks=3, random_state=seed, grade=8)
    hist = sim.interactions
    t = time.perf_counter()
    tracer = make_model(tracer_name).fit(hist)
    fit_s = time.perf_counter() - t
    students = sim.students["student_id"].tolist()
    unit = G150.nodes[sim.schedule["concept_id"].iloc[-1]]["unit"]
    bank = item_bank(sim.items)
    wall: dict[str, list[float]] = {k: [] for k in STEPS}
    cpu: dict[str, list[float]] = {k: [] for k in STEPS}
    load_before = _load()
    for _ in range(repeat):
        marks: list[tuple[float, float]] = []

        def mark(marks: list = marks) -> None:
            marks.append((time.perf_counter(), time.process_time()))

        mark()

        long = tracer.mastery(hist, students=students, concepts=list(G150))
        mark()
        cal = calibrate_mastery(long, G150, grade=8, history=hist, roster=students)
        M = cal.matrix
        mark()
        useful = useful_items(bank, M, G150, grade=8, current_unit=unit)
        p = cal.shift_success(predict_success(tracer, hist, students, useful), bank)
        mark()
        class_report(M, G150, current_unit=unit)
        mark()
        teaching_groups(M, G150, random_state=seed)
        mark()
        personal_homework(
            M, G150, bank, grade=8, p_success=p, history=hist, current_unit=unit,
            budget_minutes=30,
        )  # fmt: skip
        mark()
        for k, (a, b) in zip(STEPS, zip(marks, marks[1:])):
            wall[k].append(b[0] - a[0])
            cpu[k].append(b[1] - a[1])
        wall["total"].append(marks[-1][0] - marks[0][0])
        cpu["total"].append(marks[-1][1] - marks[0][1])
    out = {
        "students": 50,
        "concepts": G150.number_of_nodes(),
        "items": len(bank),
        "useful_items": len(useful),
        "answers": len(hist),
        "tracer": tracer_name,
        "fit_s": fit_s,
        "repeat": repeat,
        "loadavg_before": load_before,
        "loadavg_after": _load(),
    }
    for k in STEPS:
        out[f"{k}_s"] = statistics.median(wall[k])
        out[f"{k}_cpu_s"] = statistics.median(cpu[k])
    out["total_s_max"] = max(wall["total"])
    return out


def _apply(env, sets: pd.DataFrame, students: list[str]) -> tuple[pd.Series, pd.DataFrame]:
    """Every student does their items in order; returns (minutes per student, new answers).

    The new answers are selected by event id: ``env.interactions`` is sorted by student
    and time, so its last rows are not the newest ones (before 2026-11-29 this took the
    tail of the sorted log, and the arms' histories missed most of the homework answers).
    """
    seen = set(env.interactions["event_id"])
    minutes = dict.fromkeys(students, 0.0)
    by_student = {s: g["item_id"].tolist() for s, g in sets.groupby("student_id", sort=False)}
    longest = max((len(v) for v in by_student.values()), default=0)
    for k in range(longest):
        who = [s for s in students if len(by_student.get(s, [])) > k]
        for r in env.answer_many(who, [by_student[s][k] for s in who]):
            minutes[r.student_id] += r.minutes
    log = env.interactions
    return pd.Series(minutes), log[~log["event_id"].isin(seen)]


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


#: arm -> (homework kind, inputs): inputs "cal" = library default, "tracer" = uncalibrated
ARMS = {
    "personal": ("personal", "cal"),
    "uniform": ("uniform", "cal"),
    "personal_tracer": ("personal", "tracer"),
    "uniform_tracer": ("uniform", "tracer"),
    "personal_oracle": ("personal", "oracle"),
    "none": (None, None),
}


def _homework_inputs(how, tracer, env, hist, students, bank, G, unit):
    long = tracer.mastery(hist, students=students, concepts=list(G))
    if how == "oracle":
        return _true_inputs(env, long, students, bank, G)
    if how == "cal":
        cal = calibrate_mastery(long, G, grade=8, history=hist, roster=students)
        M = cal.matrix
    else:
        M = mastery_matrix(long, students, G)
    useful = useful_items(bank, M, G, grade=8, current_unit=unit)
    p = predict_success(tracer, hist, students, useful)
    return M, cal.shift_success(p, bank) if how == "cal" else p


def homework_experiment(
    classes: int,
    evenings: int,
    budget: float,
    seed: int,
    review_share: float = 0.2,
    tracer_name: str = "default",
) -> dict:
    from edu_recsys.classroom import HomeworkPolicy

    G = load_graph("math-7-9")
    policy = HomeworkPolicy(review_share=review_share)
    gain: dict[str, list[float]] = {a: [] for a in ARMS}
    spent: dict[str, list[float]] = {a: [] for a in ARMS}
    class_of: list[int] = []
    for c in range(classes):
        sim = simulate_class(G, n_students=40, weeks=3, random_state=seed + c, grade=8)
        tracer = make_model(tracer_name).fit(sim.interactions)
        students = sim.students["student_id"].tolist()
        unit = G.nodes[sim.schedule["concept_id"].iloc[-1]]["unit"]
        bank = item_bank(sim.items)
        envs = {a: sim.env.copy() for a in ARMS}
        hists = dict.fromkeys(ARMS, sim.interactions)
        start = {a: envs[a].true_mastery(students) for a in ARMS}
        minutes = {a: pd.Series(0.0, index=students) for a in ARMS}
        for e in range(evenings):
            for arm, env in envs.items():
                kind, how = ARMS[arm]
                hist = hists[arm]
                if kind is not None:
                    M, p = _homework_inputs(how, tracer, env, hist, students, bank, G, unit)
                    kw = dict(grade=8, p_success=p, current_unit=unit, budget_minutes=budget,
                              random_state=seed + e, policy=policy, history=hist,
                              calibrate=False)  # fmt: skip
                    hw = (
                        class_homework(M, G, bank, **kw)
                        if kind == "uniform"
                        else personal_homework(M, G, bank, **kw)
                    )
                    mins, new = _apply(env, hw.items, students)
                    minutes[arm] = minutes[arm].add(mins, fill_value=0)
                    hists[arm] = (
                        pd.concat([hist, new], ignore_index=True)
                        .sort_values(["student_id", "timestamp"], kind="stable")
                        .reset_index(drop=True)
                    )
                env.advance(days=1)
        for arm, env in envs.items():
            # learning: sum over concepts of the change of the true success probability
            gain[arm].extend((env.true_mastery(students) - start[arm]).sum(axis=1).tolist())
            spent[arm].extend(minutes[arm].tolist())
        class_of.extend([c] * len(students))
    base = np.array(gain["none"])
    cls = np.array(class_of)
    out: dict = {
        "classes": classes,
        "seeds": [seed + c for c in range(classes)],
        "students": len(base),
        "evenings": evenings,
        "budget_minutes": budget,
        "review_share": review_share,
        "tracer": tracer_name,
        "metric": "sum over students of (gain - gain without homework) / sum of minutes",
    }
    rng = np.random.default_rng(seed)
    boot = rng.integers(0, len(base), (2000, len(base)))

    def per_minute(arm: str, idx=None) -> np.ndarray | float:
        eff = np.array(gain[arm]) - base
        mins = np.array(spent[arm])
        if idx is None:
            return float(eff.sum() / max(mins.sum(), 1e-9))
        return eff[idx].sum(axis=-1) / np.maximum(mins[idx].sum(axis=-1), 1e-9)

    for arm in list(ARMS)[:-1]:
        b = per_minute(arm, boot)
        out[arm] = {
            "gain_per_minute": per_minute(arm),
            "gain_per_minute_ci": [float(np.quantile(b, 0.025)), float(np.quantile(b, 0.975))],
            "gain_vs_none": float(np.mean(np.array(gain[arm]) - base)),
            "minutes": float(np.mean(spent[arm])),
        }
    for ref in ("uniform", "uniform_tracer"):
        d = per_minute("personal", boot) - per_minute(ref, boot)
        out[f"personal_minus_{ref}"] = {
            "mean": per_minute("personal") - per_minute(ref),
            "ci": [float(np.quantile(d, 0.025)), float(np.quantile(d, 0.975))],
            "ratio": per_minute("personal") / per_minute(ref),
            "ratio_per_class": [
                per_minute("personal", np.flatnonzero(cls == c))
                / per_minute(ref, np.flatnonzero(cls == c))
                for c in range(classes)
            ],
        }
    out["ratio"] = per_minute("personal") / per_minute("uniform")
    out["ratio_vs_best_uniform"] = per_minute("personal") / max(
        per_minute("uniform"), per_minute("uniform_tracer")
    )
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
    ap.add_argument("--tracer", default="default", help="mastery preset (make_model name)")
    ap.add_argument("--skip-speed", action="store_true")
    ap.add_argument("--skip-homework", action="store_true")
    args = ap.parse_args()
    result: dict = {"benchmark": "classroom", "cpu_count": os.cpu_count()}
    if not args.skip_speed:
        sp = speed(args.repeat, args.seed, args.tracer)
        result["speed"] = sp
        print(format_table([{"step": k, "wall_s": sp[f"{k}_s"], "cpu_s": sp[f"{k}_cpu_s"]}
                            for k in STEPS]))  # fmt: skip
        print(f"load average before/after: {sp['loadavg_before']} / {sp['loadavg_after']}")
    if not args.skip_homework:
        t = time.perf_counter()
        h = homework_experiment(
            args.classes, args.evenings, args.budget, args.seed, args.review_share, args.tracer
        )
        h["run_s"] = time.perf_counter() - t
        h["loadavg_after"] = _load()
        result["homework"] = h
        print(format_table([{"arm": a, **h[a]} for a in list(ARMS)[:-1]]))
        for ref in ("uniform", "uniform_tracer"):
            d = h[f"personal_minus_{ref}"]
            per_class = ", ".join(f"{r:.2f}" for r in d["ratio_per_class"])
            print(
                f"personal - {ref}: {d['mean']:+.5f} per minute, 95 % CI "
                f"[{d['ci'][0]:+.5f}, {d['ci'][1]:+.5f}], ratio {d['ratio']:.3f} "
                f"(per class {per_class})"
            )
        print(f"oracle / uniform: {h['ratio_oracle']:.3f}")
    write_json(result, args.json or "-")


if __name__ == "__main__":
    main()

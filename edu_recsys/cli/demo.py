"""``edu-recsys demo``: the project's main job, end to end on a simulated class.

    edu-recsys demo [--db URL] [--out DIR] [--students 40] [--weeks 3] [--seed 0]
                    [--lang zh|en] [--json PATH]

1. a seeded simulated grade-8 class (default 40 students) is taught ``--weeks`` weeks
   of lessons with evening practice on the shipped junior-high mathematics graph
   (``math-7-9``), by :func:`edu_recsys.simulate.simulate_class`;
2. the graph, a synthetic resource catalogue, the school, the class (roster, grade,
   current unit, homework policy: mathematics gets a third of the grade-8 90 minutes)
   and every answer are stored in the embedded default store (a SQLite file:
   ``$EDU_RECSYS_DB_URL`` or ``./edu_recsys.sqlite``; ``--db`` to choose), so that
   ``edu-recsys serve`` serves the demo afterwards; ids start with ``demo-`` and
   re-running is idempotent;
3. the default mastery model is fitted on the class's stored answers and saved in the
   store (made the active model unless the store holds other students' answers);
4. the class report, the three weakest concepts, the teaching groups, the homework of
   three students and one student's learning path are printed, and
   ``<out>/class_report.html`` (self-contained), its plots (``<out>/plots/*.png``) and
   ``<out>/class_report.json`` are written.

It takes well under a minute on two cores.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from edu_recsys.cli._common import write_json

__all__ = ["register", "run_demo"]

GRAPH = "math-7-9"
SCHOOL_ID = "demo-school"
SUBJECT = "mathematics"
#: Mathematics' share of the daily homework time (three written subjects share it).
SUBJECT_SHARES = {"mathematics": 1 / 3, "chinese": 1 / 3, "english": 1 / 3}


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "demo",
        help="the main job: a simulated class, stored, fitted, reported (HTML + plots)",
        description="Simulate a grade-8 class on the junior-high mathematics graph, store it, "
        "fit mastery, and print/write the teacher's report, groups, homework and a "
        "learning path.",
    )
    p.add_argument(
        "--db",
        default=None,
        metavar="URL",
        help="store URL or SQLite file (default: $EDU_RECSYS_DB_URL, else ./edu_recsys.sqlite)",
    )
    p.add_argument("--out", default="demo-output", metavar="DIR", help="output folder")
    p.add_argument("--students", type=int, default=40, help="class size (default 40)")
    p.add_argument("--weeks", type=int, default=3, help="school weeks simulated (default 3)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--lang", default="zh", choices=["zh", "en"], help="report language")
    p.add_argument("--json", default=None, metavar="PATH", help="also write a run summary JSON")
    p.set_defaults(func=_run)


def _say(lang: str, zh: str, en: str) -> str:
    return zh if lang == "zh" else en


class _Clock:
    def __init__(self) -> None:
        self.t = time.perf_counter()
        self.steps: dict[str, float] = {}

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.steps[name] = round(now - self.t, 3)
        self.t = now


def _store_class(store, G, sim, catalogue, class_id: str, unit: str, seed: int, lang: str):
    """Graph, catalogue, school, class and answers into the store; returns the roster ids."""
    import pandas as pd

    store.put_graph(GRAPH, G)
    store.upsert_resources(catalogue)
    store.upsert_school(
        SCHOOL_ID,
        name=_say(lang, "演示学校", "Demo school"),
        settings={"homework_policy": {"subject_shares": SUBJECT_SHARES}},
    )
    ids = sim.students["student_id"].tolist()
    names = [_say(lang, f"学生{i + 1:02d}", f"Student {i + 1:02d}") for i in range(len(ids))]
    store.upsert_class(
        class_id,
        name=_say(lang, "八年级1班（演示）", "Grade 8, class 1 (demo)"),
        grade=8,
        subject=SUBJECT,
        school_id=SCHOOL_ID,
        graph_id=GRAPH,
        current_unit=unit,
        student_ids=pd.DataFrame({"student_id": ids, "name": names, "grade": 8}),
    )
    answers = sim.interactions.copy()
    # event ids unique per demo class and seed: re-running stores nothing twice
    answers["event_id"] = f"{class_id}-seed{seed}-" + answers["event_id"].astype(str)
    result = store.ingest(answers)
    return ids, result


def _fit_and_save(store, history, ids: list[str], lang: str) -> tuple[Any, str]:
    from edu_recsys.mastery import make_model

    tracer = make_model("default").fit(history)
    everyone = store.interactions()
    others = set(everyone["student_id"]) - set(ids) if len(everyone) else set()
    model_id = store.save_model(
        tracer,
        name="default",
        n_interactions=len(history),
        n_students=len(ids),
        last_seq=store.max_seq(),
        metrics={"demo": True},
        activate=not others,
    )
    if others:
        note = _say(
            lang,
            f"已保存模型 {model_id}（库中还有其他学生的数据，未设为当前模型）",
            f"saved model {model_id} (not activated: the store holds other students' answers)",
        )
    else:
        note = _say(lang, f"已保存并启用模型 {model_id}", f"saved and activated model {model_id}")
    return tracer, note


def _pick_students(analysis) -> list[str]:
    """Three students to show: the weakest, a middle one, the strongest (with answers)."""
    st = analysis.report.students
    st = st[st["has_answers"]].sort_values("mean_mastery", kind="stable")
    if st.empty:
        return []
    ids = st["student_id"].tolist()
    picks = [ids[0], ids[len(ids) // 2], ids[-1]]
    return list(dict.fromkeys(picks))


def _path_target(G, unit: str, mastery: dict[str, float], focus: list[str]) -> str:
    """A natural next goal: the first concept of the current unit (in learning order) not
    yet mastered by the student; else the class's first focus concept; else the unit's
    last concept."""
    from edu_recsys.constants import MASTERY_THRESHOLD
    from edu_recsys.graph import learning_order

    in_unit = [c for c in learning_order(G) if G.nodes[c].get("unit") == unit]
    for c in in_unit:
        if mastery.get(c, 0.0) < MASTERY_THRESHOLD:
            return c
    return focus[0] if focus else in_unit[-1]


def learning_path_lines(
    G, tracer, history, student: str, target: str, lang: str, *, items=None, resources=None
) -> list[str]:
    """One student's learning path to ``target`` as console lines.

    Planned by :func:`edu_recsys.paths.plan_path` from the student's current mastery when
    this build has it; otherwise the graph's prerequisite order of the concepts still
    needed (:func:`edu_recsys.graph.concepts_needed`), and says so.
    """
    from edu_recsys.classroom.i18n import concept_name

    m = tracer.mastery(history, students=[student], concepts=list(G))
    mastery = dict(zip(m["concept_id"], m["mastery"]))
    head = _say(
        lang,
        f"-- {student} 的学习路径 → 「{concept_name(G, target, lang)}」 --",
        f"-- learning path of {student} -> '{concept_name(G, target, lang)}' --",
    )
    try:
        from edu_recsys.paths import plan_path
    except ImportError:
        plan_path = None
    if plan_path is not None:
        path = plan_path(G, mastery, [target], items=items, resources=resources, student_id=student)
        lines = [head, path.message_en if lang == "en" else path.message]
        for k, step in enumerate(path.steps, 1):
            what = ", ".join((step.items or [])[:3] + (step.resources or [])[:1])
            lines.append(
                f"  {k:>2}. {concept_name(G, step.concept_id, lang)} · {step.minutes:.0f} "
                f"{_say(lang, '分钟', 'min')} · {step.mastery_before:.0%} → "
                f"{step.mastery_after:.0%} · {step.text(lang)}" + (f" [{what}]" if what else "")
            )
        return lines
    from edu_recsys.graph import concepts_needed

    needed = concepts_needed(G, target, mastery)
    lines = [
        head,
        _say(
            lang,
            "（规划器 edu_recsys.paths 不在此版本中：按知识图谱的前置顺序列出）",
            "(planner edu_recsys.paths not in this build: prerequisite order from the graph)",
        ),
    ]
    for k, c in enumerate(needed, 1):
        lines.append(f"  {k:>2}. {concept_name(G, c, lang)} ({mastery.get(c, float('nan')):.0%})")
    if not needed:
        lines.append(_say(lang, "  目标已掌握，无需学习路径。", "  target already mastered."))
    return lines


def run_demo(
    *,
    db: str | None = None,
    out: str | Path = "demo-output",
    students: int = 40,
    weeks: int = 3,
    seed: int = 0,
    lang: str = "zh",
    echo=print,
) -> dict[str, Any]:
    """Run the demo (see the module docstring); ``echo`` receives the console lines."""
    from edu_recsys.classroom import HomeworkPolicy, analyse_class
    from edu_recsys.cli.class_report import homework_lines, summary_lines
    from edu_recsys.graph import load_graph
    from edu_recsys.recommend import Recommender
    from edu_recsys.resources import synthetic_catalogue
    from edu_recsys.simulate import simulate_class
    from edu_recsys.store import Store
    from edu_recsys.store.engine import redact_url

    clock = _Clock()
    out = Path(out)
    class_id = "demo-8-1"
    G = load_graph(GRAPH)
    cat = synthetic_catalogue(G, per_concept=3, subject=SUBJECT, random_state=seed).resources
    sim = simulate_class(
        G, n_students=students, weeks=weeks, random_state=seed, grade=8, class_id=class_id
    )
    unit = G.nodes[sim.schedule["concept_id"].iloc[-1]]["unit"]
    clock.lap("simulate_s")

    with Store(db) as store:
        ids, ingested = _store_class(store, G, sim, cat, class_id, unit, seed, lang)
        history = store.interactions(students=ids)
        clock.lap("store_s")
        tracer, model_note = _fit_and_save(store, history, ids, lang)
        url = redact_url(store.url)
        clock.lap("fit_s")

    mastery = tracer.mastery(history, students=ids, concepts=list(G))
    # calibrated like the report's mastery (grade-aware values for never-answered concepts)
    rec = Recommender(G, lang=lang, grade=8, calibrate=True, random_state=seed).fit(
        cat, mastery, interactions=history
    )

    def recommend(members, k):
        return rec.recommend_batch(list(members), k, reasons=False)

    analysis = analyse_class(
        history,
        G,
        tracer,
        roster=ids,
        mastery=mastery,
        items=sim.items,
        grade=8,
        subject=SUBJECT,
        current_unit=unit,
        policy=HomeworkPolicy(subject_shares=SUBJECT_SHARES),
        recommend=recommend,
        class_info={
            "class_id": class_id,
            "name": _say(lang, "八年级1班（演示）", "Grade 8, class 1 (demo)"),
            "subject": SUBJECT,
        },
        random_state=seed,
        lang=lang,
    )
    clock.lap("analyse_s")

    echo(
        _say(
            lang,
            f"模拟班级：{students} 名学生，{weeks} 周，{len(sim.schedule)} 节新课，"
            f"{len(history)} 条作答（新存入 {ingested.inserted} 条）→ {url}",
            f"simulated class: {students} students, {weeks} weeks, {len(sim.schedule)} lessons, "
            f"{len(history)} answers ({ingested.inserted} newly stored) -> {url}",
        )
    )
    echo(model_note)
    echo("")
    for line in summary_lines(analysis, G, lang):
        echo(line)
    shown = _pick_students(analysis)
    if analysis.homework is not None and shown:
        echo("")
        echo(_say(lang, "-- 三名学生的作业 --", "-- homework of three students --"))
        for sid in shown:
            for line in homework_lines(analysis, sid, lang):
                echo(line)
    if shown:
        echo("")
        m0 = mastery[mastery["student_id"] == shown[0]]
        target = _path_target(
            G, unit, dict(zip(m0["concept_id"], m0["mastery"])), analysis.report.summary["focus"]
        )
        for line in learning_path_lines(
            G, tracer, history, shown[0], target, lang, items=sim.items, resources=cat
        ):
            echo(line)
    clock.lap("print_s")

    out.mkdir(parents=True, exist_ok=True)
    html_path = out / "class_report.html"
    analysis.render_html(G, html_path, plots_dir=out / "plots")
    write_json(analysis.to_dict(), out / "class_report.json")
    clock.lap("render_s")
    echo("")
    echo(
        _say(
            lang,
            f"报告：{html_path}（图表在 {out / 'plots'}）；用 edu-recsys serve 打开服务",
            f"report: {html_path} (plots in {out / 'plots'}); run edu-recsys serve for the API",
        )
    )
    total = round(sum(clock.steps.values()), 3)
    return {
        "db": url,
        "class_id": class_id,
        "students": students,
        "answers": int(len(history)),
        "html": str(html_path),
        "timings_s": {**clock.steps, "total_s": total},
        "summary": analysis.report.summary,
    }


def _run(args) -> int:
    t = time.perf_counter()
    result = run_demo(
        db=args.db,
        out=args.out,
        students=args.students,
        weeks=args.weeks,
        seed=args.seed,
        lang=args.lang,
    )
    print(
        _say(
            args.lang,
            f"用时 {time.perf_counter() - t:.1f} 秒",
            f"done in {time.perf_counter() - t:.1f} s",
        ),  # fmt: skip
        file=sys.stderr,
    )
    if args.json:
        write_json(result, args.json)
    return 0

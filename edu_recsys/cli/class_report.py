"""``edu-recsys class-report``: the teacher's report of one class in a store.

    edu-recsys class-report --db URL --class-id ID [--json PATH] [--html PATH]
                            [--plots-dir DIR] [--lang zh|en] [--budget MIN]

Reads the class (roster, grade, subject graph, current unit, settings) and its answers
from the store, uses the store's active mastery model (or, when none is stored, fits
the default model on every stored answer without saving it, and says so), and prints
the summary: headline numbers, the weakest concepts, the focus for the next lesson,
the teaching groups and the homework budget use. ``--json`` writes everything as one
JSON object, ``--html`` the self-contained HTML report (plots next to it, or in
``--plots-dir``). The school's and the class's ``settings["homework_policy"]`` (a
:class:`~edu_recsys.classroom.homework.HomeworkPolicy` mapping; the class's keys win)
set the homework policy, as in the API.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from edu_recsys.cli._common import format_table, write_json

__all__ = ["register", "summary_lines", "homework_lines"]


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "class-report",
        help="class report, teaching groups and homework for one class in a store",
        description="The teacher's report of one class: weakest concepts, focus, groups, "
        "personalised homework within the 'double reduction' limits, item analysis.",
    )
    p.add_argument(
        "--db",
        default=None,
        metavar="URL",
        help="store URL or SQLite file (default: $EDU_RECSYS_DB_URL, else ./edu_recsys.sqlite)",
    )
    p.add_argument("--class-id", required=True, help="the class to report on")
    p.add_argument("--json", default=None, metavar="PATH", help="write the whole result as JSON")
    p.add_argument("--html", default=None, metavar="PATH", help="write the HTML report")
    p.add_argument("--plots-dir", default=None, metavar="DIR", help="where to write the PNG plots")
    p.add_argument("--lang", default="zh", choices=["zh", "en"], help="report language")
    p.add_argument(
        "--budget",
        type=float,
        default=None,
        metavar="MIN",
        help="today's homework minutes (never above the policy's cap)",
    )
    p.add_argument("--max-groups", type=int, default=5, help="upper bound on teaching groups")
    p.add_argument("--min-groups", type=int, default=2, help="lower bound on teaching groups")
    p.add_argument("--seed", type=int, default=0, help="random seed (groups, tie-breaks)")
    p.set_defaults(func=_run)


def _say(lang: str, zh: str, en: str) -> str:
    return zh if lang == "zh" else en


def summary_lines(analysis, G, lang: str = "zh") -> list[str]:
    """Console text of a :class:`~edu_recsys.classroom.analysis.ClassAnalysis`."""
    from edu_recsys.classroom.i18n import text

    rep = analysis.report
    s = rep.summary
    out = []
    name = analysis.info.get("name") or analysis.info.get("class_id") or ""
    out.append(f"== {text('title', lang)} {name} ==")
    if s["status"] == "empty_class":
        out.append(_say(lang, "班级没有学生。", "The class has no students."))
        return out
    if s["status"] == "no_answers":
        out.append(_say(lang, "班级还没有作答记录。", "The class has no answers yet."))
        return out
    out.append(
        f"{text('n_students', lang)} {s['n_students']} ({text('n_with_data', lang)} "
        f"{s['n_with_answers']}) · {text('n_concepts', lang)} {s['n_concepts_taught']} · "
        f"{text('class_mean', lang)} {s['class_mean']:.0%} · {text('share_mastered', lang)} "
        f"{s['share_mastered']:.0%} · {text('n_at_risk', lang)} {s['n_at_risk']}"
    )
    bands = " · ".join(f"{r['label']} {r['count']}" for r in rep.bands.to_dict(orient="records"))
    out.append(f"{text('bands', lang)}: {bands}")
    if s["current_unit_name"]:
        out.append(f"{text('current_unit', lang)}: {s['current_unit_name']}")
    out.append("")
    out.append(f"-- {text('weakest', lang)} (top 3) --")
    rows = [
        {
            "#": int(r["rank"]),
            text("concept", lang): r["name"],
            text("mean", lang): f"{r['mean']:.0%}",
            text("n_below", lang): f"{int(r['n_below'])}/{int(r['n_students'])}",
            text("dependents", lang): int(r["dependents"]),
            text("block_score", lang): round(float(r["block_score"]), 3),
        }
        for _, r in rep.weakest.head(3).iterrows()
    ]
    out.append(format_table(rows))
    out.append("")
    out.append(f"-- {text('focus', lang)} --")
    sep = "；" if lang == "zh" else "; "
    for f in rep.focus.to_dict(orient="records"):
        out.append(f"* {f['name']}: " + sep.join(f["reasons"]))
    if analysis.groups is not None:
        g = analysis.groups
        out.append("")
        out.append(f"-- {text('groups', lang)} (k={g.k}) --")
        for r in g.groups.to_dict(orient="records"):
            res = ", ".join(r["resources"][:3])
            line = f"{r['group']}. {r['name']} · {r['size']} · {text('mean', lang)} "
            line += "–" if r["mean_mastery"] != r["mean_mastery"] else f"{r['mean_mastery']:.0%}"
            if res:
                line += f" · {text('resources', lang)}: {res}"
            out.append(line)
    if analysis.homework is not None:
        hw = analysis.homework
        b = hw.budget
        out.append("")
        out.append(f"-- {text('homework', lang)} --")
        out.append(f"{b['rule']} → {b['budget_minutes']:.0f} {text('minutes', lang)}")
        sm = hw.summary
        if len(sm) and b["budget_minutes"] > 0:
            n, mins = sm["n_items"].mean(), sm["minutes"].mean()
            used, top = sm["budget_used"].mean(), sm["minutes"].max()
            out.append(
                _say(
                    lang,
                    f"平均 {n:.1f} 题、{mins:.1f} 分钟（额度使用 {used:.0%}，最多 {top:.0f} 分钟）",
                    f"mean {n:.1f} items, {mins:.1f} min "
                    f"(budget used {used:.0%}, max {top:.0f} min)",
                )
            )
        elif len(sm):
            out.append(sm["note"].iloc[0])
    if analysis.items is not None and len(analysis.items.items):
        ia = analysis.items
        out.append("")
        out.append(
            f"-- {text('item_analysis', lang)} -- "
            + _say(
                lang,
                f"{len(ia.items)} 题，需复查 {len(ia.bad_items)} 题，"
                f"与图谱不一致的前置关系 {len(ia.conflicts)} 条",
                f"{len(ia.items)} items, {len(ia.bad_items)} to review, "
                f"{len(ia.conflicts)} prerequisites the answers disagree with",
            )
        )
    return out


def homework_lines(analysis, student_id: str, lang: str = "zh") -> list[str]:
    """Console text of one student's homework set."""
    from edu_recsys.classroom.i18n import text

    hw = analysis.homework
    if hw is None:
        return []
    s = hw.summary.set_index("student_id").loc[student_id]
    head = (
        f"{student_id}: {int(s['n_items'])} {text('item', lang)}, {s['minutes']:.0f}/"
        f"{s['budget_minutes']:.0f} {text('minutes', lang)}"
    )
    if s["note"]:
        head += f" ({s['note']})"
    out = [head]
    for it in hw.for_student(student_id).to_dict(orient="records"):
        out.append(
            f"  {it['position']:>2}. [{text('kind.' + it['kind'], lang)}] {it['item_id']} "
            f"· {it['minutes']:.0f} {text('minutes', lang)} · {it['reason']}"
        )
    return out


def _tracer_for(store, lang: str) -> tuple[Any, str]:
    from edu_recsys.store import NoModelError

    try:
        tracer, info = store.load_model()
        return tracer, _say(
            lang,
            f"掌握度模型：库中第 {info['model_id']} 号模型（{info['name']}）",
            f"mastery model: stored model {info['model_id']} ({info['name']})",
        )
    except NoModelError:
        from edu_recsys.mastery import make_model

        everything = store.interactions()
        if not len(everything):
            return None, ""
        tracer = make_model("default").fit(everything)
        return tracer, _say(
            lang,
            f"库中没有已训练的模型：已用全部 {len(everything)} 条作答临时训练默认模型（未保存）",
            f"no stored model: fitted the default model on all {len(everything)} stored answers "
            "(not saved)",
        )


def _run(args) -> int:
    from edu_recsys.classroom.analysis import analyse_class
    from edu_recsys.exceptions import InvalidDataError
    from edu_recsys.store import Store

    lang = args.lang
    with Store(args.db) as store:
        info = store.get_class(args.class_id)
        if not info.get("graph_id"):
            raise InvalidDataError(
                f"class {args.class_id!r} has no subject graph",
                column="graph_id",
                expected="a class with graph_id set (Store.upsert_class(..., graph_id=...))",
            )
        G = store.get_graph(info["graph_id"])
        roster = store.roster(args.class_id)
        ids = roster["student_id"].tolist()
        history = store.interactions(students=ids) if ids else store.interactions(students=[])
        tracer, model_note = _tracer_for(store, lang)
        policy = _policy(store, info)
        catalogue = store.catalogue()
    if model_note:
        print(model_note, file=sys.stderr)
    recommend = None
    if len(catalogue):
        recommend = _recommend_callable(
            G, catalogue, history, tracer, lang, grade=info.get("grade")
        )
    mastery = None
    if tracer is None:
        import pandas as pd

        mastery = pd.DataFrame(
            columns=["student_id", "concept_id", "mastery", "evidence", "fallback"]
        )
    analysis = analyse_class(
        history,
        G,
        tracer,
        roster=ids,
        mastery=mastery,
        grade=info.get("grade"),
        subject=info.get("subject"),
        current_unit=info.get("current_unit"),
        policy=policy,
        budget_minutes=args.budget,
        catalogue=catalogue if recommend is None and len(catalogue) else None,
        recommend=recommend,
        min_groups=args.min_groups,
        max_groups=args.max_groups,
        class_info={"class_id": info["class_id"], "name": info.get("name") or ""},
        random_state=args.seed,
        lang=lang,
    )
    print("\n".join(summary_lines(analysis, G, lang)))
    if args.json:
        write_json(analysis.to_dict(), args.json)
    if args.html:
        plots = args.plots_dir or str(Path(args.html).with_suffix("")) + "_plots"
        analysis.render_html(G, args.html, plots_dir=plots)
        print(_say(lang, f"HTML 报告：{args.html}", f"HTML report: {args.html}"), file=sys.stderr)
    return 0


def _policy(store, info: dict):
    """The school's ``settings["homework_policy"]`` overridden by the class's (as the API)."""
    from edu_recsys.classroom.homework import HomeworkPolicy
    from edu_recsys.exceptions import UnknownIdError

    merged: dict = {}
    if info.get("school_id"):
        try:
            merged.update(store.get_school(info["school_id"]).get("settings", {}).get(
                "homework_policy", {}))  # fmt: skip
        except UnknownIdError:
            pass
    merged.update((info.get("settings") or {}).get("homework_policy", {}))
    return HomeworkPolicy.model_validate(merged) if merged else None


def _recommend_callable(G, catalogue, history, tracer, lang, grade=None):
    """``(ids, k) -> DataFrame`` from the recommendation pipeline, or None without it."""
    try:
        from edu_recsys.recommend import Recommender
    except ImportError:  # pragma: no cover - recommend is part of the package
        return None
    if tracer is None:
        return None
    ids = list(dict.fromkeys(history["student_id"])) if len(history) else []
    if not ids:
        return None
    mastery = tracer.mastery(history, students=ids, concepts=list(G))
    # calibrated like the class report's mastery: concepts a student never answered get
    # grade-aware values, not the tracer's population fallback
    rec = Recommender(G, lang=lang, grade=grade, calibrate=grade is not None).fit(
        catalogue, mastery, interactions=history
    )
    return lambda students, k: rec.recommend_batch(list(students), k, reasons=False)

"""``edu-recsys graph ...``: validate, export/draw, inspect, import and learn graphs.

``validate FILE...`` prints one line per problem (``FILE: error [code] ...``) and exits
1 when a file has errors (or warnings with ``--strict``); a valid file gets a one-line
summary. FILE may also be a shipped graph name (``math-7-9``) or ``junyi2015``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from edu_recsys.cli._common import add_data_dir_option, format_table, write_json

_DRAW_FORMATS = ("png", "svg", "html")
_DATA_FORMATS = ("yaml", "json", "graphml")


def _source_path(source: str) -> tuple[str, Path | None]:
    """(label, file) of a file path or shipped graph name (file None for data imports)."""
    from edu_recsys.graph import graph_path

    p = Path(source)
    if p.exists():
        return source, p
    if source == "junyi2015":
        return source, None
    return source, graph_path(source)


def _summary_line(G) -> str:
    from edu_recsys.graph import graph_summary

    s = graph_summary(G)
    groups = f" ({s['any_of_groups']} any-of groups)" if s["any_of_groups"] else ""
    return (
        f"{s['concepts']} concepts, {s['prerequisite_edges']} prerequisite edges{groups}, "
        f"depth {s['depth']}, {s['roots']} roots, grades {s['grades']}"
    )


def _validate(args) -> int:
    from edu_recsys.exceptions import UnknownIdError
    from edu_recsys.graph import load_graph, validate_curriculum, validate_graph

    failed = False
    report = []
    for source in args.files:
        try:
            label, path = _source_path(source)
        except UnknownIdError:
            print(f"{source}: error [missing] no such file or shipped graph")
            failed = True
            report.append({"file": source, "valid": False, "problems": []})
            continue
        if path is None:
            G = load_graph(source, validate=False)
            problems = validate_graph(G)
        else:
            problems = validate_curriculum(path)
            G = None
        errors = [p for p in problems if p.is_error]
        warnings = [p for p in problems if not p.is_error]
        bad = bool(errors) or (args.strict and bool(warnings))
        failed |= bad
        for p in problems:
            print(f"{label}: {p}")
        if not errors:
            G = G if G is not None else load_graph(path, validate=False)
            tail = f" ({len(warnings)} warning(s))" if warnings else ""
            print(f"{label}: {'FAILED' if bad else 'ok'}: {_summary_line(G)}{tail}")
        report.append(
            {
                "file": label,
                "valid": not bad,
                "problems": [p.to_dict() for p in problems],
            }
        )
    write_json({"files": report, "valid": not failed}, args.json)
    return 1 if failed else 0


def _read_mastery(path: str, student: str | None) -> dict[str, float]:
    """Mastery from JSON (concept -> p) or CSV/Parquet (``concept_id, mastery``)."""
    import pandas as pd

    from edu_recsys.exceptions import InvalidDataError

    p = Path(path)
    if p.suffix.lower() == ".json":
        data = json.loads(p.read_text(encoding="utf-8"))
        if isinstance(data, dict) and student is not None and student in data:
            data = data[student]
        if not isinstance(data, dict):
            raise InvalidDataError("expected a JSON object concept -> mastery", source=path)
        return {str(k): float(v) for k, v in data.items()}
    df = pd.read_parquet(p) if p.suffix.lower() == ".parquet" else pd.read_csv(p)
    for col in ("concept_id", "mastery"):
        if col not in df.columns:
            raise InvalidDataError(
                "missing column", column=col, source=path, expected="concept_id, mastery"
            )
    if "student_id" in df.columns:
        students = df["student_id"].astype(str).unique()
        if student is None and len(students) > 1:
            raise InvalidDataError(
                f"{len(students)} students in the file; choose one with --student",
                column="student_id",
                source=path,
            )
        if student is not None:
            df = df[df["student_id"].astype(str) == student]
            if df.empty:
                raise InvalidDataError(f"no rows for student {student!r}", source=path)
    return dict(zip(df["concept_id"].astype(str), df["mastery"].astype(float)))


def _export(args) -> int:
    from edu_recsys.graph import (
        load_graph,
        subgraph_for,
        to_graphml,
        to_node_link,
        write_curriculum,
    )

    out = Path(args.output)
    fmt = (args.format or out.suffix.lstrip(".")).lower()
    fmt = {"yml": "yaml"}.get(fmt, fmt)
    if fmt not in _DRAW_FORMATS + _DATA_FORMATS:
        print(
            f"edu-recsys graph export: error: unknown format {fmt!r}; use --format with one "
            f"of {', '.join(_DRAW_FORMATS + _DATA_FORMATS)}",
            file=sys.stderr,
        )
        return 2
    G = load_graph(args.source)
    if args.unit or args.grade:
        G = subgraph_for(
            G,
            unit=args.unit or None,
            grade=args.grade or None,
            include_prerequisites=args.with_prerequisites,
        )
    if fmt in _DRAW_FORMATS:
        import matplotlib

        matplotlib.use("Agg")
        from edu_recsys.graph.draw import export_drawing

        mastery = _read_mastery(args.mastery, args.student) if args.mastery else None
        export_drawing(G, out, fmt=fmt, mastery=mastery, lang=args.lang)
    elif fmt == "yaml":
        write_curriculum(G, out)
    elif fmt == "json":
        to_node_link(G, out)
    else:
        to_graphml(G, out)
    print(f"wrote {out} ({fmt}): {_summary_line(G)}")
    return 0


def _info(args) -> int:
    from edu_recsys.graph import graph_summary, list_graphs, load_graph

    if not args.source:
        print("\n".join(list_graphs()))
        return 0
    G = load_graph(args.source)
    s = graph_summary(G)
    print(format_table([{"field": k, "value": v} for k, v in s.items()]))
    write_json(s, args.json)
    return 0


def _schema(args) -> int:
    from edu_recsys.graph import curriculum_json_schema

    text = json.dumps(curriculum_json_schema(), ensure_ascii=False, indent=2)
    if args.output:
        Path(args.output).write_text(text + "\n", encoding="utf-8")
        print(f"wrote {args.output}")
    else:
        print(text)
    return 0


def _import_junyi(args) -> int:
    from edu_recsys.datasets import resolve_data_dir
    from edu_recsys.graph import write_curriculum
    from edu_recsys.graph.junyi import import_junyi

    G = import_junyi(resolve_data_dir(args.data_dir), on_cycle=args.on_cycle)
    r = G.graph["import_report"]
    print(
        f"{r['rows']} rows -> {r['exercises']} exercises (duplicate rows: "
        f"{', '.join(r['duplicate_rows']) or 'none'}); {r['listed_prerequisites']} listed "
        f"prerequisites -> {r['edges']} edges ({r['duplicate_references']} duplicate "
        f"references, {len(r['self_loops'])} self-loops, {len(r['dangling'])} dangling); "
        f"{len(r['cycles'])} cycle(s), removed {r['removed_edges']}; "
        f"{r['topics']} topics in {r['areas']} areas"
    )
    if args.output:
        G.graph.pop("import_report")
        write_curriculum(G, args.output)
        print(f"wrote {args.output}")
    return 0


def _learn(args) -> int:
    from edu_recsys.cli.data import _load
    from edu_recsys.graph import write_curriculum
    from edu_recsys.graph.learn import learn_prerequisites

    df = _load(args.interactions, None)
    G = learn_prerequisites(df, alpha=args.alpha, min_effect=args.min_effect)
    ev = G.graph.pop("evidence")
    G.graph.pop("pruned", None)
    G.graph["id"] = args.name
    print(
        f"{len(ev)} concept pairs tested; {G.number_of_edges()} prerequisite edges "
        f"among {G.number_of_nodes()} concepts"
    )
    top = ev.head(args.top)
    print(
        format_table(
            top[["source", "target", "effect", "z", "q_value", "n_students"]].to_dict("records")
        )
    )
    if args.evidence:
        ev.to_csv(args.evidence, index=False)
        print(f"wrote {args.evidence}")
    if args.output:
        write_curriculum(G, args.output)
        print(f"wrote {args.output}")
    return 0


def register(sub) -> None:
    p = sub.add_parser("graph", help="subject knowledge graphs: validate, export, learn")
    gsub = p.add_subparsers(dest="graph_command", metavar="ACTION")

    v = gsub.add_parser(
        "validate",
        help="check curriculum files (one line per problem; exit 1 on errors)",
        description="FILE: a curriculum .yaml/.json, a node-link .json, a .graphml, "
        "a shipped graph name (math-7-9, math-3-6) or junyi2015.",
    )
    v.add_argument("files", nargs="+", metavar="FILE")
    v.add_argument("--strict", action="store_true", help="warnings fail too")
    v.add_argument("--json", metavar="PATH", help="also write the problems as JSON ('-': stdout)")
    v.set_defaults(func=_validate)

    e = gsub.add_parser(
        "export",
        help="draw a graph (png, svg, html) or convert it (yaml, json node-link, graphml)",
    )
    e.add_argument("source", help="shipped graph name or file")
    e.add_argument("-o", "--output", required=True, help="output file")
    e.add_argument(
        "--format",
        choices=_DRAW_FORMATS + _DATA_FORMATS,
        help="default: from the output file's suffix",
    )
    e.add_argument("--lang", choices=("zh", "en"), default="zh", help="label language")
    e.add_argument(
        "--mastery",
        metavar="FILE",
        help="colour by one student's mastery: JSON {concept: p} or CSV concept_id,mastery"
        "[,student_id]",
    )
    e.add_argument("--student", help="the student to show when --mastery has several")
    e.add_argument("--unit", action="append", help="only this unit (repeatable)")
    e.add_argument("--grade", action="append", type=int, help="only this grade (repeatable)")
    e.add_argument(
        "--with-prerequisites",
        action="store_true",
        help="with --unit/--grade: keep the prerequisites from other units too",
    )
    e.set_defaults(func=_export)

    i = gsub.add_parser("info", help="summary of a graph (no argument: list shipped graphs)")
    i.add_argument("source", nargs="?")
    i.add_argument("--json", metavar="PATH")
    i.set_defaults(func=_info)

    s = gsub.add_parser("schema", help="print the JSON Schema of curriculum files")
    s.add_argument("-o", "--output", help="write to this file instead of stdout")
    s.set_defaults(func=_schema)

    j = gsub.add_parser(
        "import-junyi", help="import Junyi Academy's exercise table (report; optional YAML)"
    )
    add_data_dir_option(j)
    j.add_argument("-o", "--output", help="write the graph as a curriculum file")
    j.add_argument("--on-cycle", choices=("break", "keep", "raise"), default="break")
    j.set_defaults(func=_import_junyi)

    le = gsub.add_parser(
        "learn", help="learn prerequisite edges from an interaction log (evidence + DAG)"
    )
    le.add_argument("interactions", help="log file, fold folder or dataset name")
    le.add_argument("-o", "--output", help="write the learned graph as a curriculum file")
    le.add_argument("--evidence", metavar="CSV", help="write the pair evidence table")
    le.add_argument("--alpha", type=float, default=0.05, help="false-discovery rate")
    le.add_argument("--min-effect", type=float, default=0.05)
    le.add_argument("--name", default="learned", help="graph id written to the file")
    le.add_argument("--top", type=int, default=15, help="evidence rows to print")
    le.set_defaults(func=_learn)
    p.set_defaults(func=lambda args: p.print_help() or 2)

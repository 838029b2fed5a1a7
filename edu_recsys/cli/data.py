"""``edu-recsys data summary PATH`` and ``edu-recsys data datasets``."""

from __future__ import annotations

from pathlib import Path

from edu_recsys.cli._common import add_data_dir_option, format_table, write_json


def _load(path: str, columns: list[str] | None):
    from edu_recsys.data import read_folds, read_interactions
    from edu_recsys.datasets import DATASETS, load_dataset

    mapping = dict(c.split("=", 1) for c in columns or [])
    if path in DATASETS:
        return load_dataset(path).data
    p = Path(path)
    if p.is_dir():
        return read_folds(p)
    return read_interactions(p, columns=mapping or None)


def _summary(args) -> int:
    from edu_recsys.data import summarize_interactions

    df = _load(args.path, args.column)
    s = {"source": args.path, **summarize_interactions(df)}
    rows = [{"field": k, "value": v} for k, v in s.items() if k != "folds"]
    if "folds" in s:
        rows.append({"field": "folds", "value": s["folds"]})
    print(format_table(rows))
    write_json(s, args.json)
    return 0


def _datasets(args) -> int:
    from edu_recsys.datasets import (
        DATASETS,
        PACKAGED,
        DataNotFoundError,
        load_dataset,
        resolve_data_dir,
    )

    try:
        root = resolve_data_dir(args.data_dir)
    except DataNotFoundError as e:
        # the packaged demo set is still listed without a data directory
        root, missing = None, str(e)
    rows = []
    for name in DATASETS:
        try:
            if root is None and name not in PACKAGED:
                raise DataNotFoundError(missing)
            counts = load_dataset(name, root).provenance["counts"]
            rows.append(
                {
                    "dataset": name,
                    "rows": counts.get("rows"),
                    "students": counts.get("students"),
                    "status": "ok",
                }
            )
        except DataNotFoundError as e:
            rows.append({"dataset": name, "status": f"absent ({e})"})
    print(f"data directory: {root if root is not None else 'none found'}")
    print(format_table(rows, ["dataset", "rows", "students", "status"]))
    return 0


def register(sub) -> None:
    p = sub.add_parser("data", help="inspect interaction logs")
    dsub = p.add_subparsers(dest="data_command", metavar="ACTION")
    s = dsub.add_parser(
        "summary",
        help="rows, students, items, concepts, date range and correct rate of a log",
        description="PATH is a CSV/TSV/Parquet log, a folder of fold files, or a dataset name.",
    )
    s.add_argument("path")
    s.add_argument(
        "--column",
        action="append",
        metavar="CANONICAL=SOURCE",
        help="map a column explicitly, e.g. --column student_id=learner",
    )
    s.add_argument("--json", metavar="PATH", help="also write the summary as JSON ('-': stdout)")
    s.set_defaults(func=_summary)
    d = dsub.add_parser("datasets", help="list the named public datasets found in the data dir")
    add_data_dir_option(d)
    d.set_defaults(func=_datasets)
    p.set_defaults(func=lambda args: p.print_help() or 2)

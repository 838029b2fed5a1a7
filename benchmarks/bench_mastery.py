"""Mastery benchmark on the real fold sets (what ``make bench`` runs for mastery).

Runs ``edu-recsys bench mastery`` (the student-level 5-fold protocol) on the three
public fold copies in the data directory and writes one JSON per data set plus a
combined summary. Usage::

    python benchmarks/bench_mastery.py [--data-dir DIR] [--out DIR] [--models m1,m2]
                                       [--datasets assist2009,statics2011,assist2015]

Timings depend on the machine's load; the JSON records the load average at the start
and end of each run.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from edu_recsys.cli._common import format_table, write_json
from edu_recsys.cli.bench.mastery import run, summary_rows
from edu_recsys.datasets import FOLD_DIRS, resolve_data_dir

DEFAULT_OUT = Path(__file__).resolve().parent / "results"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--out", default=str(DEFAULT_OUT), help="folder for the JSON results")
    ap.add_argument("--models", default=None, help="comma-separated presets (default: all)")
    ap.add_argument("--datasets", default=",".join(FOLD_DIRS))
    args = ap.parse_args(argv)
    root = resolve_data_dir(args.data_dir)
    models = args.models.split(",") if args.models else None
    combined = {}
    for name in args.datasets.split(","):
        folder = root / FOLD_DIRS[name]
        if not folder.is_dir():
            print(f"skipping {name}: {folder} not found", file=sys.stderr)
            continue
        res = run(folder, models=models)
        write_json(res, Path(args.out) / f"mastery_{name}.json")
        print(f"\n{name}: {res['rows']} rows, {res['answers']} answers, {res['students']} students")
        print(format_table(summary_rows(res)))
        combined[name] = {
            m: {
                k: r[k]
                for k in ("auc", "auc_rows", "rmse", "logloss", "fit_s", "predict_s", "peak_mem_mb")
                if k in r
            }
            for m, r in res["models"].items()
        }
    write_json({"benchmark": "mastery", "datasets": combined}, Path(args.out) / "mastery.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Mastery benchmark on the real fold sets (what ``make bench`` runs for mastery).

Runs ``edu-recsys bench mastery`` (the student-level 5-fold protocol) on the three
public fold copies in the data directory and writes one JSON per data set plus a
combined summary. Usage::

    python benchmarks/bench_mastery.py [--data-dir DIR] [--out DIR] [--models m1,m2]
                                       [--datasets assist2009,statics2011,assist2015]
    python benchmarks/bench_mastery.py --select [--outer 1] [--inner 2,3]

Timings depend on the machine's load; the JSON records the load average at the start
and end of each run.

``--select`` reproduces how the ``default`` preset was chosen without test data: each
candidate configuration is scored by *inner* cross-validation on the training folds of
outer fold ``--outer`` only (fit on the other training folds, per-answer AUC on each
inner fold of ``--inner``), plus a drop-one ablation of the default's blocks; the test
fold itself is never read. Writes ``mastery_default_selection.json``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from edu_recsys.cli._common import format_table, write_json
from edu_recsys.cli.bench.mastery import run, summary_rows
from edu_recsys.datasets import FOLD_DIRS, resolve_data_dir

DEFAULT_OUT = Path(__file__).resolve().parent / "results"

_SESSION1_BLOCKS = (
    "item",
    "concept",
    "concept_counts",
    "item_counts",
    "total_counts",
    "item_prior",
    "rates",
    "recent",
    "gap",
    "ability",
    "elapsed",
    "interactions",
)

#: (label, set_params of make_model("default")) in the order they were tried
CANDIDATES = [
    (
        "session-1 default",
        dict(
            features__blocks=_SESSION1_BLOCKS,
            features__halflives=(3.0, 10.0, 30.0),
            features__block_scale=None,
            classifier__C=1.0,
        ),
    ),
    *[
        (
            f"+ transition {w}",
            dict(
                features__blocks=_SESSION1_BLOCKS + ("transition",),
                features__halflives=(3.0, 10.0, 30.0),
                features__block_scale={"transition": w},
                classifier__C=1.0,
            ),
        )
        for w in (0.3, 0.5, 0.7)
    ],
    (
        "+ transition 0.5, half-lives 1-100",
        dict(features__blocks=_SESSION1_BLOCKS + ("transition",), classifier__C=1.0),
    ),
    ("+ long_ability (C = 1)", dict(classifier__C=1.0)),
    ("default (C = 0.5)", {}),
    ("default_plus", dict(features__blocks=None)),  # filled in below
]


def select(root: Path, outer: int, inner: list[int]) -> dict:
    """Inner-CV scores of :data:`CANDIDATES` and a drop-one ablation (training folds only)."""
    import numpy as np

    from edu_recsys.data import read_folds
    from edu_recsys.evaluate import cross_validate_tracer
    from edu_recsys.mastery import make_model
    from edu_recsys.mastery.presets import DEFAULT_BLOCKS

    df = read_folds(root / FOLD_DIRS["assist2009"])
    train = df[df["fold"] != outer].reset_index(drop=True)
    cands = list(CANDIDATES)
    cands[-1] = ("default_plus", dict(features__blocks=DEFAULT_BLOCKS + ("item_transition",)))
    for b in DEFAULT_BLOCKS:
        if b in ("item", "concept", "concept_counts", "item_counts", "total_counts", "elapsed"):
            continue  # Best-LR's own blocks; elapsed is inactive without timestamps
        cands.append(
            (
                f"default without {b}",
                dict(features__blocks=tuple(x for x in DEFAULT_BLOCKS if x != b)),
            )
        )
    out = {"outer_fold": outer, "inner_folds": inner, "loadavg_start": list(os.getloadavg())}
    rows = []
    for label, params in cands:
        res = cross_validate_tracer(make_model("default", **params), train, folds=inner)
        aucs = [f["auc"] for f in res["folds"]]
        rows.append(
            {
                "candidate": label,
                "inner_auc": float(np.mean(aucs)),
                "inner_aucs": aucs,
                "fit_cpu_s": res["fit_cpu_s"],
            }
        )
        print(f"{np.mean(aucs):.5f}  {label}", flush=True)
    out["candidates"] = rows
    out["loadavg_end"] = list(os.getloadavg())
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--out", default=str(DEFAULT_OUT), help="folder for the JSON results")
    ap.add_argument("--models", default=None, help="comma-separated presets (default: all)")
    ap.add_argument("--datasets", default=",".join(FOLD_DIRS))
    ap.add_argument("--select", action="store_true", help="inner-CV selection (see above)")
    ap.add_argument("--outer", type=int, default=1, help="--select: the outer test fold")
    ap.add_argument("--inner", default="2,3", help="--select: inner validation folds")
    args = ap.parse_args(argv)
    root = resolve_data_dir(args.data_dir)
    if args.select:
        res = select(root, args.outer, [int(f) for f in args.inner.split(",")])
        write_json(res, Path(args.out) / "mastery_default_selection.json")
        return 0
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

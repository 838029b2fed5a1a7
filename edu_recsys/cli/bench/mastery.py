"""``edu-recsys bench mastery``: the student-level k-fold benchmark on public fold files.

For each fold k of a folder of ``*test1..5.csv[.gz]`` files: fit every model on the
other folds, predict every answer of fold k from the student's own earlier answers;
print a table and write one JSON object::

    {"dataset": ..., "rows": N, "models": {NAME: {"auc": mean, "auc_folds": [...],
     "rmse": ..., "logloss": ..., "fit_s": ..., "predict_s": ..., "peak_mem_mb": ...,
     ...}}}

``auc``, ``rmse``, ``logloss`` are per answer (an expanded multi-concept answer counts
once); ``auc_rows`` etc. give every expanded row its answer's prediction (the unit of
most published tables). ``fit_s`` and ``predict_s`` are mean seconds per fold.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from edu_recsys.cli._common import format_table, write_json

DEFAULT_MODELS = ("irt", "pfa", "das3h", "best_lr", "bkt", "bkt_forget", "default")


def run(
    folds_dir: str | os.PathLike,
    models: list[str] | None = None,
    folds: list[int] | None = None,
    memory: bool = True,
    leaky_rows: bool = False,
    online: bool = True,
    threads: int | None = 1,
) -> dict:
    """Run the benchmark and return the JSON object (see the module docstring).

    ``threads`` caps the BLAS threads (default 1: on a shared 2-core machine, CPU
    seconds then approximate the wall time an idle machine would show).
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=threads):
        return _run(folds_dir, models, folds, memory, leaky_rows, online, threads)


def _run(folds_dir, models, folds, memory, leaky_rows, online, threads) -> dict:
    from edu_recsys.data import read_folds
    from edu_recsys.evaluate import cross_validate_tracer
    from edu_recsys.mastery import build_answers, make_model

    folder = Path(folds_dir)
    t0 = time.perf_counter()
    df = read_folds(folder)
    read_s = time.perf_counter() - t0
    ans = build_answers(df)
    names = list(models or DEFAULT_MODELS)
    out: dict = {
        "dataset": folder.name,
        "folds_dir": str(folder),
        "rows": int(len(df)),
        "answers": int(ans.n_answers),
        "students": int(len(ans.student_ids)),
        "items": int(len(ans.item_ids)),
        "concepts": int(len(ans.concept_ids)),
        "read_s": read_s,
        "protocol": (
            "student-level 5-fold: fit on the other folds, predict each answer of the test "
            "fold from the student's own earlier answers; auc/rmse/logloss per answer, "
            "*_rows per expanded row"
            + (
                "; LEAKY: expanded rows treated as separate answers (literature comparison only)"
                if leaky_rows
                else ""
            )
        ),
        "machine": {
            "cpus": os.cpu_count(),
            "blas_threads": threads,
            "loadavg_start": list(os.getloadavg()),
        },
        "models": {},
    }
    for name in names:
        model = make_model(name)
        if leaky_rows:
            key = (
                "features__merge_expanded" if "features" in model.get_params() else "merge_expanded"
            )
            model.set_params(**{key: False})
        res = cross_validate_tracer(
            model, df, folds=folds, measure_memory=memory, online=online and name == "default"
        )
        fold_rows = res.pop("folds")
        res["fold_details"] = [{k: v for k, v in f.items() if k != "segments"} for f in fold_rows]
        out["models"][name] = res
    out["machine"]["loadavg_end"] = list(os.getloadavg())
    return out


def summary_rows(result: dict) -> list[dict]:
    rows = []
    for name, r in result["models"].items():
        rows.append(
            {
                "model": name,
                "auc": r.get("auc"),
                "auc_std": r.get("auc_std"),
                "auc_rows": r.get("auc_rows"),
                "rmse": r.get("rmse"),
                "logloss": r.get("logloss"),
                "ece": r.get("ece"),
                "fit_s": r.get("fit_s"),
                "fit_cpu_s": r.get("fit_cpu_s"),
                "predict_s": r.get("predict_s"),
                "answers_per_s": r.get("predict_answers_per_s"),
                "peak_mem_mb": r.get("peak_mem_mb"),
            }
        )
    return rows


def _cmd(args) -> int:
    models = [m.strip() for m in args.models.split(",")] if args.models else None
    if models:
        from edu_recsys.mastery import list_models

        unknown = [m for m in models if m not in list_models()]
        if unknown:
            print(
                f"edu-recsys bench mastery: error: unknown model(s) {', '.join(unknown)}; "
                f"known: {', '.join(list_models())}",
                file=sys.stderr,
            )
            return 2
    folds = [int(f) for f in args.folds.split(",")] if args.folds else None
    result = run(
        args.folds_dir,
        models=models,
        folds=folds,
        memory=not args.no_memory,
        leaky_rows=args.leaky_rows,
        threads=args.threads or None,
    )
    print(
        f"{result['dataset']}: {result['rows']} rows, {result['answers']} answers, "
        f"{result['students']} students" + (" [LEAKY per-row protocol]" if args.leaky_rows else "")
    )
    print(format_table(summary_rows(result)))
    write_json(result, args.json)
    return 0


def register(sub) -> None:
    p = sub.add_parser(
        "mastery",
        help="student-level k-fold benchmark of the mastery models on public fold files",
    )
    p.add_argument("--folds-dir", required=True, help="folder of *test1..5.csv[.gz] fold files")
    p.add_argument(
        "--models",
        default=None,
        help=f"comma-separated presets (default: {','.join(DEFAULT_MODELS)})",
    )
    p.add_argument("--json", default=None, help="write the figures to this JSON file (- = stdout)")
    p.add_argument("--folds", default=None, help="only these test folds, e.g. 1,2 (default all)")
    p.add_argument(
        "--no-memory", action="store_true", help="skip the peak-memory measurement (tracemalloc)"
    )
    p.add_argument(
        "--threads", type=int, default=1, help="BLAS threads (default 1; 0 = library default)"
    )
    p.add_argument(
        "--leaky-rows",
        action="store_true",
        help="treat expanded multi-concept rows as separate answers (the leaky protocol of "
        "part of the literature; for comparison only)",
    )
    p.set_defaults(func=_cmd)

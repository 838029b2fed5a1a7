"""Train the shipped default mastery model on all of ASSISTments 2009 (AKT folds).

Usage (from the repository root)::

    .venv/bin/python models/train_default.py [--data-dir DIR] [--out FILE]

Writes the model with :func:`edu_recsys.mastery.save_model`; its metadata record the
data, the training time and the benchmark figures of ``benchmarks/results`` when they
exist. The model card is ``models/default_assist2009.md``.
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import datetime, timezone
from pathlib import Path

from edu_recsys.data import read_folds
from edu_recsys.datasets import FOLD_DIRS, resolve_data_dir
from edu_recsys.mastery import build_answers, make_model, save_model

HERE = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--out", default=str(HERE / "default_assist2009.joblib"))
    args = ap.parse_args(argv)
    folder = resolve_data_dir(args.data_dir) / FOLD_DIRS["assist2009"]
    df = read_folds(folder)
    ans = build_answers(df)
    model = make_model("default")
    t0 = time.process_time()
    model.fit(df)
    fit_cpu = time.process_time() - t0
    meta = {
        "dataset": "ASSISTments 2009-2010 skill builder, AKT 5-fold copy (all 5 folds)",
        "folds_dir": FOLD_DIRS["assist2009"],
        "rows": int(len(df)),
        "answers": int(ans.n_answers),
        "students": int(len(ans.student_ids)),
        "items": int(len(model.features_.items_)),
        "concepts": int(len(model.features_.concepts_)),
        "preset": "default",
        "params": {k: repr(v) for k, v in model.get_params(deep=True).items() if "__" in k},
        "fit_cpu_s": round(fit_cpu, 2),
        "trained_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    bench = HERE.parent / "benchmarks" / "results" / "mastery_assist2009.json"
    if bench.exists():
        res = json.loads(bench.read_text())["models"].get("default", {})
        meta["cv_figures"] = {
            k: res.get(k) for k in ("auc", "auc_std", "auc_rows", "rmse", "logloss")
        }
    path = save_model(model, args.out, metadata=meta)
    print(
        f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB): {meta['answers']} answers, "
        f"{meta['items']} items, {meta['concepts']} concepts, fit {fit_cpu:.1f} CPU s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

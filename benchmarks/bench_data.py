"""Read times of the public fold files and logs (JSON figures + a short table).

Usage: python benchmarks/bench_data.py [--data-dir DIR] [--json PATH] [--repeat N]
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

from edu_recsys.cli._common import format_table, write_json
from edu_recsys.datasets import load_dataset, resolve_data_dir

SETS = ["assist2009_folds", "statics2011_folds", "assist2015_folds", "cognitive_tutor_sample"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data-dir")
    ap.add_argument("--json")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    root = resolve_data_dir(args.data_dir)
    results = {}
    for name in SETS:
        times = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            ds = load_dataset(name, root)
            times.append(time.perf_counter() - t0)
        tracemalloc.start()
        load_dataset(name, root)
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        rows = ds.provenance["counts"]["rows"]
        results[name] = {
            "rows": rows,
            "read_s_best": min(times),
            "rows_per_s": rows / min(times),
            "peak_mem_mb": peak,
        }
    out = {"benchmark": "data_read", "data_dir": str(root), "datasets": results}
    print(format_table([{"dataset": k, **v} for k, v in results.items()]))
    write_json(out, args.json or "-")


if __name__ == "__main__":
    main()

"""Recommendation benchmark: gain per minute in simulation, NDCG@10 on EdNet, latency.

A thin wrapper around ``edu-recsys bench recommend`` (the contract); every option of
that command is accepted. Without options it runs the documented configuration (12
seeds from 100) and writes ``benchmarks/results/recommend_default.json``
(``recommend_tracer.json`` with ``--observe tracer``: the library's tracer, calibrated,
as the policies' mastery input), e.g.

    nice -n 10 python benchmarks/bench_recommend.py
    nice -n 10 python benchmarks/bench_recommend.py --observe tracer --no-latency --no-ranking
    nice python benchmarks/bench_recommend.py --quick --json -
"""

from __future__ import annotations

import sys
from pathlib import Path

from edu_recsys.cli import main

RESULTS = Path(__file__).resolve().parent / "results"

if __name__ == "__main__":
    argv = sys.argv[1:]
    if "--no-progress" not in argv:
        argv.append("--no-progress")
    if "--quick" not in argv:
        if "--json" not in argv:
            pairs = zip(argv, argv[1:])
            tracer = "--observe=tracer" in argv or ("--observe", "tracer") in pairs
            name = "recommend_tracer.json" if tracer else "recommend_default.json"
            argv += ["--json", str(RESULTS / name)]
        if "--seeds" not in argv:
            argv += ["--seeds", "12"]
    sys.exit(main(["bench", "recommend", *argv]))

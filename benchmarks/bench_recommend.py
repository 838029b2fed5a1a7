"""Recommendation benchmark: gain per minute in simulation, NDCG@10 on EdNet, latency.

A thin wrapper around ``edu-recsys bench recommend`` (the contract); every option of
that command is accepted, e.g.

    nice python benchmarks/bench_recommend.py --json bench-recommend.json
    nice python benchmarks/bench_recommend.py --quick
"""

from __future__ import annotations

import sys

from edu_recsys.cli import main

if __name__ == "__main__":
    argv = sys.argv[1:]
    if "--no-progress" not in argv:
        argv.append("--no-progress")
    sys.exit(main(["bench", "recommend", *argv]))

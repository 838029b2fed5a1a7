"""Province-size logs through Dask: 20 M simulated answers end to end, parity with memory.

Usage (the figures of docs/scale.md)::

    nice python benchmarks/bench_scale.py --json bench-scale.json
    # smaller: --answers 2000000 --students 20000 --slice-answers 1000000

Every option of ``edu-recsys bench scale`` is accepted (``--help``).
"""

from __future__ import annotations

import sys

from edu_recsys.cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", "scale", *sys.argv[1:]]))

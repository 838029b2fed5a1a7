"""Every benchmark of the project, in order (``make bench``).

Each entry is a script in this folder run with the same Python; add yours to
``BENCHMARKS``. A failing benchmark is reported and the others still run; the exit
code is non-zero when any failed.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

#: (name, script, extra arguments)
BENCHMARKS: list[tuple[str, str, list[str]]] = [
    ("data", "bench_data.py", ["--json", str(HERE / "results" / "data_read.json")]),
    ("mastery", "bench_mastery.py", []),
    ("graph_learn", "bench_graph_learn.py", ["--json", str(HERE / "results" / "graph_learn.json")]),
    ("paths", "bench_paths.py", []),
    ("recommend", "bench_recommend.py", []),
    ("classroom", "bench_classroom.py", ["--json", str(HERE / "results" / "classroom.json")]),
    ("api", "bench_api.py", ["--json", str(HERE / "results" / "api_sqlite_1worker.json")]),
    (
        "scale",
        "bench_scale.py",
        ["--answers", "2000000", "--students", "20000", "--slice-answers", "1000000"],
    ),
]


def main() -> int:
    failed = []
    for name, script, extra in BENCHMARKS:
        print(f"=== {name} ({script})", flush=True)
        t0 = time.perf_counter()
        code = subprocess.call([sys.executable, str(HERE / script), *extra])
        print(f"=== {name}: exit {code} in {time.perf_counter() - t0:.0f} s", flush=True)
        if code:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""``edu-recsys bench ...``: benchmarks that print a table and write one JSON object.

One module per benchmark (``mastery``, ``paths``, ``recommend``, ``scale``), each with
``register(subparsers)``.
"""

from __future__ import annotations

import importlib

BENCH_MODULES = ("mastery", "paths", "recommend", "scale")


def register(sub) -> None:
    p = sub.add_parser("bench", help="run a benchmark (prints a table, --json writes figures)")
    bsub = p.add_subparsers(dest="bench", metavar="BENCHMARK")
    for name in BENCH_MODULES:
        modname = f"edu_recsys.cli.bench.{name}"
        try:
            mod = importlib.import_module(modname)
        except ModuleNotFoundError as e:
            if e.name == modname:
                continue
            raise
        mod.register(bsub)
    p.set_defaults(func=lambda args: p.print_help() or 2)

"""The ``edu-recsys`` command line.

One module per command group; each module exposes ``register(subparsers)`` which adds
its parser and sets ``func`` (a callable taking the parsed args and returning an exit
code). Printing belongs here, never in the library.

Every command exits non-zero with a one-line reason on bad input.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from edu_recsys.exceptions import EduRecsysError

__all__ = ["main", "build_parser"]

# Command groups, in the order shown by --help. A module that is not present in this
# installation is skipped (its command is then unknown to argparse).
COMMAND_MODULES = (
    "data",
    "graph",
    "bench",
    "demo",
    "class_report",
    "serve",
    "token",
    "batch",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="edu-recsys",
        description="Precise, data-driven teaching: knowledge graphs, mastery, recommendations.",
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        modname = f"edu_recsys.cli.{name}"
        try:
            mod = importlib.import_module(modname)
        except ModuleNotFoundError as e:
            if e.name == modname:
                continue
            raise
        mod.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING - 10 * min(args.verbose, 2),
        format="%(levelname)s %(name)s: %(message)s",
    )
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except EduRecsysError as e:
        print(f"edu-recsys {args.command}: error: {e}", file=sys.stderr)
        return 2
    except (FileNotFoundError, PermissionError, IsADirectoryError) as e:
        print(f"edu-recsys {args.command}: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

"""Exceptions raised by :mod:`edu_recsys.graph`."""

from __future__ import annotations

from collections.abc import Sequence

import networkx as nx

from edu_recsys.exceptions import EduRecsysError, InvalidDataError

__all__ = ["GraphError", "CycleError", "CurriculumError"]


class GraphError(EduRecsysError):
    """A knowledge graph cannot be used for the requested operation."""


class CycleError(GraphError, nx.NetworkXUnfeasible):
    """The prerequisite relation has a cycle, so no learning order exists.

    Parameters
    ----------
    cycle : sequence of str
        The concepts on one cycle, in prerequisite order (the first is repeated
        at the end in the message).

    Examples
    --------
    >>> str(CycleError(["a", "b"]))
    'prerequisite cycle: a -> b -> a'
    """

    def __init__(self, cycle: Sequence[str]) -> None:
        self.cycle = list(cycle)
        path = " -> ".join([*self.cycle, self.cycle[0]]) if self.cycle else "?"
        super().__init__(f"prerequisite cycle: {path}")


class CurriculumError(InvalidDataError):
    """A curriculum file (or graph) has problems that prevent loading it.

    ``problems`` holds every :class:`~edu_recsys.graph.validate.Problem` found;
    the message shows the first few, one per line.
    """

    max_problems_shown = 5

    def __init__(self, problems: Sequence, source: str | None = None) -> None:
        self.problems = list(problems)
        shown = [str(p) for p in self.problems[: self.max_problems_shown]]
        more = len(self.problems) - len(shown)
        text = "; ".join(shown) + (f"; and {more} more" if more > 0 else "")
        super().__init__(f"{len(self.problems)} problem(s): {text}", source=source)

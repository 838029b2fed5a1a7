"""One problem found in a curriculum file or knowledge graph."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Problem", "ERROR", "WARNING"]

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class Problem:
    """A problem found by validation, printable as one line.

    Attributes
    ----------
    code : str
        Short kind: ``syntax``, ``schema``, ``duplicate_id``, ``duplicate_edge``,
        ``dangling``, ``cycle``, ``unreachable``, ``grade_backwards``,
        ``missing_attribute``, ``any_of``, ``isolated``.
    message : str
        What is wrong, naming the concepts (a cycle as ``a -> b -> a``).
    concepts : tuple of str
        The concepts involved (for programs).
    severity : {"error", "warning"}
        Errors make a file invalid; warnings are reported but accepted.
    location : str
        Where in the file, e.g. ``concepts[12].requires``, when known.

    Examples
    --------
    >>> str(Problem("cycle", "a -> b -> a", ("a", "b")))
    'error [cycle] a -> b -> a'
    >>> str(Problem("isolated", "x has no edges", ("x",), "warning", "concepts[3]"))
    'warning [isolated] concepts[3]: x has no edges'
    """

    code: str
    message: str
    concepts: tuple[str, ...] = field(default_factory=tuple)
    severity: str = ERROR
    location: str = ""

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR

    def __str__(self) -> str:
        where = f"{self.location}: " if self.location else ""
        return f"{self.severity} [{self.code}] {where}{self.message}"

    def to_dict(self) -> dict:
        """A JSON-ready form (for the API and ``--json`` outputs)."""
        return {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "concepts": list(self.concepts),
            "location": self.location,
        }

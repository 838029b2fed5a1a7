"""Public exceptions shared by every layer.

Each module may define more specific exceptions; all of them derive from
:class:`EduRecsysError` so that callers can catch the library's errors in one place.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["EduRecsysError", "InvalidDataError", "UnknownIdError"]


class EduRecsysError(Exception):
    """Base class of every error raised on purpose by edu_recsys."""


class InvalidDataError(EduRecsysError, ValueError):
    """Input data does not have the expected shape or values.

    Parameters
    ----------
    message : str
        What is wrong and what was expected.
    column : str, optional
        The offending column (or field).
    rows : sequence of int, optional
        Offending row positions (0-based positions in the input table). Only the
        first few are kept in the message; all are kept in :attr:`rows`.
    expected : str, optional
        What was expected, in words.
    source : str, optional
        The file (or other source) that was read.
    line_offset : int, optional
        When ``source`` is a text file, the file line of row position 0 (e.g. 2 for a
        CSV with one header line); rows are then also reported as file lines.

    Examples
    --------
    >>> err = InvalidDataError("values must be 0 or 1", column="correct", rows=[3, 7])
    >>> str(err)
    "column 'correct': values must be 0 or 1 (rows 3, 7)"
    """

    max_rows_shown = 5

    def __init__(
        self,
        message: str,
        *,
        column: str | None = None,
        rows: Sequence[int] | None = None,
        expected: str | None = None,
        source: str | None = None,
        line_offset: int | None = None,
    ) -> None:
        self.reason = message
        self.column = column
        self.rows = [int(r) for r in rows] if rows is not None else []
        self.expected = expected
        self.source = source
        self.line_offset = line_offset
        super().__init__(self._format())

    def _format(self) -> str:
        parts = []
        if self.source:
            parts.append(f"{self.source}: ")
        if self.column is not None:
            parts.append(f"column {self.column!r}: ")
        parts.append(self.reason)
        if self.expected:
            parts.append(f"; expected {self.expected}")
        if self.rows:
            shown = self.rows[: self.max_rows_shown]
            more = len(self.rows) - len(shown)
            tail = f" and {more} more" if more > 0 else ""
            if self.line_offset is not None:
                lines = ", ".join(str(r + self.line_offset) for r in shown)
                parts.append(f" (file lines {lines}{tail})")
            else:
                parts.append(f" (rows {', '.join(map(str, shown))}{tail})")
        return "".join(parts)

    def to_dict(self) -> dict:
        """A JSON-ready description, used by the API's 4xx bodies."""
        return {
            "error": "invalid_data",
            "message": str(self),
            "column": self.column,
            "rows": self.rows[:100],
            "expected": self.expected,
            "source": self.source,
        }


class UnknownIdError(EduRecsysError, KeyError):
    """A student, item, concept or resource id is not known where it is required.

    Where the library has a documented fallback for unknown ids it uses it and flags
    the output instead of raising; this error is for the places that have none.
    """

    def __init__(self, kind: str, ids: Sequence[str] | str, hint: str = "") -> None:
        self.kind = kind
        self.ids = [ids] if isinstance(ids, str) else list(ids)
        shown = ", ".join(map(repr, self.ids[:5]))
        more = f" and {len(self.ids) - 5} more" if len(self.ids) > 5 else ""
        msg = f"unknown {kind} id(s): {shown}{more}"
        if hint:
            msg += f"; {hint}"
        self.message = msg
        super().__init__(msg)

    def __str__(self) -> str:  # KeyError would repr() the message
        return self.message

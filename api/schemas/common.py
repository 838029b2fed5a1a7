"""Shared shapes: errors and pages."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["ErrorDetail", "ErrorBody", "Page", "ERROR_RESPONSES", "errors"]

T = TypeVar("T")


class ErrorDetail(BaseModel):
    field: str | None = Field(None, description="offending field, e.g. interactions[3].correct")
    row: int | None = Field(None, description="offending row of a batch (0-based)")
    message: str


class ErrorBody(BaseModel):
    """Every 4xx/5xx answer has this shape."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "error": "invalid_data",
                    "message": "column 'correct': non-binary values such as 2.0; expected 0 or 1"
                    " (rows 3)",
                    "field": "correct",
                    "rows": [3],
                    "expected": "0 or 1",
                }
            ]
        }
    )

    error: str = Field(description="machine-readable code, e.g. invalid_data, not_found")
    message: str = Field(description="what is wrong, for people")
    field: str | None = Field(None, description="offending field or column")
    rows: list[int] = Field(default_factory=list, description="offending rows (0-based)")
    expected: str | None = None
    details: list[ErrorDetail] = Field(default_factory=list)


class Page(BaseModel, Generic[T]):
    """One page of a list: ``items`` from ``offset``, at most ``limit``, of ``total``."""

    items: list[T]
    total: int = Field(ge=0)
    offset: int = Field(ge=0)
    limit: int = Field(ge=1)


_DESCR = {
    400: "Malformed request",
    401: "Missing, unknown, revoked or expired token",
    403: "The token's role or scope does not allow this",
    404: "Unknown id",
    409: "Conflicts with the stored state",
    413: "Request body too large",
    422: "Invalid input: the message names the field and rows",
    503: "Not available in this build, or no fitted model yet",
}


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for these error codes."""
    return {c: {"model": ErrorBody, "description": _DESCR[c]} for c in codes}


#: Errors any authenticated route can answer.
ERROR_RESPONSES = errors(400, 401, 403, 413, 422)

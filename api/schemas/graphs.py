"""Subject knowledge graphs."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class GraphInfo(BaseModel):
    graph_id: str
    name: str | None = None
    subject: str | None = None
    version: str | None = None
    n_concepts: int
    n_edges: int
    updated_at: dt.datetime | None = None


class ConceptOut(BaseModel):
    concept_id: str
    name: str | None = None
    name_en: str | None = None
    grade: int | None = None
    subject: str | None = None
    unit: str | None = None
    difficulty: float | None = None
    description: str | None = None


class EdgeOut(BaseModel):
    source: str
    target: str
    relation: str | None = None
    any_of: str | None = None


class GraphDetail(BaseModel):
    info: GraphInfo
    concepts: list[ConceptOut]
    edges: list[EdgeOut]
    n_items: int = Field(description="items linked to concepts in the graph")
    n_resources: int = Field(description="resources linked to concepts in the graph")


class GraphUpload(BaseModel):
    """A curriculum: as an object (``curriculum``) or as YAML/JSON text (``content``)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "format": "yaml",
                    "content": "subject: math\nconcepts:\n  - id: a\n    name: 有理数\n"
                    "    name_en: rational numbers\n    grade: 7\n    unit: u1\n",
                }
            ]
        }
    )

    curriculum: dict[str, Any] | None = Field(None, description="the curriculum file as JSON")
    content: str | None = Field(None, max_length=5_000_000, description="file text")
    format: Literal["yaml", "json"] = "yaml"

    @model_validator(mode="after")
    def _one_source(self):
        if (self.curriculum is None) == (self.content is None):
            raise ValueError("give exactly one of 'curriculum' or 'content'")
        return self


class ProblemOut(BaseModel):
    code: str
    severity: str
    message: str
    concepts: list[str] = []
    location: str = ""


class GraphValidation(BaseModel):
    valid: bool = Field(description="no problem of severity 'error'")
    n_errors: int
    n_warnings: int
    problems: list[ProblemOut]

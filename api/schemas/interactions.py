"""Answers: batch ingestion and xAPI statements."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from api.settings import HARD_MAX_BATCH_ROWS


class InteractionIn(BaseModel):
    """One answer (the canonical interactions columns)."""

    model_config = ConfigDict(extra="forbid")

    student_id: str = Field(min_length=1, max_length=128)
    item_id: str = Field(min_length=1, max_length=200)
    concept_ids: list[str] = Field(default_factory=list, max_length=100)
    correct: Literal[0, 1] = Field(description="first-attempt correctness")
    score: float | None = Field(None, ge=0, le=1, description="partial credit")
    timestamp: dt.datetime | None = Field(None, description="ISO 8601; UTC when no zone")
    duration_s: float | None = Field(None, ge=0)
    resource_id: str | None = Field(None, max_length=128)
    event_id: str | None = Field(
        None,
        min_length=1,
        max_length=200,
        description="unique id of the answer: a retried batch is then not counted twice "
        "(when absent, one is derived from student, item and timestamp)",
    )

    @field_validator("timestamp")
    @classmethod
    def _utc(cls, v: dt.datetime | None) -> dt.datetime | None:
        if v is not None and v.tzinfo is None:
            return v.replace(tzinfo=dt.timezone.utc)
        return v


class InteractionBatch(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "interactions": [
                        {
                            "student_id": "s001",
                            "item_id": "q-17",
                            "concept_ids": ["m7.eq.linear_equation"],
                            "correct": 1,
                            "timestamp": "2026-03-02T08:15:00Z",
                            "duration_s": 42,
                            "event_id": "platform-1234567",
                        }
                    ]
                }
            ]
        },
    )

    interactions: list[InteractionIn] = Field(min_length=1, max_length=HARD_MAX_BATCH_ROWS)


class XapiBatch(BaseModel):
    """xAPI statements; ``answered`` statements become answers, others are counted."""

    statements: list[dict[str, Any]] = Field(min_length=1, max_length=HARD_MAX_BATCH_ROWS)


class IngestOut(BaseModel):
    received: int = Field(description="answers in the batch")
    inserted: int = Field(description="answers stored now")
    duplicates: int = Field(description="answers already stored (same event_id): skipped")
    derived_event_ids: int
    students: int = Field(description="students with new answers")
    mastery_updated: bool = Field(description="online mastery state updated for them")
    skipped_statements: int = 0

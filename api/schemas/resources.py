"""The learning-resource catalogue."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ResourceIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "resource_id": "r-001",
                    "title": "一元一次方程 微课",
                    "type": "video",
                    "concept_ids": ["m7.eq.linear_equation"],
                    "grade": 7,
                    "subject": "math",
                    "minutes": 8,
                    "difficulty": 0.4,
                    "source": "市级精品课程",
                    "is_quality": True,
                }
            ]
        },
    )

    resource_id: str = Field(min_length=1, max_length=128)
    title: str = Field(min_length=1, max_length=500)
    type: str = Field(min_length=1, max_length=64, description="video, exercise_set, reading, ...")
    concept_ids: list[str] = Field(default_factory=list, max_length=200)
    grade: int | None = Field(None, ge=0, le=20)
    subject: str | None = Field(None, max_length=64)
    minutes: float | None = Field(None, ge=0, le=10_000)
    difficulty: float | None = Field(None, ge=0, le=1)
    source: str | None = Field(None, max_length=200)
    is_quality: bool = False
    url: str | None = Field(None, max_length=1000)


class ResourceOut(ResourceIn):
    model_config = ConfigDict(extra="ignore")


class ResourceBatch(BaseModel):
    resources: list[ResourceIn] = Field(min_length=1, max_length=10_000)


class UpsertResult(BaseModel):
    received: int
    inserted: int
    updated: int

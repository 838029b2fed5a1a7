"""Classes: roster, report, recommendations, homework, teaching groups."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class StudentRef(BaseModel):
    model_config = ConfigDict(extra="forbid")

    student_id: str = Field(min_length=1, max_length=128)
    name: str | None = Field(None, max_length=200, description="never logged")
    grade: int | None = Field(None, ge=0, le=20)


class ClassIn(BaseModel):
    """Create or update a class; omitted fields keep their stored values."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "八年级1班",
                    "grade": 8,
                    "subject": "math",
                    "graph_id": "math-7-9",
                    "teacher_ids": ["t-wang"],
                    "students": [{"student_id": "s001", "name": "张三"}],
                }
            ]
        },
    )

    name: str | None = Field(None, max_length=200)
    grade: int | None = Field(None, ge=0, le=20)
    subject: str | None = Field(None, max_length=64)
    school_id: str | None = Field(None, min_length=1, max_length=128)
    graph_id: str | None = Field(None, min_length=1, max_length=128)
    current_unit: str | None = Field(None, max_length=200)
    settings: dict[str, Any] | None = Field(
        None, description="e.g. {'homework_minutes': 60} (per-class homework budget)"
    )
    teacher_ids: list[str] | None = Field(None, max_length=100)
    students: list[StudentRef] | None = Field(None, max_length=5000, description="full roster")


class ClassOut(BaseModel):
    class_id: str
    name: str | None
    grade: int | None
    subject: str | None
    school_id: str | None
    graph_id: str | None
    current_unit: str | None
    settings: dict[str, Any]
    teacher_ids: list[str]
    n_students: int


class ClassResult(BaseModel):
    """A class-level result of the library (report, homework, groups, recommendations)."""

    model_config = ConfigDict(extra="allow")

    class_id: str
    model_id: int | None = None

"""Students: mastery, recommendations, learning paths, data rights."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class ConceptMastery(BaseModel):
    concept_id: str
    name: str | None = None
    name_en: str | None = None
    mastery: float = Field(ge=0, le=1, description="P(success on a typical item now)")
    mastered: bool
    evidence: int = Field(ge=0, description="answers on this concept")
    fallback: str = Field("", description="'' or the fallback used, e.g. unseen_concept")


class MasteryOut(BaseModel):
    student_id: str
    model_id: int
    threshold: float
    n_answers: int
    concepts: list[ConceptMastery]


class FlexibleOut(BaseModel):
    """Library output passed through as JSON (its columns are documented by the library)."""

    model_config = ConfigDict(extra="allow")


class RecommendationsOut(FlexibleOut):
    student_id: str
    items: list[dict[str, Any]]


class PathOut(FlexibleOut):
    student_id: str
    targets: list[str]
    steps: list[dict[str, Any]]


class EraseOut(BaseModel):
    student_id: str
    erased: bool
    interactions_deleted: int
    mastery_snapshots_deleted: int
    enrolments_deleted: int
    tokens_deleted: int
    items_recomputed: int
    models_trained_on_student: list[int]
    refitted_model_id: int | None


class StudentExport(FlexibleOut):
    student: dict[str, Any]
    interactions: list[dict[str, Any]]
    mastery: dict[str, Any] | None
    tokens: list[dict[str, Any]]
    exported_at: str

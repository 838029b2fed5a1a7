"""GET /health."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field


class ModelBrief(BaseModel):
    model_id: int
    name: str
    created_at: dt.datetime


class Health(BaseModel):
    status: str = Field(examples=["ok"])
    version: str
    database: str = Field(description="sqlite or postgresql")
    schema_revision: str | None
    model: ModelBrief | None = Field(None, description="the active mastery model, if any")
    features: dict[str, bool] = Field(
        description="library parts present in this build (graph, mastery, recommend, ...)"
    )

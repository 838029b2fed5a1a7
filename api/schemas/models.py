"""Fitted mastery models and refits."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class RefitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str | None = Field(
        None,
        max_length=64,
        description="edu_recsys.mastery.make_model preset (default: the service's setting)",
        examples=["default"],
    )


class ModelInfo(BaseModel):
    model_id: int
    name: str
    active: bool
    created_at: dt.datetime
    n_interactions: int
    n_students: int
    last_seq: int
    params: dict[str, Any]
    metrics: dict[str, Any]
    library_version: str | None
    artifact_bytes: int
    artifact_sha256: str


class ResearchExportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    salt: str | None = Field(
        None,
        min_length=16,
        max_length=200,
        description="secret salt of the pseudonyms (same salt, same pseudonyms); when "
        "omitted a random one is used and discarded (the export links to nothing)",
    )
    time_resolution: str | None = Field(
        None, pattern="^(D|h)$", description="floor timestamps to the day (D) or hour (h)"
    )

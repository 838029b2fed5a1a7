"""``GET /health``: liveness, database, schema version, model, library parts (no token)."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import ServingDep
from api.schemas.health import Health
from edu_recsys import __version__

router = APIRouter(tags=["health"])


@router.get("/health", response_model=Health, summary="Service status (no token needed)")
def health(serving: ServingDep) -> dict:
    return {**serving.health(), "version": __version__}

"""Fitted mastery models: list, and refit on every stored answer (admin)."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import AdminDep, ServingDep, SettingsDep, StoreDep
from api.schemas.common import ERROR_RESPONSES, errors
from api.schemas.models import ModelInfo, RefitIn

router = APIRouter(tags=["models"], responses=ERROR_RESPONSES)


@router.get("/models", response_model=list[ModelInfo], summary="Stored models, newest first")
def list_models(_: AdminDep, store: StoreDep) -> list[dict]:
    return store.list_models()


@router.post(
    "/refit",
    response_model=ModelInfo,
    responses=errors(503),
    summary="Fit the mastery model on all stored answers and make it active",
)
def refit(_: AdminDep, serving: ServingDep, settings: SettingsDep, body: RefitIn | None = None):
    return serving.refit((body.model if body else None) or settings.default_model)

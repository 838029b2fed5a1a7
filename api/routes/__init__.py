"""Routers, one module per resource, all under /api/v1."""

from __future__ import annotations

from fastapi import APIRouter

from api.routes import (
    classes,
    exports,
    graphs,
    health,
    interactions,
    login,
    models,
    resources,
    students,
)

__all__ = ["api_router"]

api_router = APIRouter()
for _m in (health, graphs, resources, interactions, students, classes, models, exports, login):
    api_router.include_router(_m.router)

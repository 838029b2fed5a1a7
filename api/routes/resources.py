"""The catalogue: list with filters (paginated), upsert a batch (admin)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api.deps import AdminDep, Principal, StoreDep, require_roles
from api.schemas.common import ERROR_RESPONSES, Page
from api.schemas.resources import ResourceBatch, ResourceOut, UpsertResult

router = APIRouter(prefix="/resources", tags=["resources"], responses=ERROR_RESPONSES)

Reader = Annotated[Principal, Depends(require_roles("admin", "teacher", "student"))]


@router.get("", response_model=Page[ResourceOut], summary="Resources matching all filters")
def list_resources(
    _: Reader,
    store: StoreDep,
    concept: Annotated[list[str] | None, Query(max_length=50)] = None,
    type: Annotated[list[str] | None, Query(max_length=20)] = None,
    grade: Annotated[int | None, Query(ge=0, le=20)] = None,
    subject: Annotated[str | None, Query(max_length=64)] = None,
    is_quality: bool | None = None,
    q: Annotated[str | None, Query(max_length=100, description="text in the title")] = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict:
    items, total = store.list_resources(
        concept=concept,
        type=type,
        grade=grade,
        subject=subject,
        is_quality=is_quality,
        q=q,
        offset=offset,
        limit=limit,
    )
    return {"items": items, "total": total, "offset": offset, "limit": limit}


@router.put(
    "",
    response_model=UpsertResult,
    summary="Insert or update resources by resource_id (one transaction, all or nothing)",
)
def upsert_resources(body: ResourceBatch, _: AdminDep, store: StoreDep) -> dict:
    return store.upsert_resources([r.model_dump() for r in body.resources])

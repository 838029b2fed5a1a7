"""Subject graphs: list, get, validate an upload, store an upload (admin)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from api.deps import AdminDep, Principal, ServingDep, StoreDep, require_roles
from api.schemas.common import ERROR_RESPONSES, Page, errors
from api.schemas.graphs import GraphDetail, GraphInfo, GraphUpload, GraphValidation

router = APIRouter(prefix="/graphs", tags=["graphs"], responses=ERROR_RESPONSES)

Reader = Annotated[Principal, Depends(require_roles("admin", "teacher", "student"))]
GraphId = Annotated[str, Path(min_length=1, max_length=128, examples=["math-7-9"])]


@router.get("", response_model=Page[GraphInfo], summary="Stored subject graphs")
def list_graphs(
    _: Reader,
    store: StoreDep,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict:
    items, total = store.list_graphs(offset=offset, limit=limit)
    return {"items": items, "total": total, "offset": offset, "limit": limit}


@router.get(
    "/{graph_id}",
    response_model=GraphDetail,
    responses=errors(404),
    summary="A graph's concepts and prerequisite edges",
)
def get_graph(graph_id: GraphId, _: Reader, serving: ServingDep) -> dict:
    return serving.graph_detail(graph_id)


@router.post(
    "/validate",
    response_model=GraphValidation,
    responses=errors(503),
    summary="Validate a curriculum file without storing it",
)
def validate_graph(
    body: GraphUpload,
    _: Annotated[Principal, Depends(require_roles("admin", "teacher"))],
    serving: ServingDep,
) -> dict:
    return serving.validate_curriculum(body.curriculum, content=body.content, fmt=body.format)


@router.put(
    "/{graph_id}",
    response_model=GraphInfo,
    responses=errors(503),
    summary="Store a curriculum as a subject graph (rejected with its problems if invalid)",
)
def put_graph(graph_id: GraphId, body: GraphUpload, _: AdminDep, serving: ServingDep) -> dict:
    return serving.store_curriculum(
        graph_id, body.curriculum, content=body.content, fmt=body.format
    )

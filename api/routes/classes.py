"""Classes: roster (admin), and for the class's teachers the report, recommendations,
homework, teaching groups and the dashboard page."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from api.deps import (
    AdminDep,
    ClassIdDep,
    Principal,
    ServingDep,
    SettingsDep,
    StoreDep,
    require_roles,
    run_read,
)
from api.schemas.classes import ClassIn, ClassOut, ClassResult
from api.schemas.common import ERROR_RESPONSES, Page, errors
from edu_recsys.store import Store
from edu_recsys.store.serving import Serving

router = APIRouter(prefix="/classes", tags=["classes"], responses=ERROR_RESPONSES)


async def _view(serving: Serving, store: Store, class_id: str, kind: str, **kw) -> Response:
    """A class view as JSON, encoded once per store version by the serving layer.

    Routes are ``async``: a result already cached for the store's current version is
    answered on the event loop (one small read); anything else is computed in the
    thread pool. The response schema is still documented by ``response_model``.
    """
    body = await run_read(store, serving.cached_class_view_json, class_id, kind, **kw)
    if body is None:
        body = await run_in_threadpool(serving.class_view_json, class_id, kind, **kw)
    return Response(body, media_type="application/json")


Staff = Annotated[Principal, Depends(require_roles("admin", "teacher"))]
Lang = Annotated[Literal["zh", "en"] | None, Query(description="page language (default zh)")]


@router.get("", response_model=Page[ClassOut], summary="Classes the token covers")
def list_classes(
    principal: Staff,
    store: StoreDep,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict:
    items, total = store.list_classes(class_ids=principal.class_ids, offset=offset, limit=limit)
    return {"items": items, "total": total, "offset": offset, "limit": limit}


@router.put(
    "/{class_id}",
    response_model=ClassOut,
    responses=errors(404),
    summary="Create or update a class and its roster (admin)",
)
def put_class(
    class_id: Annotated[str, Path(min_length=1, max_length=128)],
    body: ClassIn,
    _: AdminDep,
    store: StoreDep,
) -> dict:
    store.upsert_class(
        class_id,
        name=body.name,
        grade=body.grade,
        subject=body.subject,
        school_id=body.school_id,
        graph_id=body.graph_id,
        current_unit=body.current_unit,
        settings=body.settings,
        teacher_ids=body.teacher_ids,
        student_ids=[s.model_dump() for s in body.students] if body.students is not None else None,
    )
    return store.get_class(class_id)


@router.get("/{class_id}", response_model=ClassOut, responses=errors(404), summary="A class")
def get_class(class_id: ClassIdDep, store: StoreDep) -> dict:
    return store.get_class(class_id)


@router.get(
    "/{class_id}/report",
    response_model=ClassResult,
    responses=errors(404, 409, 503),
    summary="The class report: mastery matrix, weakest concepts, students at risk, levels",
)
async def report(
    class_id: ClassIdDep,
    serving: ServingDep,
    store: StoreDep,
    settings: SettingsDep,
    lang: Lang = None,
):
    return await _view(serving, store, class_id, "report", lang=lang or settings.lang)


@router.get(
    "/{class_id}/recommendations",
    response_model=ClassResult,
    responses=errors(404, 409, 503),
    summary="Top-k resources for every student of the class",
)
async def class_recommendations(
    class_id: ClassIdDep,
    serving: ServingDep,
    store: StoreDep,
    k: Annotated[int, Query(ge=1, le=50)] = 5,
):
    return await _view(serving, store, class_id, "recommendations", k=k)


@router.get(
    "/{class_id}/homework",
    response_model=ClassResult,
    responses=errors(404, 409, 503),
    summary="Personalised homework for every student within the time budget",
)
async def homework(
    class_id: ClassIdDep,
    serving: ServingDep,
    store: StoreDep,
    settings: SettingsDep,
    lang: Lang = None,
):
    return await _view(serving, store, class_id, "homework", lang=lang or settings.lang)


@router.get(
    "/{class_id}/groups",
    response_model=ClassResult,
    responses=errors(404, 409, 503),
    summary="Teaching groups by mastery profile",
)
async def groups(
    class_id: ClassIdDep,
    serving: ServingDep,
    store: StoreDep,
    settings: SettingsDep,
    lang: Lang = None,
):
    return await _view(serving, store, class_id, "groups", lang=lang or settings.lang)


@router.get(
    "/{class_id}/dashboard",
    response_model=None,
    responses={
        200: {
            "description": "the page",
            "content": {"text/html": {"schema": {"type": "string"}}},
        },
        **errors(404, 409, 503),
    },
    summary="The teacher's page (HTML, Simplified Chinese by default)",
)
def dashboard(
    class_id: ClassIdDep, serving: ServingDep, settings: SettingsDep, lang: Lang = None
) -> HTMLResponse:
    html = serving.class_view(class_id, "dashboard", lang=lang or settings.lang)
    return HTMLResponse(html, headers={"Cache-Control": "no-store"})

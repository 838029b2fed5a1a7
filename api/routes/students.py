"""A student's mastery, recommendations and learning path; data rights.

Admins see every student, teachers the students of their classes, students themselves.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import AdminDep, PrincipalDep, ServingDep, StoreDep, StudentIdDep
from api.errors import ApiError
from api.schemas.common import ERROR_RESPONSES, errors
from api.schemas.students import (
    EraseOut,
    MasteryOut,
    PathOut,
    RecommendationsOut,
    StudentExport,
)

router = APIRouter(prefix="/students", tags=["students"], responses=ERROR_RESPONSES)

GraphQ = Annotated[
    str | None,
    Query(min_length=1, max_length=128, description="subject graph (default: the class's)"),
]


@router.get(
    "/{student_id}/mastery",
    response_model=MasteryOut,
    responses=errors(404, 503),
    summary="Mastery per concept (reflects answers ingested since the last fit)",
)
def mastery(student_id: StudentIdDep, serving: ServingDep, graph_id: GraphQ = None) -> dict:
    return serving.student_mastery(student_id, graph_id=graph_id)


@router.get(
    "/{student_id}/recommendations",
    response_model=RecommendationsOut,
    responses=errors(404, 409, 503),
    summary="Top-k resources for the student, with reasons",
)
def recommendations(
    student_id: StudentIdDep,
    serving: ServingDep,
    k: Annotated[int, Query(ge=1, le=100)] = 10,
    graph_id: GraphQ = None,
) -> dict:
    return serving.student_recommendations(student_id, k=k, graph_id=graph_id)


@router.get(
    "/{student_id}/path",
    response_model=PathOut,
    responses=errors(404, 409, 503),
    summary="Learning path to one or more target concepts",
)
def path(
    student_id: StudentIdDep,
    serving: ServingDep,
    target: Annotated[list[str], Query(min_length=1, max_length=20, description="concept id")],
    budget_minutes: Annotated[float | None, Query(gt=0, le=10_000)] = None,
    graph_id: GraphQ = None,
) -> dict:
    return serving.student_path(
        student_id, target, budget_minutes=budget_minutes, graph_id=graph_id
    )


@router.get(
    "/{student_id}/export",
    response_model=StudentExport,
    responses=errors(404),
    summary="Everything stored about the student (admin, or the student)",
)
def export(
    student_id: StudentIdDep, principal: PrincipalDep, store: StoreDep, serving: ServingDep
) -> dict:
    if principal.role not in ("admin", "student"):
        raise ApiError(403, "forbidden", "only an admin or the student may export")
    serving.flush_snapshots()  # the export shows the current mastery snapshot
    return store.export_student(student_id)


@router.delete(
    "/{student_id}",
    response_model=EraseOut,
    responses=errors(404, 503),
    summary="Erase the student: answers, derived state, enrolments, tokens (admin)",
)
def erase(
    student_id: StudentIdDep,
    _: AdminDep,
    serving: ServingDep,
    refit: Annotated[
        bool, Query(description="refit the active model without the student's answers")
    ] = True,
) -> dict:
    return serving.erase_student(student_id, refit=refit)

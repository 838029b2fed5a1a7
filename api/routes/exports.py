"""Pseudonymised research export (admin): CSV with salted-hash student ids, no names."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from api.deps import AdminDep, StoreDep
from api.schemas.common import ERROR_RESPONSES
from api.schemas.models import ResearchExportIn

router = APIRouter(prefix="/exports", tags=["exports"], responses=ERROR_RESPONSES)


@router.post(
    "/research",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "answers, pseudonymised"}},
    summary="All answers with salted-hash student ids (CSV)",
)
def research(body: ResearchExportIn, _: AdminDep, store: StoreDep) -> Response:
    df = store.research_export(salt=body.salt, time_resolution=body.time_resolution)
    df["concept_ids"] = df["concept_ids"].map(";".join)
    return Response(
        df.to_csv(index=False),
        media_type="text/csv",
        headers={"Content-Disposition": 'attachment; filename="research_export.csv"'},
    )

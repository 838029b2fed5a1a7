"""Answers in: a batch of canonical rows or xAPI statements (admin, ingest service).

A batch is validated whole and written in one transaction: on any problem nothing is
stored and the answer (422) names the field and rows. Answers already stored (same
``event_id``) are skipped and counted, so a retried batch is never counted twice. The
students' mastery is updated online in the same transaction.
"""

from __future__ import annotations

import pandas as pd
from fastapi import APIRouter

from api.deps import IngestDep, ServingDep, SettingsDep
from api.errors import ApiError
from api.schemas.common import ERROR_RESPONSES
from api.schemas.interactions import IngestOut, InteractionBatch, InteractionIn, XapiBatch

router = APIRouter(prefix="/interactions", tags=["interactions"], responses=ERROR_RESPONSES)

_COLUMNS = list(InteractionIn.model_fields)
_OPTIONAL = ("score", "duration_s", "resource_id", "event_id")


def _frame(items: list[InteractionIn]) -> pd.DataFrame:
    """The batch as a table, column by column (optional columns nobody sent left out)."""
    data: dict = {}
    for col in _COLUMNS:
        values = [getattr(r, col) for r in items]
        if col in _OPTIONAL and all(v is None for v in values):
            continue
        data[col] = values
    data["concept_ids"] = pd.Series([tuple(c) for c in data["concept_ids"]], dtype=object)
    return pd.DataFrame(data)


def _check_size(n: int, settings) -> None:
    if n > settings.max_batch_rows:
        raise ApiError(
            413,
            "too_large",
            f"{n} rows in one batch; at most {settings.max_batch_rows} "
            "(EDU_RECSYS_MAX_BATCH_ROWS): split the batch",
        )


def _out(result, serving, skipped: int = 0) -> dict:
    return {
        "received": result.received,
        "inserted": result.inserted,
        "duplicates": result.duplicates,
        "derived_event_ids": result.derived_event_ids,
        "students": len(result.students),
        "mastery_updated": serving.has_online_state(),
        "skipped_statements": skipped,
    }


@router.post("", response_model=IngestOut, summary="Ingest a batch of answers")
def ingest(
    body: InteractionBatch, _: IngestDep, serving: ServingDep, settings: SettingsDep
) -> dict:
    _check_size(len(body.interactions), settings)
    return _out(serving.ingest(_frame(body.interactions)), serving)


@router.post("/xapi", response_model=IngestOut, summary="Ingest xAPI 'answered' statements")
def ingest_xapi(body: XapiBatch, _: IngestDep, serving: ServingDep, settings: SettingsDep) -> dict:
    _check_size(len(body.statements), settings)
    result, skipped = serving.ingest_xapi(body.statements)
    return _out(result, serving, skipped)

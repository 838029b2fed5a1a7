"""Service settings (pydantic-settings; environment variables prefixed ``EDU_RECSYS_``).

==============================  =============================================================
variable                        meaning (default)
==============================  =============================================================
EDU_RECSYS_DB_URL               store URL (``./edu_recsys.sqlite``; PostgreSQL by URL)
EDU_RECSYS_MAX_BODY_BYTES       largest request body accepted, bytes (8 MiB) -> 413 beyond
EDU_RECSYS_MAX_BATCH_ROWS       most answers / statements per ingest request (10,000)
EDU_RECSYS_DEFAULT_MODEL        mastery preset fitted by ``POST /api/v1/refit`` ("default")
EDU_RECSYS_LANG                 language of pages for people: "zh" (default) or "en"
EDU_RECSYS_COOKIE_SECURE        mark the login cookie Secure (set when served over HTTPS)
EDU_RECSYS_DOCS                 serve /docs and /redoc (true)
==============================  =============================================================
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "HARD_MAX_BATCH_ROWS"]

#: Upper bound of ``max_batch_rows`` (also the documented limit in the OpenAPI schema).
HARD_MAX_BATCH_ROWS = 50_000


class Settings(BaseSettings):
    """Configuration of one service instance."""

    model_config = SettingsConfigDict(env_prefix="EDU_RECSYS_", extra="ignore")

    db_url: str | None = Field(None, description="store URL; None: the embedded default")
    max_body_bytes: int = Field(8 * 1024 * 1024, ge=1024)
    max_batch_rows: int = Field(10_000, ge=1, le=HARD_MAX_BATCH_ROWS)
    default_model: str = "default"
    lang: Literal["zh", "en"] = "zh"
    cookie_secure: bool = False
    docs: bool = True

"""The application factory: ``create_app(settings)``.

>>> from api.main import create_app
>>> from api.settings import Settings
>>> app = create_app(Settings(db_url="sqlite://"))
>>> "/api/v1/health" in app.openapi()["paths"]
True
"""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import RedirectResponse

from api.errors import BodySizeLimit, install_error_handlers
from api.routes import api_router
from api.settings import Settings
from edu_recsys import __version__
from edu_recsys.store import Store
from edu_recsys.store.serving import Serving

__all__ = ["create_app", "API_PREFIX"]

log = logging.getLogger("api")

API_PREFIX = "/api/v1"

DESCRIPTION = """
Precise, data-driven teaching (精准教学) as a service: answers in, mastery per student and
concept, resource recommendations, learning paths, and for teachers the class report,
teaching groups and personalised homework.

**Authentication**: every route but `/health` needs `Authorization: Bearer <token>`
(issue tokens with `edu-recsys token create --role admin|teacher|student|ingest`).
Teachers see only their classes and those classes' students; students only themselves;
ingest tokens may only write answers. 401: no/unknown/revoked/expired token; 403: the
token does not cover the request.

**Errors** are JSON: `{"error", "message", "field", "rows", "expected", "details"}`.
**Lists** paginate with `offset` and `limit` and return `total`.
"""

TAGS = [
    {"name": "health", "description": "Service status."},
    {"name": "graphs", "description": "Subject knowledge graphs (学科知识图谱)."},
    {"name": "resources", "description": "The learning-resource catalogue."},
    {"name": "interactions", "description": "Answers in: batches and xAPI, idempotent."},
    {"name": "students", "description": "Mastery, recommendations, paths, data rights."},
    {"name": "classes", "description": "Class report, homework, groups, dashboard."},
    {"name": "models", "description": "Fitted mastery models and refits."},
    {"name": "exports", "description": "Pseudonymised research exports."},
]


def create_app(settings: Settings | None = None, *, store: Store | None = None) -> FastAPI:
    """Build the service for ``settings`` (default: from ``EDU_RECSYS_*`` variables).

    Parameters
    ----------
    settings : Settings, optional
    store : Store, optional
        An already open store (tests); otherwise one is opened from
        ``settings.db_url`` and closed on shutdown.
    """
    settings = settings or Settings()
    own_store = store is None
    store = store or Store(settings.db_url)
    serving = Serving(store, default_model=settings.default_model)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        yield
        serving.close()  # pending mastery snapshots
        if own_store:
            store.close()

    app = FastAPI(
        title="edu_recsys API",
        version=__version__,
        description=DESCRIPTION,
        openapi_tags=TAGS,
        lifespan=lifespan,
        docs_url="/docs" if settings.docs else None,
        redoc_url="/redoc" if settings.docs else None,
        openapi_url=f"{API_PREFIX}/openapi.json",
    )
    app.state.settings = settings
    app.state.store = store
    app.state.serving = serving
    install_error_handlers(app)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.include_router(api_router, prefix=API_PREFIX)

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse(f"{API_PREFIX}/home", status_code=303)

    return app

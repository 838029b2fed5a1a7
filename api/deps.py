"""Dependencies (``Annotated`` aliases): store, session, serving layer, caller, access checks.

Authentication: ``Authorization: Bearer <token>`` on every route but health. Pages for
people (GET only) also accept the token from the login cookie set by ``POST
/api/v1/login``; write routes never do, so a cookie cannot be abused cross-site.

401 means "who are you?" (no token, unknown, revoked or expired token); 403 means
"you may not" (the role or the token's classes/student do not cover the request).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from api.errors import ApiError
from api.settings import Settings
from edu_recsys.store import Store, TokenInfo
from edu_recsys.store.serving import Serving

__all__ = [
    "COOKIE_NAME",
    "Principal",
    "SettingsDep",
    "StoreDep",
    "SessionDep",
    "ServingDep",
    "PrincipalDep",
    "AdminDep",
    "IngestDep",
    "ClassIdDep",
    "StudentIdDep",
    "require_roles",
    "run_read",
]

COOKIE_NAME = "edu_recsys_token"

T = TypeVar("T")


# Trivial dependencies are ``async def`` so that FastAPI runs them on the event loop
# instead of handing each one to the thread pool (a measurable cost per request).
async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_store(request: Request) -> Store:
    return request.app.state.store


async def get_serving(request: Request) -> Serving:
    return request.app.state.serving


SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[Store, Depends(get_store)]
ServingDep = Annotated[Serving, Depends(get_serving)]


def get_db(store: StoreDep) -> Iterator[Session]:
    """A read session for the request (write paths go through the store's methods)."""
    with store.session() as s:
        yield s


SessionDep = Annotated[Session, Depends(get_db)]


@dataclass(frozen=True)
class Principal:
    """The caller: the token's role and what it covers."""

    token: TokenInfo
    class_ids: frozenset[str] | None  # None: every class (admin)

    @property
    def role(self) -> str:
        return self.token.role

    def can_class(self, class_id: str) -> bool:
        return self.class_ids is None or class_id in self.class_ids


_bearer = HTTPBearer(auto_error=False, description="API token (edu-recsys token create)")


def _unauthorized(message: str) -> ApiError:
    return ApiError(401, "unauthorized", message, headers={"WWW-Authenticate": "Bearer"})


async def run_read(store: Store, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a hot read made on the store's fast path (``Store.fast_first``, see
    :mod:`edu_recsys.store.fastread`): inline on SQLite, in the thread pool elsewhere.

    On a SQLite file such a read is an indexed lookup through the calling thread's own
    connection (never waiting for the pool, nor for a writer in WAL mode): tens of
    microseconds, cheaper than a hop to a worker thread and back. On PostgreSQL it is a
    network round trip, which must not stall the event loop. Reads through sessions
    (the pool) always go to the thread pool.
    """
    if store.dialect == "sqlite":
        return fn(*args, **kwargs)
    return await run_in_threadpool(fn, *args, **kwargs)


async def get_principal(
    request: Request,
    store: StoreDep,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    token = creds.credentials if creds else None
    if token is None and request.method in ("GET", "HEAD"):
        token = request.cookies.get(COOKIE_NAME)
    if not token:
        raise _unauthorized("missing bearer token (Authorization: Bearer <token>)")
    info, touch_due = await run_read(store, store.lookup_token, token)
    if info is None:
        raise _unauthorized("unknown, revoked or expired token")
    if touch_due:  # a write (may wait for the writer lock): never on the event loop
        await run_in_threadpool(store.touch_token, info.token_id)
    classes: frozenset[str] | None = None
    if info.role == "teacher":
        own = (
            await run_in_threadpool(store.teacher_classes, info.teacher_id)
            if info.teacher_id
            else []
        )
        classes = frozenset(info.class_ids) | frozenset(own)
    elif info.role != "admin":
        classes = frozenset()
    return Principal(token=info, class_ids=classes)


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def require_roles(*roles: str):
    """A dependency that lets only these roles through (403 otherwise)."""

    async def check(principal: PrincipalDep) -> Principal:
        if principal.role not in roles:
            raise ApiError(
                403, "forbidden", f"role {principal.role!r} may not do this (needs {roles})"
            )
        return principal

    return check


AdminDep = Annotated[Principal, Depends(require_roles("admin"))]
IngestDep = Annotated[Principal, Depends(require_roles("admin", "ingest"))]


async def class_access(
    class_id: Annotated[str, Path(min_length=1, max_length=128, examples=["8-1"])],
    principal: PrincipalDep,
) -> str:
    """The class id when the caller may see the class (teachers: their own classes)."""
    if principal.role not in ("admin", "teacher") or not principal.can_class(class_id):
        raise ApiError(403, "forbidden", "this token does not cover this class")
    # an unknown class is a 404 from whatever the route reads (UnknownIdError)
    return class_id


def student_access(
    student_id: Annotated[str, Path(min_length=1, max_length=128, examples=["s001"])],
    principal: PrincipalDep,
    store: StoreDep,
) -> str:
    """The student id when the caller may see the student.

    Admins: anyone; teachers: the students of their classes; students: themselves.
    """
    role = principal.role
    if role == "admin":
        if not store.student_exists(student_id):
            raise ApiError(404, "not_found", "unknown student id", field="student_id")
        return student_id
    if role == "student" and principal.token.student_id == student_id:
        return student_id
    if role == "teacher" and principal.class_ids:
        if set(store.student_classes(student_id)) & principal.class_ids:
            return student_id
    raise ApiError(403, "forbidden", "this token does not cover this student")


ClassIdDep = Annotated[str, Depends(class_access)]
StudentIdDep = Annotated[str, Depends(student_access)]

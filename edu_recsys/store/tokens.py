"""API tokens: issued once, stored only as SHA-256 hashes.

A token is ``edu_`` followed by 43 URL-safe random characters (256 bits from
:mod:`secrets`). Because it is random and long, a plain SHA-256 is the right hash: a
slow password hash would add nothing but latency. The first characters (``prefix``)
are kept in clear so that an administrator can tell tokens apart in listings.

Roles
-----
``admin``
    everything.
``teacher``
    the classes listed on the token (``class_ids``) plus, when the token names a
    ``teacher_id``, the classes that teacher teaches; and those classes' students.
``student``
    only the student named on the token (``student_id``).
``ingest``
    writing answers only (a learning platform's service account).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
from collections import namedtuple
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import JSON, BigInteger, select, text, update

from edu_recsys.exceptions import InvalidDataError, UnknownIdError
from edu_recsys.store.models import (
    ApiToken,
    SchoolClass,
    Student,
    Teacher,
    UTCDateTime,
    utcnow,
)

__all__ = [
    "ROLES",
    "TokenInfo",
    "hash_token",
    "create_token",
    "verify_token",
    "lookup_token",
    "touch_token",
    "revoke_token",
    "list_tokens",
]

log = logging.getLogger(__name__)

ROLES = ("admin", "teacher", "student", "ingest")
_PREFIX = "edu_"
# last_used_at is written at most this often per token (a write per request would
# serialise every read on SQLite)
_TOUCH_EVERY = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class TokenInfo:
    """What a token allows (never holds the token itself)."""

    token_id: int
    role: str
    prefix: str
    class_ids: tuple[str, ...] = ()
    teacher_id: str | None = None
    student_id: str | None = None
    label: str | None = None
    created_at: dt.datetime | None = None
    expires_at: dt.datetime | None = None
    revoked: bool = False

    def to_dict(self) -> dict:
        return {
            "token_id": self.token_id,
            "role": self.role,
            "prefix": self.prefix,
            "class_ids": list(self.class_ids),
            "teacher_id": self.teacher_id,
            "student_id": self.student_id,
            "label": self.label,
            "created_at": self.created_at.isoformat() if self.created_at else None,
            "expires_at": self.expires_at.isoformat() if self.expires_at else None,
            "revoked": self.revoked,
        }


#: Columns of :data:`_LOOKUP_SQL`, in order.
_Row = namedtuple(
    "_Row",
    "token_id prefix role teacher_id student_id class_ids label created_at expires_at"
    " revoked_at last_used_at",
)
# plain SQL text (typed), read on the fast path: this runs on every request
_LOOKUP_SQL = text(
    "SELECT token_id, prefix, role, teacher_id, student_id, class_ids, label, created_at,"
    " expires_at, revoked_at, last_used_at FROM api_tokens WHERE token_hash = :h"
).columns(
    token_id=BigInteger,
    class_ids=JSON,
    created_at=UTCDateTime,
    expires_at=UTCDateTime,
    revoked_at=UTCDateTime,
    last_used_at=UTCDateTime,
)


def hash_token(token: str) -> str:
    """SHA-256 hex digest of a token.

    Examples
    --------
    >>> len(hash_token("edu_x"))
    64
    """
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _info(row) -> TokenInfo:
    """TokenInfo of an ORM row or a Core row of api_tokens."""
    return TokenInfo(
        token_id=int(row.token_id),
        role=row.role,
        prefix=row.prefix,
        class_ids=tuple(row.class_ids or ()),
        teacher_id=row.teacher_id,
        student_id=row.student_id,
        label=row.label,
        created_at=row.created_at,
        expires_at=row.expires_at,
        revoked=row.revoked_at is not None,
    )


def create_token(
    store,
    role: str,
    *,
    class_ids: Iterable[str] = (),
    teacher_id: str | None = None,
    student_id: str | None = None,
    label: str | None = None,
    expires_in_days: float | None = None,
) -> tuple[str, TokenInfo]:
    """Issue a token; returns ``(token, info)``. The token cannot be recovered later.

    A teacher token needs ``class_ids`` or ``teacher_id``; a student token needs
    ``student_id``. Named classes, teachers and students must exist.
    """
    if role not in ROLES:
        raise InvalidDataError(f"unknown role {role!r}", column="role", expected=" / ".join(ROLES))
    class_ids = tuple(dict.fromkeys(class_ids))
    if role == "teacher" and not class_ids and not teacher_id:
        raise InvalidDataError(
            "a teacher token needs its classes (--class) or a teacher id (--teacher)",
            column="class_ids",
        )
    if role == "student" and not student_id:
        raise InvalidDataError("a student token needs --student", column="student_id")
    if role != "teacher" and (class_ids or teacher_id):
        raise InvalidDataError(f"a {role} token takes no classes or teacher", column="class_ids")
    if role != "student" and student_id:
        raise InvalidDataError(f"a {role} token takes no student", column="student_id")
    token = _PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    with store.session(write=True) as s:
        for cid in class_ids:
            if s.get(SchoolClass, cid) is None:
                raise UnknownIdError("class", cid)
        if teacher_id and s.get(Teacher, teacher_id) is None:
            raise UnknownIdError("teacher", teacher_id)
        if student_id and s.get(Student, student_id) is None:
            raise UnknownIdError("student", student_id)
        row = ApiToken(
            token_hash=hash_token(token),
            prefix=token[: len(_PREFIX) + 6],
            role=role,
            teacher_id=teacher_id,
            student_id=student_id,
            class_ids=list(class_ids),
            label=label,
            created_at=now,
            expires_at=now + dt.timedelta(days=expires_in_days) if expires_in_days else None,
        )
        s.add(row)
        s.flush()
        return token, _info(row)


def lookup_token(store, token: str | None) -> tuple[TokenInfo | None, bool]:
    """``(info, touch_due)``: the token's info when it is valid (known, not revoked, not
    expired), else None; ``touch_due`` when its ``last_used_at`` should be written
    (:func:`touch_token`). A read only: the API runs it on every request."""
    if not token or not token.startswith(_PREFIX) or len(token) > 200:
        return None, False
    row = store.fast_first(_LOOKUP_SQL, {"h": hash_token(token)})
    if row is None:
        return None, False
    row = _Row(*row)
    now = utcnow()
    if row.revoked_at is not None or (row.expires_at is not None and row.expires_at <= now):
        return None, False
    stale = row.last_used_at is None or now - row.last_used_at > _TOUCH_EVERY
    return _info(row), stale


def touch_token(store, token_id: int) -> None:
    """Record that a token was just used (best effort: a failure is ignored)."""
    try:
        with store.session(write=True) as s:
            s.execute(
                update(ApiToken).where(ApiToken.token_id == token_id).values(last_used_at=utcnow())
            )
    except Exception as e:
        log.debug("token last_used_at not written (%s)", type(e).__name__)


def verify_token(store, token: str | None) -> TokenInfo | None:
    """The token's info when it is valid (known, not revoked, not expired), else None."""
    info, touch = lookup_token(store, token)
    if touch:
        touch_token(store, info.token_id)
    return info


def revoke_token(store, token_id: int) -> bool:
    """Revoke a token by id; returns False when it does not exist."""
    with store.session(write=True) as s:
        row = s.get(ApiToken, token_id)
        if row is None:
            return False
        if row.revoked_at is None:
            row.revoked_at = utcnow()
        return True


def list_tokens(store, *, include_revoked: bool = False) -> list[TokenInfo]:
    """Issued tokens (never the tokens themselves), oldest first."""
    with store.session() as s:
        q = select(ApiToken).order_by(ApiToken.token_id)
        if not include_revoked:
            q = q.where(ApiToken.revoked_at.is_(None))
        return [_info(r) for r in s.scalars(q)]

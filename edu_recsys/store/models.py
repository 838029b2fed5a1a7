"""The store's tables (SQLAlchemy 2 declarative models).

=================  ==========================================================================
table              holds
=================  ==========================================================================
schools            schools and their settings (e.g. homework time budgets)
teachers           teachers (name optional; never logged)
students           students (name optional; never logged, erased on request)
classes            classes: school, grade, subject, subject graph, current unit
class_teachers     who teaches which class (a teacher sees only these classes)
enrolments         which students are in which class
graphs             subject knowledge graphs (networkx node-link JSON)
resources          the learning-resource catalogue (columns of the catalogue contract)
resource_concepts  resource -> concept links (filtering the catalogue by concept)
interactions       answers, one row each, unique ``event_id`` (idempotent ingest), ``seq``
                   gives the order in which they were stored
item_stats         per-item aggregates (answers, correct), recomputed on erasure
student_mastery    per-student online mastery snapshot (concept -> probability)
fitted_models      fitted mastery models: metadata and the joblib artifact
api_tokens         API tokens, stored as SHA-256 hashes (the token itself is shown once)
store_meta         small key/value facts (e.g. the state generation, bumped on erasure)
=================  ==========================================================================

Changing a model means adding an Alembic migration in ``migrations/versions`` (a test
compares the migrated schema with these models).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "Base",
    "School",
    "Teacher",
    "Student",
    "SchoolClass",
    "ClassTeacher",
    "Enrolment",
    "SubjectGraph",
    "Resource",
    "ResourceConcept",
    "Interaction",
    "ItemStat",
    "StudentMastery",
    "FittedModel",
    "ApiToken",
    "StoreMeta",
    "UTCDateTime",
    "utcnow",
    "ID_LEN",
]

#: Maximum length of every id column.
ID_LEN = 128

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite stores naive UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        value = value.astimezone(dt.timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(dt.timezone.utc)


_BIGID = BigInteger().with_variant(Integer, "sqlite")  # SQLite autoincrements INTEGER only


def _id(*args: Any, **kw: Any) -> Any:
    return mapped_column(String(ID_LEN), *args, **kw)


def _created() -> Any:
    return mapped_column(UTCDateTime(), default=utcnow, nullable=False)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class School(Base):
    __tablename__ = "schools"
    school_id: Mapped[str] = _id(primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200))
    settings: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = _created()


class Teacher(Base):
    __tablename__ = "teachers"
    teacher_id: Mapped[str] = _id(primary_key=True)
    school_id: Mapped[str | None] = _id(
        ForeignKey("schools.school_id", ondelete="SET NULL"), nullable=True
    )
    name: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = _created()


class Student(Base):
    __tablename__ = "students"
    student_id: Mapped[str] = _id(primary_key=True)
    school_id: Mapped[str | None] = _id(
        ForeignKey("schools.school_id", ondelete="SET NULL"), nullable=True
    )
    name: Mapped[str | None] = mapped_column(String(200))
    grade: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = _created()


class SubjectGraph(Base):
    __tablename__ = "graphs"
    graph_id: Mapped[str] = _id(primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200))
    subject: Mapped[str | None] = mapped_column(String(64))
    version: Mapped[str | None] = mapped_column(String(64))
    data: Mapped[dict] = mapped_column(JSON, nullable=False)
    n_concepts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    n_edges: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    created_at: Mapped[dt.datetime] = _created()
    updated_at: Mapped[dt.datetime] = mapped_column(
        UTCDateTime(), default=utcnow, onupdate=utcnow, nullable=False
    )


class SchoolClass(Base):
    __tablename__ = "classes"
    class_id: Mapped[str] = _id(primary_key=True)
    school_id: Mapped[str | None] = _id(
        ForeignKey("schools.school_id", ondelete="SET NULL"), nullable=True
    )
    name: Mapped[str | None] = mapped_column(String(200))
    grade: Mapped[int | None] = mapped_column(Integer)
    subject: Mapped[str | None] = mapped_column(String(64))
    graph_id: Mapped[str | None] = _id(
        ForeignKey("graphs.graph_id", ondelete="SET NULL"), nullable=True
    )
    current_unit: Mapped[str | None] = mapped_column(String(200))
    settings: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = _created()
    updated_at: Mapped[dt.datetime] = mapped_column(
        UTCDateTime(), default=utcnow, onupdate=utcnow, nullable=False
    )


class ClassTeacher(Base):
    __tablename__ = "class_teachers"
    class_id: Mapped[str] = _id(
        ForeignKey("classes.class_id", ondelete="CASCADE"), primary_key=True
    )
    teacher_id: Mapped[str] = _id(
        ForeignKey("teachers.teacher_id", ondelete="CASCADE"), primary_key=True, index=True
    )


class Enrolment(Base):
    __tablename__ = "enrolments"
    class_id: Mapped[str] = _id(
        ForeignKey("classes.class_id", ondelete="CASCADE"), primary_key=True
    )
    student_id: Mapped[str] = _id(
        ForeignKey("students.student_id", ondelete="CASCADE"), primary_key=True, index=True
    )
    enrolled_at: Mapped[dt.datetime] = _created()


class Resource(Base):
    __tablename__ = "resources"
    resource_id: Mapped[str] = _id(primary_key=True)
    title: Mapped[str] = mapped_column(String(500), nullable=False)
    type: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    concept_ids: Mapped[list] = mapped_column(JSON, nullable=False)
    grade: Mapped[int | None] = mapped_column(Integer, index=True)
    subject: Mapped[str | None] = mapped_column(String(64), index=True)
    minutes: Mapped[float | None] = mapped_column(Float)
    difficulty: Mapped[float | None] = mapped_column(Float)
    source: Mapped[str | None] = mapped_column(String(200))
    is_quality: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    url: Mapped[str | None] = mapped_column(String(1000))
    updated_at: Mapped[dt.datetime] = mapped_column(
        UTCDateTime(), default=utcnow, onupdate=utcnow, nullable=False
    )


class ResourceConcept(Base):
    """Resource -> concept links (so that the catalogue can be filtered by concept in SQL)."""

    __tablename__ = "resource_concepts"
    resource_id: Mapped[str] = _id(
        ForeignKey("resources.resource_id", ondelete="CASCADE"), primary_key=True
    )
    concept_id: Mapped[str] = _id(primary_key=True, index=True)


class Interaction(Base):
    __tablename__ = "interactions"
    seq: Mapped[int] = mapped_column(_BIGID, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(200), nullable=False, unique=True)
    student_id: Mapped[str] = _id(
        ForeignKey("students.student_id", ondelete="CASCADE"), nullable=False
    )
    item_id: Mapped[str] = mapped_column(String(200), nullable=False, index=True)
    concept_ids: Mapped[list] = mapped_column(JSON, nullable=False)
    correct: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    score: Mapped[float | None] = mapped_column(Float)
    timestamp: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    duration_s: Mapped[float | None] = mapped_column(Float)
    resource_id: Mapped[str | None] = _id(nullable=True)
    ingested_at: Mapped[dt.datetime] = _created()

    __table_args__ = (Index("ix_interactions_student_seq", "student_id", "seq"),)


class ItemStat(Base):
    __tablename__ = "item_stats"
    item_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    n_answers: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    n_correct: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class FittedModel(Base):
    __tablename__ = "fitted_models"
    model_id: Mapped[int] = mapped_column(_BIGID, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    created_at: Mapped[dt.datetime] = _created()
    n_interactions: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    n_students: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_seq: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    params: Mapped[dict | None] = mapped_column(JSON)
    metrics: Mapped[dict | None] = mapped_column(JSON)
    library_version: Mapped[str | None] = mapped_column(String(32))
    artifact: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    artifact_sha256: Mapped[str] = mapped_column(String(64), nullable=False)


class StudentMastery(Base):
    __tablename__ = "student_mastery"
    student_id: Mapped[str] = _id(
        ForeignKey("students.student_id", ondelete="CASCADE"), primary_key=True
    )
    model_id: Mapped[int | None] = mapped_column(
        _BIGID, ForeignKey("fitted_models.model_id", ondelete="SET NULL"), nullable=True
    )
    mastery: Mapped[dict] = mapped_column(JSON, nullable=False)
    n_answers: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_seq: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(
        UTCDateTime(), default=utcnow, onupdate=utcnow, nullable=False
    )


class ApiToken(Base):
    __tablename__ = "api_tokens"
    token_id: Mapped[int] = mapped_column(_BIGID, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    prefix: Mapped[str] = mapped_column(String(16), nullable=False)
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    teacher_id: Mapped[str | None] = _id(
        ForeignKey("teachers.teacher_id", ondelete="CASCADE"), nullable=True
    )
    student_id: Mapped[str | None] = _id(
        ForeignKey("students.student_id", ondelete="CASCADE"), nullable=True
    )
    class_ids: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    label: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = _created()
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class StoreMeta(Base):
    __tablename__ = "store_meta"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text, nullable=False)

"""The :class:`Store`: schools, classes, rosters, graphs, the catalogue and fitted models.

Ingestion, tokens and data rights live in their own modules (:mod:`.ingest`,
:mod:`.tokens`, :mod:`.rights`) and are reached through the same object.
"""

from __future__ import annotations

import hashlib
import io
import logging
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from edu_recsys.exceptions import InvalidDataError, UnknownIdError
from edu_recsys.store.engine import default_url, make_engine, normalise_url, redact_url, upgrade
from edu_recsys.store.errors import NoModelError, StoreError
from edu_recsys.store.fastread import FastQuery, thread_connections
from edu_recsys.store.models import (
    ID_LEN,
    ClassTeacher,
    Enrolment,
    FittedModel,
    Resource,
    ResourceConcept,
    School,
    SchoolClass,
    StoreMeta,
    Student,
    SubjectGraph,
    Teacher,
    utcnow,
)

__all__ = ["Store", "RESOURCE_COLUMNS", "dialect_insert"]

log = logging.getLogger(__name__)

#: Catalogue columns kept by the store (the resource catalogue contract, plus ``url``).
RESOURCE_COLUMNS = (
    "resource_id",
    "title",
    "type",
    "concept_ids",
    "grade",
    "subject",
    "minutes",
    "difficulty",
    "source",
    "is_quality",
    "url",
)


def dialect_insert(session: Session, model: Any):
    """A Core ``INSERT`` into ``model``'s table that supports ``ON CONFLICT`` here.

    Core, not the ORM's bulk path: executemany with RETURNING is several times faster.
    """
    name = session.get_bind().dialect.name
    if name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover - only SQLite and PostgreSQL are supported
        raise StoreError(f"unsupported database backend {name!r} (use SQLite or PostgreSQL)")
    return insert(getattr(model, "__table__", model))


def _jsonable(o: Any) -> Any:
    """Graph attributes as JSON values (tuples/sets -> lists, numpy -> Python)."""
    if isinstance(o, Mapping):
        return {str(k): _jsonable(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_jsonable(v) for v in o]
    if isinstance(o, (set, frozenset)):
        return sorted(_jsonable(v) for v in o)
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, float) and (math.isnan(o) or math.isinf(o)):
        return None
    return o


def _check_id(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidDataError(f"{what} must be a non-empty string", column=what)
    if len(value) > ID_LEN:
        raise InvalidDataError(f"{what} longer than {ID_LEN} characters", column=what)
    return value


class Store:
    """Persistence for edu_recsys: a SQLite file by default, PostgreSQL by URL.

    Opening a store migrates its schema to the newest version (Alembic). Every method
    runs in its own transaction; :meth:`session` gives one for several steps.

    Parameters
    ----------
    url : str, optional
        SQLAlchemy URL or a file path (default: :func:`~edu_recsys.store.default_url`).
    migrate : bool, default True
        Upgrade the schema to the newest revision when opening.

    Examples
    --------
    >>> store = Store("sqlite://")          # in memory
    >>> store.upsert_class("8-1", name="八年级1班", grade=8, student_ids=["s1", "s2"])
    >>> store.roster("8-1")["student_id"].tolist()
    ['s1', 's2']
    >>> store.close()
    """

    def __init__(self, url: str | None = None, *, migrate: bool = True, echo: bool = False):
        self.url = normalise_url(url) if url else default_url()
        self.engine = make_engine(self.url, echo=echo)
        # write transactions take SQLite's write lock at BEGIN (see engine._sqlite_begin)
        self._write_engine = self.engine.execution_options(sqlite_immediate=True)
        self._fast: dict[int, FastQuery] = {}  # compiled hot reads, by statement id
        self._fast_conns = thread_connections(self.engine)
        if migrate:
            upgrade(self.engine)
        log.info("store opened: %s", redact_url(self.url))

    # -- plumbing -----------------------------------------------------------------
    @property
    def dialect(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self.engine.dialect.name

    def fast_first(self, stmt, params: Mapping[str, Any] | None = None) -> tuple | None:
        """First row of a one-row read that runs on every request, on the pooled DBAPI
        connection (see :mod:`.fastread`); ``stmt`` is a module-level ``text(...)``."""
        q = self._fast.get(id(stmt))
        if q is None:
            q = self._fast[id(stmt)] = FastQuery(self.engine, stmt, self._fast_conns)
        return q.first(dict(params) if params else None)

    @contextmanager
    def session(self, *, write: bool = False) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on error."""
        with Session(self._write_engine if write else self.engine, expire_on_commit=False) as s:
            with s.begin():
                yield s

    def close(self) -> None:
        """Release the connections."""
        if self._fast_conns is not None:
            self._fast_conns.close()
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({redact_url(self.url)!r})"

    # -- meta ---------------------------------------------------------------------
    def get_meta(self, key: str, default: str | None = None) -> str | None:
        with self.session() as s:
            row = s.get(StoreMeta, key)
            return row.value if row else default

    def set_meta(self, key: str, value: str, *, session: Session | None = None) -> None:
        if session is None:
            with self.session(write=True) as s:
                return self.set_meta(key, value, session=s)
        row = session.get(StoreMeta, key)
        if row:
            row.value = value
        else:
            session.add(StoreMeta(key=key, value=value))

    def generation(self) -> int:
        """A counter bumped whenever stored answers are removed (e.g. an erasure).

        Caches of derived state compare it to know when to rebuild from scratch.
        """
        return int(self.get_meta("generation", "0"))

    def bump_generation(self, session: Session) -> None:
        self._bump(session, "generation")

    def _bump(self, session: Session, key: str = "config_version") -> None:
        """Increment a counter in ``store_meta`` (inside the caller's transaction).

        ``config_version`` is bumped by every write of schools, teachers, students,
        classes, rosters, graphs, resources and models: caches of derived results key
        on it.
        """
        cur = session.get(StoreMeta, key)
        self.set_meta(key, str(int(cur.value) + 1 if cur else 1), session=session)

    # -- schools, teachers, students, classes -------------------------------------------
    def upsert_school(
        self, school_id: str, *, name: str | None = None, settings: Mapping | None = None
    ) -> None:
        """Create or update a school (``settings``: e.g. homework budgets per grade)."""
        _check_id(school_id, "school_id")
        with self.session(write=True) as s:
            row = s.get(School, school_id) or School(school_id=school_id)
            if name is not None:
                row.name = name
            if settings is not None:
                row.settings = _jsonable(dict(settings))
            s.add(row)
            self._bump(s)

    def get_school(self, school_id: str) -> dict:
        with self.session() as s:
            row = s.get(School, school_id)
            if row is None:
                raise UnknownIdError("school", school_id)
            return {"school_id": row.school_id, "name": row.name, "settings": row.settings or {}}

    def upsert_teacher(
        self, teacher_id: str, *, name: str | None = None, school_id: str | None = None
    ) -> None:
        """Create or update a teacher."""
        _check_id(teacher_id, "teacher_id")
        with self.session(write=True) as s:
            self._ensure_school(s, school_id)
            row = s.get(Teacher, teacher_id) or Teacher(teacher_id=teacher_id)
            if name is not None:
                row.name = name
            if school_id is not None:
                row.school_id = school_id
            s.add(row)
            self._bump(s)

    def upsert_students(
        self,
        students: pd.DataFrame | Iterable[Mapping[str, Any] | str],
        *,
        school_id: str | None = None,
    ) -> int:
        """Create or update students; returns how many rows were given.

        ``students``: ids, or records / a DataFrame with ``student_id`` and optional
        ``name`` and ``grade``. A missing name keeps the stored one.
        """
        records = _student_records(students)
        with self.session(write=True) as s:
            self._ensure_school(s, school_id)
            self._upsert_students(s, records, school_id)
            self._bump(s)
        return len(records)

    def _ensure_school(self, s: Session, school_id: str | None) -> None:
        if school_id is not None and s.get(School, _check_id(school_id, "school_id")) is None:
            s.add(School(school_id=school_id))
            s.flush()

    def _upsert_students(
        self, s: Session, records: list[dict], school_id: str | None = None
    ) -> None:
        if not records:
            return
        ids = [r["student_id"] for r in records]
        existing = {
            st.student_id: st
            for chunk in _chunks(ids, 500)
            for st in s.scalars(select(Student).where(Student.student_id.in_(chunk)))
        }
        for r in records:
            st = existing.get(r["student_id"])
            if st is None:
                st = Student(student_id=r["student_id"])
                s.add(st)
                existing[r["student_id"]] = st
            if r.get("name") is not None:
                st.name = r["name"]
            if r.get("grade") is not None:
                st.grade = int(r["grade"])
            if school_id is not None:
                st.school_id = school_id
        s.flush()

    def get_student(self, student_id: str) -> dict:
        """A student's record and classes (raises UnknownIdError)."""
        with self.session() as s:
            st = s.get(Student, student_id)
            if st is None:
                raise UnknownIdError("student", student_id)
            classes = s.scalars(
                select(Enrolment.class_id)
                .where(Enrolment.student_id == student_id)
                .order_by(Enrolment.class_id)
            ).all()
            return {
                "student_id": st.student_id,
                "name": st.name,
                "grade": st.grade,
                "school_id": st.school_id,
                "class_ids": list(classes),
            }

    def class_exists(self, class_id: str) -> bool:
        with self.engine.connect() as conn:
            q = select(SchoolClass.class_id).where(SchoolClass.class_id == class_id)
            return conn.execute(q).first() is not None

    def student_exists(self, student_id: str) -> bool:
        with self.session() as s:
            return s.get(Student, student_id) is not None

    def upsert_class(
        self,
        class_id: str,
        *,
        name: str | None = None,
        grade: int | None = None,
        subject: str | None = None,
        school_id: str | None = None,
        graph_id: str | None = None,
        current_unit: str | None = None,
        settings: Mapping | None = None,
        teacher_ids: Sequence[str] | None = None,
        student_ids: Iterable[Mapping[str, Any] | str] | pd.DataFrame | None = None,
    ) -> None:
        """Create or update a class. ``None`` keeps a stored value.

        ``teacher_ids`` replaces the class's teachers and ``student_ids`` its roster
        (ids or student records; unknown students and teachers are created).
        """
        _check_id(class_id, "class_id")
        with self.session(write=True) as s:
            self._ensure_school(s, school_id)
            if graph_id is not None and s.get(SubjectGraph, graph_id) is None:
                raise UnknownIdError("graph", graph_id, "store the graph first (put_graph)")
            row = s.get(SchoolClass, class_id) or SchoolClass(class_id=class_id)
            for attr, value in (
                ("name", name),
                ("grade", grade),
                ("subject", subject),
                ("school_id", school_id),
                ("graph_id", graph_id),
                ("current_unit", current_unit),
            ):
                if value is not None:
                    setattr(row, attr, value)
            if settings is not None:
                row.settings = _jsonable(dict(settings))
            if teacher_ids is not None or student_ids is not None:
                row.updated_at = utcnow()  # cached class results depend on the roster
            s.add(row)
            s.flush()
            if teacher_ids is not None:
                s.execute(delete(ClassTeacher).where(ClassTeacher.class_id == class_id))
                for t in dict.fromkeys(teacher_ids):
                    _check_id(t, "teacher_id")
                    if s.get(Teacher, t) is None:
                        s.add(Teacher(teacher_id=t, school_id=row.school_id))
                        s.flush()
                    s.add(ClassTeacher(class_id=class_id, teacher_id=t))
            if student_ids is not None:
                records = _student_records(student_ids)
                self._upsert_students(s, records, row.school_id)
                s.execute(delete(Enrolment).where(Enrolment.class_id == class_id))
                s.add_all(Enrolment(class_id=class_id, student_id=r["student_id"]) for r in records)
            self._bump(s)

    def enrol(self, class_id: str, student_ids: Iterable[str]) -> int:
        """Add students to a class (creating unknown students); returns how many were new."""
        records = _student_records(student_ids)
        with self.session(write=True) as s:
            if s.get(SchoolClass, class_id) is None:
                raise UnknownIdError("class", class_id)
            self._upsert_students(s, records)
            have = set(
                s.scalars(select(Enrolment.student_id).where(Enrolment.class_id == class_id))
            )
            new = [r["student_id"] for r in records if r["student_id"] not in have]
            s.add_all(Enrolment(class_id=class_id, student_id=sid) for sid in new)
            if new:
                s.get(SchoolClass, class_id).updated_at = utcnow()
            self._bump(s)
        return len(new)

    def get_class(self, class_id: str) -> dict:
        """A class's record with its teachers and the size of its roster."""
        with self.session() as s:
            row = s.get(SchoolClass, class_id)
            if row is None:
                raise UnknownIdError("class", class_id)
            return self._class_dict(s, row)

    def _class_dict(self, s: Session, row: SchoolClass) -> dict:
        teachers = s.scalars(
            select(ClassTeacher.teacher_id)
            .where(ClassTeacher.class_id == row.class_id)
            .order_by(ClassTeacher.teacher_id)
        ).all()
        n = s.scalar(
            select(func.count()).select_from(Enrolment).where(Enrolment.class_id == row.class_id)
        )
        return {
            "class_id": row.class_id,
            "name": row.name,
            "grade": row.grade,
            "subject": row.subject,
            "school_id": row.school_id,
            "graph_id": row.graph_id,
            "current_unit": row.current_unit,
            "settings": row.settings or {},
            "teacher_ids": list(teachers),
            "n_students": int(n or 0),
        }

    def list_classes(
        self,
        *,
        class_ids: Iterable[str] | None = None,
        offset: int = 0,
        limit: int | None = None,
    ) -> tuple[list[dict], int]:
        """Classes ordered by id (``class_ids`` restricts them); returns (page, total)."""
        with self.session() as s:
            q = select(SchoolClass)
            if class_ids is not None:
                q = q.where(SchoolClass.class_id.in_(list(class_ids)))
            total = s.scalar(select(func.count()).select_from(q.subquery()))
            q = q.order_by(SchoolClass.class_id).offset(offset)
            if limit is not None:
                q = q.limit(limit)
            return [self._class_dict(s, r) for r in s.scalars(q)], int(total or 0)

    def roster(self, class_id: str) -> pd.DataFrame:
        """The class's students: ``student_id, name, grade`` ordered by id."""
        with self.session() as s:
            if s.get(SchoolClass, class_id) is None:
                raise UnknownIdError("class", class_id)
            rows = s.execute(
                select(Student.student_id, Student.name, Student.grade)
                .join(Enrolment, Enrolment.student_id == Student.student_id)
                .where(Enrolment.class_id == class_id)
                .order_by(Student.student_id)
            ).all()
        return pd.DataFrame(
            {
                "student_id": pd.Series([r[0] for r in rows], dtype=object),
                "name": pd.Series([r[1] for r in rows], dtype=object),
                "grade": pd.Series([r[2] for r in rows], dtype="Int64"),
            }
        )

    def teacher_classes(self, teacher_id: str) -> list[str]:
        """Ids of the classes a teacher teaches."""
        with self.session() as s:
            return list(
                s.scalars(
                    select(ClassTeacher.class_id)
                    .where(ClassTeacher.teacher_id == teacher_id)
                    .order_by(ClassTeacher.class_id)
                )
            )

    def student_classes(self, student_id: str) -> list[str]:
        """Ids of the classes a student is enrolled in."""
        with self.session() as s:
            return list(
                s.scalars(
                    select(Enrolment.class_id)
                    .where(Enrolment.student_id == student_id)
                    .order_by(Enrolment.class_id)
                )
            )

    # -- subject graphs ------------------------------------------------------------
    def put_graph(
        self,
        graph_id: str,
        graph,
        *,
        name: str | None = None,
        subject: str | None = None,
        version: str | None = None,
    ) -> dict:
        """Store a subject graph (a networkx DiGraph) under ``graph_id`` (replacing it)."""
        import networkx as nx

        _check_id(graph_id, "graph_id")
        if not isinstance(graph, nx.DiGraph):
            raise InvalidDataError(
                f"expected a networkx.DiGraph, got {type(graph).__name__}", column="graph"
            )
        data = _jsonable(nx.node_link_data(graph, edges="edges"))
        attrs = graph.graph
        with self.session(write=True) as s:
            row = s.get(SubjectGraph, graph_id) or SubjectGraph(graph_id=graph_id)
            row.name = name or attrs.get("name") or row.name or graph_id
            row.subject = subject or attrs.get("subject") or row.subject
            row.version = version or (str(attrs["version"]) if "version" in attrs else None)
            row.data = data
            row.n_concepts = graph.number_of_nodes()
            row.n_edges = graph.number_of_edges()
            s.add(row)
            s.flush()
            self._bump(s)
            return _graph_info(row)

    def get_graph(self, graph_id: str):
        """The stored graph as a networkx DiGraph (raises UnknownIdError)."""
        import networkx as nx

        with self.session() as s:
            row = s.get(SubjectGraph, graph_id)
            if row is None:
                raise UnknownIdError("graph", graph_id)
            data = row.data
        return nx.node_link_graph(data, directed=True, multigraph=False, edges="edges")

    def graph_info(self, graph_id: str) -> dict:
        with self.session() as s:
            row = s.get(SubjectGraph, graph_id)
            if row is None:
                raise UnknownIdError("graph", graph_id)
            return _graph_info(row)

    def list_graphs(self, *, offset: int = 0, limit: int | None = None) -> tuple[list[dict], int]:
        """Stored graphs (without their data) ordered by id; returns (page, total)."""
        with self.session() as s:
            total = s.scalar(select(func.count()).select_from(SubjectGraph))
            q = select(SubjectGraph).order_by(SubjectGraph.graph_id).offset(offset)
            if limit is not None:
                q = q.limit(limit)
            return [_graph_info(r) for r in s.scalars(q)], int(total or 0)

    # -- resources -----------------------------------------------------------------
    def upsert_resources(self, resources: pd.DataFrame | Iterable[Mapping[str, Any]]) -> dict:
        """Insert or update catalogue rows by ``resource_id``, all in one transaction.

        Returns ``{"received", "inserted", "updated"}``. Bad rows raise
        :class:`InvalidDataError` naming the column and rows; nothing is written then.
        """
        records = _resource_records(resources)
        ids = [r["resource_id"] for r in records]
        with self.session(write=True) as s:
            existing = {
                r.resource_id: r
                for chunk in _chunks(ids, 500)
                for r in s.scalars(select(Resource).where(Resource.resource_id.in_(chunk)))
            }
            inserted = 0
            for rec in records:
                row = existing.get(rec["resource_id"])
                if row is None:
                    row = Resource(resource_id=rec["resource_id"])
                    s.add(row)
                    inserted += 1
                for k in RESOURCE_COLUMNS[1:]:
                    setattr(row, k, rec.get(k))
            s.flush()
            for chunk in _chunks(ids, 500):
                s.execute(delete(ResourceConcept).where(ResourceConcept.resource_id.in_(chunk)))
            links = [
                {"resource_id": r["resource_id"], "concept_id": c}
                for r in records
                for c in r["concept_ids"]
            ]
            if links:
                s.execute(dialect_insert(s, ResourceConcept), links)
            self._bump(s)
        return {"received": len(records), "inserted": inserted, "updated": len(records) - inserted}

    def list_resources(
        self,
        *,
        concept: str | Sequence[str] | None = None,
        type: str | Sequence[str] | None = None,
        grade: int | None = None,
        subject: str | None = None,
        is_quality: bool | None = None,
        q: str | None = None,
        offset: int = 0,
        limit: int | None = None,
    ) -> tuple[list[dict], int]:
        """Catalogue rows matching every given filter, ordered by id; (page, total).

        ``concept``: resources teaching any of these concepts; ``q``: substring of the
        title (case-insensitive).
        """
        stmt = select(Resource)
        if concept:
            concepts = [concept] if isinstance(concept, str) else list(concept)
            sub = select(ResourceConcept.resource_id).where(
                ResourceConcept.concept_id.in_(concepts)
            )
            stmt = stmt.where(Resource.resource_id.in_(sub))
        if type:
            types = [type] if isinstance(type, str) else list(type)
            stmt = stmt.where(Resource.type.in_(types))
        if grade is not None:
            stmt = stmt.where(Resource.grade == grade)
        if subject is not None:
            stmt = stmt.where(Resource.subject == subject)
        if is_quality is not None:
            stmt = stmt.where(Resource.is_quality == is_quality)
        if q:
            like = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            stmt = stmt.where(Resource.title.ilike(like, escape="\\"))
        with self.session() as s:
            total = s.scalar(select(func.count()).select_from(stmt.subquery()))
            stmt = stmt.order_by(Resource.resource_id).offset(offset)
            if limit is not None:
                stmt = stmt.limit(limit)
            return [_resource_dict(r) for r in s.scalars(stmt)], int(total or 0)

    def catalogue(self) -> pd.DataFrame:
        """The whole catalogue as a DataFrame in the catalogue contract's columns."""
        rows, _ = self.list_resources()
        df = pd.DataFrame(rows, columns=list(RESOURCE_COLUMNS))
        df["concept_ids"] = pd.Series(
            [tuple(c) for c in df["concept_ids"]], index=df.index, dtype=object
        )
        df["is_quality"] = df["is_quality"].astype(bool)
        for col in ("minutes", "difficulty"):
            df[col] = pd.to_numeric(df[col]).astype(float)
        df["grade"] = pd.array(df["grade"].tolist(), dtype="Int64")
        return df

    # -- fitted models -------------------------------------------------------------
    def save_model(
        self,
        estimator: Any,
        *,
        name: str,
        n_interactions: int = 0,
        n_students: int = 0,
        last_seq: int = 0,
        metrics: Mapping | None = None,
        activate: bool = True,
    ) -> int:
        """Store a fitted estimator (joblib) with its metadata; returns its model id.

        With ``activate`` (default) it becomes the model the service uses.
        """
        import joblib

        from edu_recsys import __version__

        buf = io.BytesIO()
        joblib.dump(estimator, buf, compress=3)
        blob = buf.getvalue()
        params = None
        if hasattr(estimator, "get_params"):
            try:
                params = _jsonable(
                    {k: v for k, v in estimator.get_params(deep=False).items() if _simple(v)}
                )
            except Exception:
                params = None
        with self.session(write=True) as s:
            if activate:
                s.execute(update(FittedModel).values(active=False))
            row = FittedModel(
                name=name,
                active=activate,
                n_interactions=int(n_interactions),
                n_students=int(n_students),
                last_seq=int(last_seq),
                params=params,
                metrics=_jsonable(dict(metrics)) if metrics else None,
                library_version=__version__,
                artifact=blob,
                artifact_sha256=hashlib.sha256(blob).hexdigest(),
            )
            s.add(row)
            s.flush()
            model_id = row.model_id
            self._bump(s)
        log.info("stored model %s (%s, %d bytes)", model_id, name, len(blob))
        return int(model_id)

    def model_info(self, model_id: int | None = None) -> dict:
        """Metadata of a stored model (default: the active one); raises NoModelError."""
        with self.session() as s:
            row = self._model_row(s, model_id)
            return _model_dict(row)

    def _model_row(self, s: Session, model_id: int | None) -> FittedModel:
        if model_id is None:
            row = s.scalars(
                select(FittedModel)
                .where(FittedModel.active.is_(True))
                .order_by(FittedModel.model_id.desc())
            ).first()
            if row is None:
                raise NoModelError()
        else:
            row = s.get(FittedModel, model_id)
            if row is None:
                raise UnknownIdError("model", str(model_id))
        return row

    def load_model(self, model_id: int | None = None) -> tuple[Any, dict]:
        """(estimator, metadata) of a stored model (default: the active one)."""
        import joblib

        with self.session() as s:
            row = self._model_row(s, model_id)
            blob, info = row.artifact, _model_dict(row)
        if hashlib.sha256(blob).hexdigest() != info["artifact_sha256"]:
            raise StoreError(f"model {info['model_id']}: artifact checksum mismatch")
        return joblib.load(io.BytesIO(blob)), info

    def list_models(self) -> list[dict]:
        """Metadata of every stored model, newest first."""
        with self.session() as s:
            rows = s.scalars(select(FittedModel).order_by(FittedModel.model_id.desc()))
            return [_model_dict(r) for r in rows]

    # -- delegated: ingestion, tokens, data rights ------------------------------------
    def ingest(self, interactions: pd.DataFrame, **kwargs: Any):
        """Store a batch of answers atomically (see :func:`edu_recsys.store.ingest.ingest`)."""
        from edu_recsys.store.ingest import ingest

        return ingest(self, interactions, **kwargs)

    def interactions(self, **kwargs: Any) -> pd.DataFrame:
        """Stored answers as a canonical table (see :func:`.ingest.read_interactions`)."""
        from edu_recsys.store.ingest import read_interactions

        return read_interactions(self, **kwargs)

    def max_seq(self) -> int:
        """The ``seq`` of the newest stored answer (0 when none)."""
        from edu_recsys.store.models import Interaction

        with self.session() as s:
            return int(s.scalar(select(func.max(Interaction.seq))) or 0)

    def create_token(self, role: str, **kwargs: Any):
        """Issue an API token: returns ``(token, TokenInfo)``; the token is shown once."""
        from edu_recsys.store.tokens import create_token

        return create_token(self, role, **kwargs)

    def verify_token(self, token: str):
        """The token's :class:`~edu_recsys.store.TokenInfo` when valid, else None."""
        from edu_recsys.store.tokens import verify_token

        return verify_token(self, token)

    def lookup_token(self, token: str):
        """``(info, touch_due)`` without writing (see :func:`.tokens.lookup_token`)."""
        from edu_recsys.store.tokens import lookup_token

        return lookup_token(self, token)

    def touch_token(self, token_id: int) -> None:
        """Record a token's use (``last_used_at``)."""
        from edu_recsys.store.tokens import touch_token

        touch_token(self, token_id)

    def export_student(self, student_id: str) -> dict:
        from edu_recsys.store.rights import export_student

        return export_student(self, student_id)

    def erase_student(self, student_id: str) -> dict:
        from edu_recsys.store.rights import erase_student

        return erase_student(self, student_id)

    def research_export(self, **kwargs: Any) -> pd.DataFrame:
        from edu_recsys.store.rights import research_export

        return research_export(self, **kwargs)


# -- helpers ------------------------------------------------------------------------


def _chunks(seq: Sequence, n: int) -> Iterator[Sequence]:
    for i in range(0, len(seq), n):
        yield seq[i : i + n]


def _simple(v: Any) -> bool:
    return v is None or isinstance(v, (str, int, float, bool))


def _student_records(students: Any) -> list[dict]:
    if isinstance(students, pd.DataFrame):
        if "student_id" not in students.columns:
            raise InvalidDataError("missing required column", column="student_id")
        items: list = students.to_dict("records")
    elif isinstance(students, (str, bytes)):
        raise InvalidDataError("expected a list of student ids or records", column="student_id")
    else:
        items = list(students)
    out: dict[str, dict] = {}
    for pos, it in enumerate(items):
        rec = {"student_id": it} if isinstance(it, str) else dict(it)
        sid = rec.get("student_id")
        if not isinstance(sid, str) or not sid.strip() or len(sid) > ID_LEN:
            raise InvalidDataError(
                "missing, empty or too long student id",
                column="student_id",
                rows=[pos],
                expected=f"a non-empty string of at most {ID_LEN} characters",
            )
        name = rec.get("name")
        grade = rec.get("grade")
        out[sid] = {
            "student_id": sid,
            "name": None
            if name is None or (isinstance(name, float) and math.isnan(name))
            else name,
            "grade": None if grade is None or pd.isna(grade) else int(grade),
        }
    return list(out.values())


def _graph_info(row: SubjectGraph) -> dict:
    return {
        "graph_id": row.graph_id,
        "name": row.name,
        "subject": row.subject,
        "version": row.version,
        "n_concepts": row.n_concepts,
        "n_edges": row.n_edges,
        "updated_at": row.updated_at,
    }


def _resource_dict(r: Resource) -> dict:
    return {
        "resource_id": r.resource_id,
        "title": r.title,
        "type": r.type,
        "concept_ids": list(r.concept_ids or []),
        "grade": r.grade,
        "subject": r.subject,
        "minutes": r.minutes,
        "difficulty": r.difficulty,
        "source": r.source,
        "is_quality": bool(r.is_quality),
        "url": r.url,
    }


def _model_dict(r: FittedModel) -> dict:
    return {
        "model_id": int(r.model_id),
        "name": r.name,
        "active": bool(r.active),
        "created_at": r.created_at,
        "n_interactions": int(r.n_interactions),
        "n_students": int(r.n_students),
        "last_seq": int(r.last_seq),
        "params": r.params or {},
        "metrics": r.metrics or {},
        "library_version": r.library_version,
        "artifact_bytes": len(r.artifact) if r.artifact is not None else 0,
        "artifact_sha256": r.artifact_sha256,
    }


def _resource_records(resources: Any) -> list[dict]:
    """Catalogue rows checked and typed; InvalidDataError names column and rows."""
    from edu_recsys.data.validate import parse_concepts

    if isinstance(resources, pd.DataFrame):
        df = resources.copy()
    else:
        df = pd.DataFrame(list(resources))
    if df.empty:
        return []
    for col in ("resource_id", "title", "type", "concept_ids"):
        if col not in df.columns:
            raise InvalidDataError("missing required column", column=col)
    unknown = [c for c in df.columns if c not in RESOURCE_COLUMNS]
    if unknown:
        log.info("catalogue columns not stored: %s", unknown)

    def bad(col: str, mask, expected: str, what: str = "invalid values") -> InvalidDataError:
        return InvalidDataError(
            what, column=col, rows=np.flatnonzero(np.asarray(mask)).tolist(), expected=expected
        )

    for col, limit in (("resource_id", ID_LEN), ("title", 500), ("type", 64)):
        v = df[col]
        m = v.isna() | v.map(
            lambda x, lim=limit: not isinstance(x, str) or not x.strip() or len(x) > lim
        )
        if m.any():
            raise bad(col, m, f"non-empty text of at most {limit} characters")
    dup = df["resource_id"].duplicated(keep=False)
    if dup.any():
        raise bad("resource_id", dup, "each resource once per batch", "duplicate ids")
    concepts = parse_concepts(df["concept_ids"].tolist())
    too_long = [i for i, cs in enumerate(concepts) if any(len(c) > ID_LEN for c in cs)]
    if too_long:
        raise bad("concept_ids", np.isin(np.arange(len(df)), too_long), "concept ids <= 128")
    out = []
    num: dict[str, np.ndarray] = {}
    for col, lo, hi in (("grade", 0, 20), ("minutes", 0, 10_000), ("difficulty", 0, 1)):
        if col in df.columns:
            v = pd.to_numeric(df[col], errors="coerce")
            m = (v.isna() & df[col].notna()) | (v < lo) | (v > hi)
            if col == "grade":
                m |= v.notna() & (v % 1 != 0)
            if m.any():
                raise bad(col, m, f"a number in [{lo}, {hi}] or empty")
            num[col] = v.to_numpy(dtype=float)
    if "is_quality" in df.columns:
        q = df["is_quality"]
        ok = q.isna() | q.map(lambda x: isinstance(x, (bool, np.bool_)) or x in (0, 1))
        if not ok.all():
            raise bad("is_quality", ~ok, "true/false")
    for col, limit in (("subject", 64), ("source", 200), ("url", 1000)):
        if col in df.columns:
            v = df[col]
            m = v.notna() & v.map(lambda x, lim=limit: not isinstance(x, str) or len(x) > lim)
            if m.any():
                raise bad(col, m, f"text of at most {limit} characters or empty")
    for i, rec in enumerate(df.to_dict("records")):
        row = {
            "resource_id": rec["resource_id"].strip(),
            "title": rec["title"],
            "type": rec["type"].strip(),
            "concept_ids": list(concepts[i]),
            "is_quality": bool(rec.get("is_quality")) if pd.notna(rec.get("is_quality")) else False,
        }
        for col in ("grade", "minutes", "difficulty"):
            x = num[col][i] if col in num else float("nan")
            row[col] = None if math.isnan(x) else (int(x) if col == "grade" else float(x))
        for col in ("subject", "source", "url"):
            x = rec.get(col)
            row[col] = x if isinstance(x, str) else None
        out.append(row)
    return out

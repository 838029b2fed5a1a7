"""One-row reads on a pooled DBAPI connection, for the queries that run on every request.

SQLAlchemy's execution path (connection events, ``BEGIN``, result metadata, rollback)
costs about 75 µs of CPU per query on SQLite; the same statement on the pooled DBAPI
connection costs about 15 µs. Two queries run on every API request (the token lookup
and the store version), so they take this path. Results are typed with SQLAlchemy's
own result processors for the statement's declared columns, so the values are the
same as through a :class:`~sqlalchemy.engine.Connection`.

Only for single read-only statements. On a SQLite file each thread reads through its
own connection, opened with the store's pragmas and in autocommit mode (each statement
is its own transaction, so it sees every committed write and never pins an old WAL
snapshot). These connections are not taken from the engine's pool, so a read made on
the API's event loop can never wait for a pooled connection held by a busy worker
thread; :meth:`ThreadConnections.close` (called by ``Store.close``) closes them. On
PostgreSQL (and in-memory SQLite) the pooled DBAPI connection is used; the driver's
implicit transaction is rolled back when it returns to the pool.
"""

from __future__ import annotations

import threading
import weakref
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.pool import StaticPool
from sqlalchemy.sql.elements import TextClause
from sqlalchemy.sql.selectable import TextualSelect

from edu_recsys.store.engine import _sqlite_pragmas

__all__ = ["FastQuery", "ThreadConnections"]


class _Held:
    """One thread's connection (a weakly referable holder: sqlite3 connections are not)."""

    __slots__ = ("conn", "__weakref__")

    def __init__(self, conn):
        self.conn = conn


class ThreadConnections:
    """Per-thread DBAPI connections to a SQLite file, outside the engine's pool."""

    def __init__(self, engine: Engine):
        self._dialect = engine.dialect
        self._cargs, cparams = engine.dialect.create_connect_args(engine.url)
        # closed by whichever thread closes the store
        self._cparams = {**cparams, "check_same_thread": False, "timeout": 30}
        self._local = threading.local()
        self._all: weakref.WeakSet[_Held] = weakref.WeakSet()
        self._lock = threading.Lock()

    def get(self):
        held = getattr(self._local, "held", None)
        if held is None:
            conn = self._dialect.connect(*self._cargs, **self._cparams)
            _sqlite_pragmas(conn, None)
            held = self._local.held = _Held(conn)
            with self._lock:
                self._all.add(held)
        return held.conn

    def close(self) -> None:
        """Close every thread's connection (threads reopen one when they read again)."""
        with self._lock:
            helds = list(self._all)
            self._all.clear()
        for held in helds:
            try:
                held.conn.close()
            except Exception:  # closing is best effort (a thread may still be using it)
                pass
        self._local = threading.local()


def thread_connections(engine: Engine) -> ThreadConnections | None:
    """Per-thread connections for a SQLite file engine, else None (use the pool)."""
    if engine.dialect.name != "sqlite" or isinstance(engine.pool, StaticPool):
        return None
    return ThreadConnections(engine)


class FastQuery:
    """A compiled one-row read for one engine.

    Parameters
    ----------
    engine : Engine
    stmt : TextClause or TextualSelect
        ``text(...)``, optionally with ``.columns(name=Type, ...)`` for typed results.
    connections : ThreadConnections, optional
        Where to read on a SQLite file (default: the engine's pool).

    Examples
    --------
    >>> from sqlalchemy import Integer, text
    >>> from edu_recsys.store import Store
    >>> store = Store("sqlite://")
    >>> q = FastQuery(store.engine, text("SELECT :x + 1 AS y").columns(y=Integer))
    >>> q.first({"x": 41})
    (42,)
    >>> store.close()
    """

    def __init__(
        self,
        engine: Engine,
        stmt: TextClause | TextualSelect,
        connections: ThreadConnections | None = None,
    ):
        dialect = engine.dialect
        self._connections = connections
        compiled = stmt.compile(dialect=dialect)
        self.engine = engine
        self.sql: str = compiled.string
        self._compiled = compiled
        self._positions = list(compiled.positiontup or []) if compiled.positional else None
        types = (
            {c.name: c.type for c in stmt.selected_columns}
            if isinstance(stmt, TextualSelect)
            else {}
        )
        self._procs = {
            name: t.dialect_impl(dialect).result_processor(dialect, None)
            for name, t in types.items()
        }
        self._row_procs: list | None = None

    def first(self, params: dict[str, Any] | None = None) -> tuple | None:
        """The first row (typed), or None."""
        if self._positions is not None:
            args: Any = tuple((params or {})[k] for k in self._positions)
        else:
            args = params or {}
        if self._connections is not None:
            row = self._fetch(self._connections.get(), args)
        else:
            conn = self.engine.raw_connection()
            try:
                row = self._fetch(conn, args)
            finally:
                conn.close()  # back to the pool (rolled back there)
        if row is None:
            return None
        return tuple(v if p is None or v is None else p(v) for v, p in zip(row, self._row_procs))

    def _fetch(self, conn, args) -> tuple | None:
        cur = conn.cursor()
        try:
            cur.execute(self.sql, args)
            row = cur.fetchone()
            if self._row_procs is None:
                self._row_procs = [self._procs.get(d[0]) for d in cur.description or ()]
        finally:
            cur.close()  # ends the statement: no snapshot is kept
        return row

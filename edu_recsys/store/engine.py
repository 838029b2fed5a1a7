"""Database URLs, engines and schema migrations.

The embedded default is a SQLite file (``edu_recsys.sqlite`` in the working directory,
or ``$EDU_RECSYS_DB_URL``) opened in WAL mode, so that readers never block the one
writer and a crash never leaves a half-written transaction. PostgreSQL is used by
URL (``postgresql+psycopg://user:pass@host/db``; plain ``postgresql://`` URLs are
mapped to the psycopg 3 driver).

The schema is versioned with Alembic (migrations in ``edu_recsys/store/migrations``);
:func:`upgrade` brings any database to the current version and is run whenever a
:class:`~edu_recsys.store.Store` is opened.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.pool import StaticPool

__all__ = [
    "DB_URL_ENV",
    "DEFAULT_DB_FILE",
    "default_url",
    "normalise_url",
    "make_engine",
    "upgrade",
    "current_revision",
    "head_revision",
    "redact_url",
]

log = logging.getLogger(__name__)

#: Environment variable read by :func:`default_url` (same name as the API setting).
DB_URL_ENV = "EDU_RECSYS_DB_URL"
#: File name of the embedded default store, in the working directory.
DEFAULT_DB_FILE = "edu_recsys.sqlite"

_MIGRATIONS = Path(__file__).with_name("migrations")


def default_url() -> str:
    """The store URL used when none is given: ``$EDU_RECSYS_DB_URL``, else a SQLite file.

    Examples
    --------
    >>> default_url().startswith(("sqlite:///", "postgresql"))  # doctest: +SKIP
    True
    """
    env = os.environ.get(DB_URL_ENV)
    if env:
        return normalise_url(env)
    return f"sqlite:///{Path.cwd() / DEFAULT_DB_FILE}"


def normalise_url(url: str | os.PathLike) -> str:
    """A SQLAlchemy URL from a URL or a file path; PostgreSQL URLs use psycopg 3.

    Examples
    --------
    >>> normalise_url("postgresql://u:p@localhost/db")
    'postgresql+psycopg://u:p@localhost/db'
    >>> normalise_url("/tmp/x.sqlite")
    'sqlite:////tmp/x.sqlite'
    >>> normalise_url("sqlite://")
    'sqlite://'
    """
    text = os.fspath(url)
    if "://" not in text:
        return f"sqlite:///{Path(text).expanduser().resolve()}"
    for prefix in ("postgresql://", "postgres://"):
        if text.startswith(prefix):
            return "postgresql+psycopg://" + text[len(prefix) :]
    return text


def redact_url(url: str) -> str:
    """The URL with its password hidden (for logs and messages).

    Examples
    --------
    >>> redact_url("postgresql+psycopg://u:secret@h/db")
    'postgresql+psycopg://u:***@h/db'
    """
    return make_url(url).render_as_string(hide_password=True)


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    # the driver must not open transactions itself: _sqlite_begin does (see below)
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    # WAL: concurrent readers with one writer, atomic commits that survive a crash.
    cur.execute("PRAGMA journal_mode=WAL")
    # NORMAL is durable against application crashes in WAL mode (FULL adds power loss).
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def _sqlite_begin(conn) -> None:
    # Write transactions take the write lock at BEGIN: a deferred transaction that reads
    # first and writes later fails at once ("database is locked") when another writer
    # committed in between, instead of waiting for busy_timeout.
    immediate = conn.get_execution_options().get("sqlite_immediate", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def make_engine(url: str | None = None, *, echo: bool = False) -> Engine:
    """An engine for ``url`` (default: :func:`default_url`) with the store's settings."""
    url = normalise_url(url) if url else default_url()
    u = make_url(url)
    kwargs: dict = {"echo": echo, "future": True}
    if u.get_backend_name() == "sqlite":
        memory = u.database in (None, "", ":memory:")
        if memory:
            # one shared connection, otherwise every connection sees its own empty DB
            kwargs.update(poolclass=StaticPool, connect_args={"check_same_thread": False})
        else:
            Path(u.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    kwargs.update(pool_pre_ping=True, pool_size=10, max_overflow=20)
    return create_engine(url, **kwargs)


def _alembic_config(connection):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    """The newest schema revision this version of the library knows."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(_MIGRATIONS)).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The schema revision of the database (None when it has no store schema)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> str:
    """Migrate the database to ``revision`` (default: the newest) and return it.

    A database created before migrations existed (tables present, no version) is
    refused rather than guessed at.
    """
    from alembic import command

    cur = current_revision(engine)
    head = head_revision()
    if cur == head and revision == "head":
        return cur
    if cur is None and "interactions" in inspect(engine).get_table_names():
        from edu_recsys.store.errors import StoreError

        raise StoreError(
            "the database has store tables but no schema version; it was not created by "
            "edu_recsys.store (or its alembic_version table was removed)"
        )
    with engine.begin() as conn:
        command.upgrade(_alembic_config(conn), revision)
    new = current_revision(engine)
    log.info("store schema at revision %s (was %s)", new, cur)
    return new

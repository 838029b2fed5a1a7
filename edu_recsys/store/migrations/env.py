"""Alembic environment for the store (run through edu_recsys.store.engine.upgrade)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from edu_recsys.store.models import Base

target_metadata = Base.metadata
try:
    config = context.config
except (
    AttributeError,
    NameError,
):  # imported outside an Alembic run (e.g. by pytest's doctest collection)
    config = None


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is None:  # plain `alembic -x url=... upgrade head`
        from edu_recsys.store.engine import normalise_url

        url = context.get_x_argument(as_dictionary=True).get("url")
        if not url:
            raise SystemExit("pass the database as: alembic -x url=URL upgrade head")
        with create_engine(normalise_url(url)).begin() as conn:
            _run(conn)
    else:
        _run(connection)


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things: later migrations use batch mode there
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if config is not None:
    if context.is_offline_mode():
        raise SystemExit("offline (SQL script) migrations are not supported; run them online")
    run_migrations_online()

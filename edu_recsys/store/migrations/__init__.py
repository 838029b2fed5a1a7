"""Alembic migrations of the store schema (applied by ``edu_recsys.store.engine.upgrade``)."""

"""The store: SQLAlchemy 2 models, repositories and Alembic migrations (SQLite or PostgreSQL)."""

from safestream.store.database import Database

__all__ = ["Database"]

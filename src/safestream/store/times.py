"""Timestamps read back from the store, made timezone-aware (SQLite returns naive UTC)."""

from __future__ import annotations

from datetime import UTC, datetime


def aware(value: datetime) -> datetime:
    """The same instant as an aware UTC datetime."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def aware_or_none(value: datetime | None) -> datetime | None:
    """`aware` that passes None through."""
    return None if value is None else aware(value)

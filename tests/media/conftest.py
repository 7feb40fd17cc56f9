"""Fixtures shared by the media tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from safestream.store import Database
from safestream.store.banks import BankRepository


@pytest.fixture
def banks(tmp_path: Path) -> BankRepository:
    """The banks of a fresh, migrated SQLite store (no bank yet)."""
    db = Database(f"sqlite:///{tmp_path / 'store.db'}")
    db.migrate()
    return BankRepository(db)

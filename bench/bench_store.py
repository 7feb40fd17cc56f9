"""The SafeStream home the HTTP benchmarks serve: a migrated store, one organisation with an API
key, and an empty bank KNOWN for the benchmark to fill."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the benchmarks import SafeStream lazily, after their peers are measured
    from safestream.core.config import Settings
    from safestream.store.banks import BankRepository
    from safestream.store.database import Database

BANK = "KNOWN"


@dataclass
class BenchStore:
    settings: Settings
    db: Database
    api_key: str
    banks: BankRepository


def bench_store(home: Path) -> BenchStore:
    """A fresh home at `home` with its store migrated, org "Bench", its key and bank KNOWN."""
    from safestream.core.config import Settings
    from safestream.store.access import create_api_key, create_org
    from safestream.store.banks import BankRepository
    from safestream.store.database import Database

    settings = Settings(home=home)
    settings.ensure_home()
    db = Database.from_settings(settings)
    db.migrate()
    create_org(db, "Bench")
    key = create_api_key(db, "Bench").key
    banks = BankRepository(db)
    banks.create(BANK)
    return BenchStore(settings, db, key, banks)

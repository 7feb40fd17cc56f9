"""What one `safestream` invocation loads once: its settings, and the store they point at."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from safestream.core.config import Settings
    from safestream.store import Database
    from safestream.store.banks import BankRepository

_config_file: Path | None = None
_settings: Settings | None = None


def use_config_file(path: Path | None) -> None:
    """Load settings from this TOML file (the root `--config` option)."""
    global _config_file, _settings
    _config_file, _settings = path, None


def settings() -> Settings:
    """The settings of this invocation, loaded on first use from the environment and TOML."""
    global _settings
    if _settings is None:
        from safestream.core.config import Settings
        from safestream.core.errors import InvalidInput

        try:
            _settings = Settings.load(config_file=_config_file)
        except InvalidInput as exc:
            raise typer.BadParameter(str(exc), param_hint="settings") from exc
    return _settings


@dataclass
class Store:
    """An opened, migrated store and the bank repository over it."""

    settings: Settings
    db: Database
    banks: BankRepository


def open_database() -> Database:
    """The store of this invocation's settings, migrated to the newest schema."""
    from safestream.store import Database

    db = Database.from_settings(settings())
    db.migrate()
    return db


def open_store() -> Store:
    """The migrated store with its bank repository."""
    from safestream.store.banks import BankRepository

    db = open_database()
    return Store(settings(), db, BankRepository(db))

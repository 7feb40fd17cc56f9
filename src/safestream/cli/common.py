"""Pieces every media command shares: opening the store, JSON lines, error lines, exit codes."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from safestream.core.config import Settings
from safestream.core.errors import SafeStreamError
from safestream.store import Database
from safestream.store.banks import BankRepository

EXIT_OK = 0
EXIT_SOME_FAILED = 1
EXIT_USAGE = 2


@dataclass
class Store:
    """An opened, migrated store and the bank repository over it."""

    settings: Settings
    db: Database
    banks: BankRepository


def open_store() -> Store:
    """Open the store of the current SAFESTREAM_HOME, migrating it to the newest schema."""
    settings = Settings.from_env()
    db = Database.from_settings(settings)
    db.migrate()
    return Store(settings, db, BankRepository(db))


def emit(obj: dict[str, Any]) -> None:
    """Write one JSON object as a line on stdout."""
    sys.stdout.write(json.dumps(obj, separators=(",", ":"), default=str) + "\n")
    sys.stdout.flush()


def error_line(path: Path | str | None, message: str) -> None:
    """Write one error line on stderr, naming the file when there is one."""
    prefix = f"{path}: " if path is not None else ""
    sys.stderr.write(f"error: {prefix}{message}\n")


def fail(exc: SafeStreamError) -> int:
    """Report an error that stops the command, and return its exit code."""
    error_line(None, str(exc))
    return exc.exit_code

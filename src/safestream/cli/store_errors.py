"""One clear line for a store that cannot take a write (full disk, database away).

Without this, `bank create`, `bank add`, `org create` and the rest printed SQLAlchemy's or
SQLite's traceback, or a two-line message ending in "(Background on this error ...)". A full
disk often shows up from SQLite as "disk I/O error" (it cannot write its journal), so the free
space of the home is checked whenever a store error stops a command.
"""

from __future__ import annotations

from safestream.core.errors import SafeStreamError, StorageFull, StoreError, StoreUnavailable


def as_command_error(error: BaseException) -> SafeStreamError | None:
    """The error to report for an exception that stopped a command, or None to re-raise it."""
    from safestream.store.faults import is_disk_full, store_failure

    if isinstance(error, SafeStreamError) and not isinstance(error, StoreError):
        return error
    if isinstance(error, OSError) and not is_disk_full(error):
        where = f": {error.filename}" if error.filename else ""
        return SafeStreamError(f"{error.strerror or error}{where}")
    if isinstance(error, (StoreError, OSError)) or _from_database(error):
        failure = store_failure(error)
        cause = one_line(error)  # which database or file, and what it said
        if isinstance(failure, StorageFull) or _home_is_full():
            return StorageFull(f"the disk is full; nothing was changed ({cause})")
        if isinstance(failure, StoreUnavailable):
            return StoreUnavailable(f"the database is unavailable; nothing was changed ({cause})")
        return StoreError(cause)
    return None


def one_line(error: BaseException) -> str:
    """The error's message without SQLAlchemy's background-link line or line breaks."""
    lines = [line.strip() for line in str(error).splitlines()]
    return " ".join(line for line in lines if line and not line.startswith("(Background on"))


def _from_database(error: BaseException) -> bool:
    return type(error).__module__.split(".")[0] in {"sqlalchemy", "sqlite3", "psycopg"}


def _home_is_full() -> bool:
    from safestream.cli import context
    from safestream.store.faults import disk_space

    try:
        return not disk_space(context.settings().home).ok
    except Exception:  # the check is a hint; never let it replace the real error
        return False

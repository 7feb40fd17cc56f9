"""A lock on an index directory shared by every process of one machine (`flock` on `.lock`).

Server workers, `safestream match`, `watch` and the demo all keep their index files in the same
directory. Whoever writes them (a change-log append with its state file, or a new snapshot)
holds the lock exclusively, so two writers never interleave their files; a reader that maps the
files holds it shared, so it never pairs one writer's index with another's state file.

`flock` locks belong to an open file: a process that holds the lock and opens the file again
blocks on itself, so callers that already hold it say so (`locked=True`) instead of relocking.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LOCK_FILE = ".lock"


@contextmanager
def directory_lock(directory: Path, *, shared: bool = False, wait: bool = True) -> Iterator[bool]:
    """Hold the directory's lock (exclusive unless `shared`); yield whether it is held.

    With `wait=False` a lock another process holds yields False at once. Raises OSError when
    the lock file cannot be created (a read-only or missing folder)."""
    directory.mkdir(parents=True, exist_ok=True)
    fd = os.open(directory / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        mode = fcntl.LOCK_SH if shared else fcntl.LOCK_EX
        try:
            fcntl.flock(fd, mode | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)

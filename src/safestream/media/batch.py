"""Batches of media files: walk paths recursively and work through them on every core.

Results come back in input order, each either a value or the `SafeStreamError` that file raised,
so one bad file never stops a batch. Progress is drawn with Rich on stderr only.
"""

from __future__ import annotations

import os
import sys
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator
from concurrent.futures import BrokenExecutor, Future, ProcessPoolExecutor
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Generic, TypeVar

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from safestream.core.errors import InvalidInput, SafeStreamError

T = TypeVar("T")

# Files a walk skips: hidden files and the sidecar files editors and OSes leave behind.
_SKIP_NAMES = {"thumbs.db", "desktop.ini"}


@dataclass(frozen=True)
class Outcome(Generic[T]):
    """What one file gave: a value, or the error that explains why not."""

    path: Path
    value: T | None = None
    error: str | None = None


def iter_files(paths: Iterable[Path]) -> Iterator[Path]:
    """Every file under the given paths (directories walked recursively, sorted)."""
    for path in paths:
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(files):
                    if not name.startswith(".") and name.lower() not in _SKIP_NAMES:
                        yield Path(root) / name
        else:
            yield path


def _call(func: Callable[[Path], T], path: Path) -> Outcome[T]:
    try:
        if not path.exists():
            raise InvalidInput("no such file")
        return Outcome(path, value=func(path))
    except SafeStreamError as exc:
        return Outcome(path, error=str(exc))
    except OSError as exc:
        return Outcome(path, error=f"cannot read: {exc.strerror or exc}")


def run_batch(
    func: Callable[[Path], T],
    files: list[Path],
    *,
    workers: int | None = None,
    label: str = "hashing",
    progress: bool | None = None,
) -> Iterator[Outcome[T]]:
    """Apply `func` to each file on a process pool, yielding outcomes in input order."""
    workers = workers or os.cpu_count() or 1
    show = sys.stderr.isatty() if progress is None else progress
    bar = Progress(
        TextColumn(f"[bold]{label}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        disable=not show,
        transient=True,
        # Rich would otherwise capture stdout while the bar is drawn and print it on the bar's
        # console (stderr): `safestream match ... > hits.jsonl` would write an empty file.
        redirect_stdout=False,
    )
    with bar:
        task = bar.add_task(label, total=len(files))
        if workers <= 1 or len(files) <= 1:
            for path in files:
                yield _call(func, path)
                bar.advance(task)
            return
        queue = list(files)
        while queue:
            done, broken = yield from _run_pool(func, queue, workers, bar, task)
            queue = queue[done:]
            if broken:
                # A decoder that kills its worker breaks the whole pool, and any file in flight
                # may be the culprit: the oldest is retried alone before it is blamed, and the
                # rest of the batch goes on in a fresh pool.
                yield _call_isolated(func, queue[0])
                bar.advance(task)
                queue = queue[1:]


def _call_isolated(func: Callable[[Path], T], path: Path) -> Outcome[T]:
    with ProcessPoolExecutor(max_workers=1) as pool:
        try:
            return pool.submit(_call, func, path).result()
        except BrokenExecutor:
            return Outcome(path, error="the decoder crashed on this file")


def _run_pool(
    func: Callable[[Path], T], files: list[Path], workers: int, bar: Progress, task: TaskID
) -> Generator[Outcome[T], None, tuple[int, bool]]:
    done = 0
    with ProcessPoolExecutor(max_workers=workers) as pool:
        window = workers * 4  # bounded, so a huge batch is not queued all at once
        pending: deque[tuple[Path, Future[Outcome[T]]]] = deque()
        it = iter(files)
        for path in islice(it, window):
            pending.append((path, pool.submit(_call, func, path)))
        while pending:
            path, future = pending.popleft()
            try:
                outcome = future.result()
            except BrokenExecutor:
                return done, True
            done += 1
            bar.advance(task)
            nxt = next(it, None)
            if nxt is not None:
                pending.append((nxt, pool.submit(_call, func, nxt)))
            yield outcome
    return done, False

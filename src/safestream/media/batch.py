"""Batches of media files: walk paths recursively and work through them on every core.

Results come back in input order, each either a value or the error that file raised, so one
bad file never stops a batch. Every file is worked on in a worker process under a `FileBudget`
(CPU seconds and memory, enforced by the kernel), so one hostile file costs at most its budget
and an error line. Progress is drawn with Rich on stderr only.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator
from concurrent.futures import BrokenExecutor, Future, ProcessPoolExecutor
from dataclasses import dataclass
from itertools import islice
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

from safestream.core.errors import InvalidInput, SafeStreamError
from safestream.media.budget import (
    DEFAULT_FILE_BUDGET,
    FileBudget,
    enter_worker,
    memory_error_message,
    start_file,
)

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
    start_file()
    try:
        if not path.exists():
            raise InvalidInput("no such file")
        return Outcome(path, value=func(path))
    except SafeStreamError as exc:
        return Outcome(path, error=str(exc))
    except OSError as exc:
        return Outcome(path, error=f"cannot read: {exc.strerror or exc}")
    except MemoryError:
        return Outcome(path, error=memory_error_message())
    except Exception as exc:  # a bug must cost one file, not the batch
        return Outcome(path, error=f"internal error: {type(exc).__name__}: {exc}")


class _Progress(Protocol):
    def advance(self, task_id: Any, advance: float = 1) -> None: ...


class _NoProgress:
    """Stands in for the bar when none is drawn, so Rich is not even imported."""

    def advance(self, task_id: Any, advance: float = 1) -> None:
        pass


@contextlib.contextmanager
def _progress(label: str, total: int, show: bool) -> Iterator[tuple[_Progress, Any]]:
    if not show:
        yield _NoProgress(), 0
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(
        TextColumn(f"[bold]{label}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
        # Rich would otherwise capture stdout while the bar is drawn and print it on the bar's
        # console (stderr): `safestream match ... > hits.jsonl` would write an empty file.
        redirect_stdout=False,
    )
    with bar:
        yield bar, bar.add_task(label, total=total)


def run_batch(
    func: Callable[[Path], T],
    files: list[Path],
    *,
    workers: int | None = None,
    label: str = "hashing",
    progress: bool | None = None,
    budget: FileBudget = DEFAULT_FILE_BUDGET,
) -> Iterator[Outcome[T]]:
    """Apply `func` to each file on a process pool, yielding outcomes in input order."""
    workers = workers or os.cpu_count() or 1
    show = sys.stderr.isatty() if progress is None else progress
    with _progress(label, len(files), show) as (bar, task):
        queue = list(files)
        workers = max(1, min(workers, len(queue)))
        while queue:
            done, broken = yield from _run_pool(func, queue, workers, budget, bar, task)
            queue = queue[done:]
            if broken:
                # A decoder that kills its worker (or is killed for overrunning its budget)
                # breaks the whole pool, and any file in flight may be the culprit: the oldest
                # is retried alone before it is blamed, and the rest goes on in a fresh pool.
                yield _call_isolated(func, queue[0], budget)
                bar.advance(task)
                queue = queue[1:]


def _call_isolated(func: Callable[[Path], T], path: Path, budget: FileBudget) -> Outcome[T]:
    receiver, sender = multiprocessing.Pipe(duplex=False)
    worker = multiprocessing.get_context("fork").Process(
        target=_isolated_worker, args=(sender, func, path, budget), daemon=True
    )
    worker.start()
    sender.close()
    try:
        wait([receiver, worker.sentinel])
        if receiver.poll():
            outcome: Outcome[T] = receiver.recv()
            return outcome
    except EOFError:
        pass
    finally:
        worker.join()
        receiver.close()
    return Outcome(path, error=_death_message(worker.exitcode, budget))


def _isolated_worker(
    sender: Connection, func: Callable[[Path], T], path: Path, budget: FileBudget
) -> None:
    enter_worker(budget)
    sender.send(_call(func, path))


def _death_message(exitcode: int | None, budget: FileBudget) -> str:
    if exitcode == -signal.SIGXCPU:
        return f"stopped: decoding took more than its budget of {budget.describe_cpu()}"
    if exitcode is not None and exitcode < 0:
        name = signal.Signals(-exitcode).name
        return f"the decoder crashed on this file (killed by {name})"
    return f"the decoder crashed on this file (exit status {exitcode})"


def _run_pool(
    func: Callable[[Path], T],
    files: list[Path],
    workers: int,
    budget: FileBudget,
    bar: _Progress,
    task: Any,
) -> Generator[Outcome[T], None, tuple[int, bool]]:
    done = 0
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=enter_worker, initargs=(budget,)
    ) as pool:
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

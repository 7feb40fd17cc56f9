"""`safestream hash [--exact] [--dihedral] PATH...`: one JSON line per image or sampled frame.

Directories are walked recursively (hidden files and folders skipped) in sorted order; files
are hashed by a process pool over all cores and printed in input order, so output is
deterministic. Errors go to stderr, one line naming the file; the batch always goes on.
Exit status: 0 when every input was read, 1 when some failed, 2 on usage errors.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from safestream.core.errors import SafeStreamError
from safestream.media.exact_hashes import file_digests
from safestream.media.hashing import HashMode, hash_image, hash_video, media_kind


@dataclass
class FileOutcome:
    """What hashing one file produced: JSON records, and an error message if it failed."""

    path: str
    records: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None


def hash_file(
    path: str, mode: HashMode, dihedral: bool, seconds_per_hash: float = 1.0
) -> FileOutcome:
    """Hash one file into JSON-ready records; never raises (errors are returned)."""
    outcome = FileOutcome(path)
    try:
        file = Path(path)
        if media_kind(file) == "image":
            outcome.records.append(_image_record(path, mode, dihedral))
        else:
            md5, sha256 = file_digests(file)
            frames = hash_video(
                file, mode=mode, dihedral=dihedral, seconds_per_hash=seconds_per_hash
            )
            for frame in frames:
                record = {"path": path, "kind": "video", **_drop_none(asdict(frame))}
                outcome.records.append({**record, "md5": md5, "sha256": sha256})
    except SafeStreamError as exc:
        outcome.error = str(exc)
    except Exception as exc:  # a bug must cost one file, not the batch
        outcome.error = f"internal error: {type(exc).__name__}: {exc}"
    return outcome


def _image_record(path: str, mode: HashMode, dihedral: bool) -> dict[str, Any]:
    result = hash_image(Path(path), mode=mode, dihedral=dihedral)
    return {"path": path, "kind": "image", **_drop_none(asdict(result))}


def _drop_none(values: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


def collect_inputs(paths: Iterable[Path]) -> Iterator[Path]:
    """Files named directly, then every non-hidden file under each named directory, sorted."""
    for path in paths:
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(files):
                    if not name.startswith("."):
                        yield Path(root) / name
        else:
            yield path


def _outcomes(
    files: list[Path], mode: HashMode, dihedral: bool, seconds_per_hash: float, jobs: int
) -> Iterator[FileOutcome]:
    names = [str(f) for f in files]
    job = functools.partial(
        hash_file, mode=mode, dihedral=dihedral, seconds_per_hash=seconds_per_hash
    )
    if jobs <= 1 or len(names) <= 1:
        yield from map(job, names)
        return
    yield from _pooled(job, names, jobs)


def _pooled(
    job: Callable[[str], FileOutcome], names: list[str], jobs: int
) -> Iterator[FileOutcome]:
    """Run `job` over `names` in worker processes, yielding outcomes in input order.

    A worker that dies (a decoder crash on hostile input) breaks the whole pool; the file whose
    result was lost is then retried alone, so the crash is pinned on the right file, reported as
    that file's error, and the rest of the batch continues in a fresh pool.
    """
    pending = names
    while pending:
        with ProcessPoolExecutor(max_workers=min(jobs, len(pending))) as pool:
            futures = [pool.submit(job, name) for name in pending]
            for index, (name, future) in enumerate(zip(pending, futures, strict=True)):
                try:
                    yield future.result()
                except BrokenProcessPool:
                    yield _alone(job, name)
                    pending = pending[index + 1 :]
                    break
            else:
                pending = []


def _alone(job: Callable[[str], FileOutcome], name: str) -> FileOutcome:
    with ProcessPoolExecutor(max_workers=1) as pool:
        try:
            return pool.submit(job, name).result()
        except BrokenProcessPool:
            return FileOutcome(name, error="the hashing process crashed on this file")


def hash_command(
    paths: list[Path] = typer.Argument(..., help="Image or video files, or folders to walk."),
    exact: bool = typer.Option(
        False, "--exact", help="Reference-identical hashes (pdqhash / vpdq) instead of fast."
    ),
    dihedral: bool = typer.Option(
        False, "--dihedral", help="Also print the 8 rotated/mirrored hashes."
    ),
    seconds_per_hash: float = typer.Option(
        1.0, "--seconds-per-hash", min=0.0, help="Video sampling period (0 = every frame)."
    ),
    jobs: int = typer.Option(0, "--jobs", "-j", help="Worker processes (0 = all cores)."),
) -> None:
    """Hash images and videos: one JSON line per image or per sampled video frame."""
    mode: HashMode = "exact" if exact else "fast"
    errors = Console(stderr=True, highlight=False, soft_wrap=True)
    files = list(collect_inputs(paths))
    workers = jobs if jobs > 0 else (os.cpu_count() or 1)
    failed = 0
    show_bar = errors.is_terminal and len(files) > 1
    with Progress(
        TextColumn("hashing"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=errors,
        disable=not show_bar,
        transient=True,
    ) as progress:
        task = progress.add_task("hash", total=len(files))
        for outcome in _outcomes(files, mode, dihedral, seconds_per_hash, workers):
            for record in outcome.records:
                sys.stdout.write(json.dumps(record, separators=(",", ":")) + "\n")
            sys.stdout.flush()
            if outcome.error is not None:
                failed += 1
                errors.print(f"error: {outcome.path}: {outcome.error}", markup=False)
            progress.advance(task)
    if failed:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add `safestream hash` to the root app."""
    app.command("hash")(hash_command)

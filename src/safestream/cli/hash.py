"""`safestream hash [--exact] [--dihedral] PATH...`: one JSON line per image or sampled frame.

Directories are walked recursively (hidden files skipped) in sorted order; files are hashed by
the shared batch runner over all cores and printed in input order, so output is
deterministic. Errors go to stderr, one line naming the file; the batch always goes on.
"""

from __future__ import annotations

import functools
import json
import sys
from pathlib import Path

import typer

from safestream.cli.exit_codes import EXIT_OK, EXIT_SOME_FAILED
from safestream.cli.output import error_line


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
    """Hash images and videos: one JSON line per image or per sampled video frame.

    \b
    Examples:
      safestream hash photo.jpg
      safestream hash uploads/ --jobs 4 > hashes.jsonl
      safestream hash clip.mp4 --seconds-per-hash 0.5 --exact
    """
    # Imported here so that other `safestream` commands start without numba and PyAV.
    from safestream.media.batch import iter_files, run_batch
    from safestream.media.hash_records import FileHashes, hash_file_records

    work = functools.partial(
        hash_file_records,
        mode="exact" if exact else "fast",
        dihedral=dihedral,
        seconds_per_hash=seconds_per_hash,
    )
    failed = 0
    for outcome in run_batch(work, list(iter_files(paths)), workers=jobs or None):
        hashed = outcome.value if isinstance(outcome.value, FileHashes) else FileHashes()
        for record in hashed.records:
            sys.stdout.write(json.dumps(record, separators=(",", ":")) + "\n")
        sys.stdout.flush()
        error = outcome.error or hashed.error
        if error is not None:
            failed += 1
            error_line(outcome.path, error)
    raise typer.Exit(EXIT_SOME_FAILED if failed else EXIT_OK)


def register(app: typer.Typer) -> None:
    """Add `safestream hash` to the root app."""
    app.command("hash")(hash_command)

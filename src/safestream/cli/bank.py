"""`safestream bank ...`: create, list, fill, import, export and prune hash banks."""

from __future__ import annotations

import sys
from dataclasses import asdict
from functools import partial
from pathlib import Path

import typer

from safestream.cli.common import (
    EXIT_OK,
    EXIT_SOME_FAILED,
    EXIT_USAGE,
    emit,
    error_line,
    fail,
    open_store,
)
from safestream.core.errors import SafeStreamError
from safestream.exchange.hashlists import FORMATS, ListFormat, read_hash_list, write_hash_list
from safestream.media.batch import iter_files, run_batch

bank_app = typer.Typer(help="Hash banks: named lists of known hashes.", no_args_is_help=True)


@bank_app.command("create")
def create(
    name: str,
    negative: bool = typer.Option(False, "--negative", help="An allowlist: its matches suppress."),
    threshold: int = typer.Option(31, help="Largest PDQ distance (bits) that counts as a match."),
    source: str = typer.Option("", help="Who supplies this list."),
) -> None:
    """Create a bank."""
    try:
        banks = open_store().banks
        bank = banks.create(name, negative=negative, threshold=threshold, source=source)
    except SafeStreamError as exc:
        raise typer.Exit(fail(exc)) from exc
    emit({"bank": bank.name, "negative": bank.negative, "threshold": bank.threshold})


@bank_app.command("list")
def list_banks() -> None:
    """List banks with their entry counts."""
    for bank in open_store().banks.list_banks():
        emit(
            {
                "bank": bank.name,
                "entries": bank.entry_count,
                "negative": bank.negative,
                "threshold": bank.threshold,
                "source": bank.source,
                "created_at": bank.created_at,
            }
        )


@bank_app.command("add")
def add(
    name: str,
    paths: list[Path] = typer.Argument(..., help="Images, videos or directories."),
    label: str = typer.Option("unclassified", help="A1, A2, B1, B2, unclassified or benign."),
    source: str = typer.Option("", help="Who supplied the media."),
    note: str = typer.Option("", help="Free text kept with each entry."),
    exact: bool = typer.Option(
        True, "--exact", hidden=True, help="Kept for old scripts: banks always hold exact hashes."
    ),
) -> None:
    """Hash media (reference hashes, as pytx/HMA/vpdq compute them) and add them to a bank.

    A hash the bank already holds keeps its entry and label; a different --label for it is
    reported in `label_conflicts` and on stderr.
    """
    try:
        store = open_store()
        store.banks.get(name)
        from safestream.core.banks import classify_label

        classify_label(label)
    except SafeStreamError as exc:
        raise typer.Exit(fail(exc)) from exc
    from safestream.media.file_hashes import entries_from_media, label_conflicts

    work = partial(entries_from_media, label=label, source=source, note=note)
    failed = 0
    for outcome in run_batch(work, list(iter_files(paths)), label="adding"):
        if outcome.value is None:
            failed += 1
            error_line(outcome.path, outcome.error or "failed")
            continue
        ids = store.banks.add_entries(name, outcome.value.entries)
        conflicts = label_conflicts(store.banks, name, outcome.value.entries, ids)
        for c in conflicts:
            error_line(
                outcome.path,
                f"entry {c.entry_id} ({c.signal_type} {c.value[:16]}...) is already labelled "
                f"{c.stored_label}; kept it, not {c.asked_label}",
            )
        emit(
            {
                "path": str(outcome.path),
                "kind": outcome.value.kind,
                "bank": name,
                "entry_ids": ids,
                "skipped_low_quality": outcome.value.skipped_low_quality,
                "label_conflicts": [asdict(c) for c in conflicts],
            }
        )
    raise typer.Exit(EXIT_SOME_FAILED if failed else EXIT_OK)


@bank_app.command("import")
def import_list(
    name: str,
    file: Path,
    fmt: str | None = typer.Option(None, "--format", help=f"One of {', '.join(FORMATS)}."),
    source: str = typer.Option("", help="Source recorded on entries that name none."),
) -> None:
    """Import a hash-list file into a bank; unreadable rows are reported by number."""
    if fmt is not None and fmt not in FORMATS:
        error_line(None, f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
        raise typer.Exit(EXIT_USAGE)
    try:
        store = open_store()
        store.banks.get(name)
        parsed = read_hash_list(file, fmt, source)  # type: ignore[arg-type]
        ids = store.banks.add_entries(name, parsed.entries)
    except SafeStreamError as exc:
        raise typer.Exit(fail(exc)) from exc
    except OSError as exc:
        error_line(file, f"cannot read: {exc.strerror or exc}")
        raise typer.Exit(EXIT_SOME_FAILED) from exc
    for err in parsed.errors:
        error_line(f"{file}:{err.row}", err.message)
    imported = len(set(ids))
    emit({"bank": name, "file": str(file), "imported": imported, "skipped": len(parsed.errors)})
    raise typer.Exit(EXIT_SOME_FAILED if parsed.errors else EXIT_OK)


@bank_app.command("export")
def export(
    name: str,
    fmt: str = typer.Option("csv", "--format", help=f"One of {', '.join(FORMATS)}."),
    out: Path | None = typer.Option(None, "--out", "-o", help="File to write (default stdout)."),
) -> None:
    """Export a bank as a hash-list file."""
    if fmt not in FORMATS:
        error_line(None, f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
        raise typer.Exit(EXIT_USAGE)
    try:
        store = open_store()
        bank = store.banks.get(name)
        entries = store.banks.iter_entries(name)
        list_format: ListFormat = fmt  # type: ignore[assignment]
        if out is None:
            write_hash_list(sys.stdout, bank, entries, list_format)
        else:
            with out.open("w", encoding="utf-8", newline="") as f:
                write_hash_list(f, bank, entries, list_format)
    except SafeStreamError as exc:
        raise typer.Exit(fail(exc)) from exc


@bank_app.command("remove")
def remove(name: str, entry_id: int) -> None:
    """Remove one entry from a bank."""
    try:
        entry = open_store().banks.remove_entry(name, entry_id)
    except SafeStreamError as exc:
        raise typer.Exit(fail(exc)) from exc
    emit({"bank": name, "removed": entry.id, "hash": entry.value})


@bank_app.command("delete")
def delete(name: str, yes: bool = typer.Option(False, "--yes", help="Confirm.")) -> None:
    """Delete a bank and every entry in it."""
    if not yes:
        error_line(None, "deleting a bank removes all its entries; pass --yes to confirm")
        raise typer.Exit(EXIT_USAGE)
    try:
        count = open_store().banks.delete(name)
    except SafeStreamError as exc:
        raise typer.Exit(fail(exc)) from exc
    emit({"bank": name, "deleted_entries": count})

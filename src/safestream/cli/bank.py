"""`safestream bank ...`: create, list, fill, import, export and prune hash banks."""

from __future__ import annotations

import sys
from dataclasses import asdict
from functools import partial
from pathlib import Path

import typer

from safestream.cli.context import open_store
from safestream.cli.exit_codes import EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE
from safestream.cli.output import emit, error_line
from safestream.core.errors import SafeStreamError

# Hash-list format names, repeated here so that `--help` need not import the exchange part.
LIST_FORMATS = ("csv", "hma", "pytx", "pytx-csv", "vpdq", "json")
EXPORT_FORMATS = ("csv", "hma", "pytx", "pytx-csv", "json")

bank_app = typer.Typer(
    help="Hash banks: named lists of known hashes.\n\n\b\nExamples:\n"
    "  safestream bank create known --threshold 31\n"
    "  safestream bank add known photos/ --label A1\n"
    "  safestream bank export known --format hma -o known.csv",
    no_args_is_help=True,
)


def _check_format(fmt: str, allowed: tuple[str, ...] = LIST_FORMATS) -> None:
    if fmt not in allowed:
        error_line(None, f"unknown format {fmt!r}; use one of {', '.join(allowed)}")
        raise typer.Exit(EXIT_USAGE)


@bank_app.command("create")
def create(
    name: str = typer.Argument(..., help="Name of the new bank."),
    negative: bool = typer.Option(False, "--negative", help="An allowlist: its matches suppress."),
    threshold: int = typer.Option(31, help="Largest PDQ distance (bits) that counts as a match."),
    source: str = typer.Option("", help="Who supplies this list."),
    kind: str = typer.Option(
        "media", help="media (known images) or room (photos of a place, matched by features)."
    ),
) -> None:
    """Create a bank.

    \b
    Examples:
      safestream bank create known --threshold 31 --source "hotline list"
      safestream bank create allowlist --negative
      safestream bank create case-1234-room --kind room
    """
    banks = open_store().banks
    bank = banks.create(name, negative=negative, threshold=threshold, source=source, kind=kind)
    emit({"bank": bank.name, "negative": bank.negative, "threshold": bank.threshold, "kind": kind})


@bank_app.command("list")
def list_banks() -> None:
    """List banks with their entry counts, one JSON line each.

    \b
    Example:
      safestream bank list
    """
    for bank in open_store().banks.list_banks():
        emit(
            {
                "bank": bank.name,
                "entries": bank.entry_count,
                "negative": bank.negative,
                "threshold": bank.threshold,
                "kind": bank.kind,
                "source": bank.source,
                "created_at": bank.created_at,
            }
        )


@bank_app.command("add")
def add(
    name: str = typer.Argument(..., help="The bank to add to."),
    paths: list[Path] = typer.Argument(..., help="Images, videos or directories."),
    label: str = typer.Option("unclassified", help="A1, A2, B1, B2, unclassified or benign."),
    source: str = typer.Option("", help="Who supplied the media."),
    note: str = typer.Option("", help="Free text kept with each entry."),
    exact: bool = typer.Option(
        True, "--exact", hidden=True, help="Kept for old scripts: banks always hold exact hashes."
    ),
    local: bool = typer.Option(
        False, "--local", help="Images: also keep local features (found when cropped or framed)."
    ),
) -> None:
    """Hash media (reference hashes, as pytx/HMA/vpdq compute them) and add them to a bank.

    A hash the bank already holds keeps its entry and label; a different --label for it is
    reported in `label_conflicts` and on stderr. With --local (always for a room bank) an
    image also keeps its local features (keypoints, never pixels) for the second stage.

    \b
    Examples:
      safestream bank add known photos/ clip.mp4 --label A1 --source "case 1234"
      safestream bank add allowlist logos/ --label benign
    """
    from safestream.cli.retro import entries_of, retro_matcher
    from safestream.core.banks import classify_label
    from safestream.media.batch import iter_files, run_batch
    from safestream.media.file_hashes import entries_from_media, label_conflicts, local_record

    store = open_store()
    if store.banks.get(name).kind == "room":
        local = True  # a room is recognised by its features; PDQ alone never finds it
    classify_label(label)
    matcher = retro_matcher(store.db)
    work = partial(entries_from_media, label=label, source=source, note=note)
    failed = 0
    for outcome in run_batch(work, list(iter_files(paths)), label="adding"):
        if outcome.value is None:
            failed += 1
            error_line(outcome.path, outcome.error or "failed")
            continue
        ids = store.banks.add_entries(name, outcome.value.entries)
        retro = matcher.match(entries_of(store.db, ids)) if matcher and ids else []
        conflicts = label_conflicts(store.banks, name, outcome.value.entries, ids)
        if local and outcome.value.kind == "image":
            try:
                record = local_record(outcome.path, label=label, source=source, note=note)
                ids = ids + store.banks.add_local_features(name, [record])
            except SafeStreamError as exc:
                failed += 1
                error_line(outcome.path, f"no local features kept: {exc}")
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
                "retro_matches": len(retro),
            }
        )
    raise typer.Exit(EXIT_SOME_FAILED if failed else EXIT_OK)


@bank_app.command("import")
def import_list(
    name: str = typer.Argument(..., help="The bank to fill."),
    file: Path = typer.Argument(..., help="The hash-list file."),
    fmt: str | None = typer.Option(
        None, "--format", help=f"One of {', '.join(LIST_FORMATS)} (default: guessed)."
    ),
    source: str = typer.Option("", help="Source recorded on entries that name none."),
    negative_bank: str | None = typer.Option(
        None,
        "--negative-bank",
        help="Negative bank for pytx NEGATIVE_CLASS/DISPUTED rows (else they are skipped).",
    ),
) -> None:
    """Import a hash-list file into a bank; unreadable rows are reported by number.

    A false-positive verdict (pytx NEGATIVE_CLASS) never becomes an entry of NAME: it goes to
    --negative-bank, or is skipped with a note on stderr.

    \b
    Examples:
      safestream bank import known list.csv
      safestream bank import known dataset.csv --format pytx-csv --negative-bank allowlist
      safestream bank import known clip-features.txt --format vpdq
    """
    from safestream.cli.retro import entries_of, retro_matcher
    from safestream.exchange.hashlists import read_hash_list

    if fmt is not None:
        _check_format(fmt)
    store = open_store()
    store.banks.get(name)
    if negative_bank is not None and not store.banks.get(negative_bank).negative:
        error_line(None, f"bank {negative_bank!r} is not a negative bank")
        raise typer.Exit(EXIT_USAGE)
    try:
        parsed = read_hash_list(file, fmt, source)  # type: ignore[arg-type]
    except OSError as exc:
        error_line(file, f"cannot read: {exc.strerror or exc}")
        raise typer.Exit(EXIT_SOME_FAILED) from exc
    ids = store.banks.add_entries(name, parsed.entries)
    matcher = retro_matcher(store.db)
    retro = matcher.match(entries_of(store.db, ids)) if matcher and ids else []
    kept_negatives = negative_bank is not None and bool(parsed.negatives)
    if negative_bank is not None and parsed.negatives:
        store.banks.add_entries(negative_bank, parsed.negatives)
    for err in parsed.errors:
        error_line(f"{file}:{err.row}", err.message)
    if parsed.negatives and negative_bank is None:
        sys.stderr.write(
            f"note: {file}: skipped {len(parsed.negatives)} negative (false-positive) "
            "verdicts; pass --negative-bank NAME to keep them as an allowlist\n"
        )
    emit(
        {
            "bank": name,
            "file": str(file),
            "imported": len(set(ids)),
            "skipped": len(parsed.errors),
            "negatives": len(parsed.negatives),
            "negatives_imported_to": negative_bank if kept_negatives else None,
            "retro_matches": len(retro),
        }
    )
    raise typer.Exit(EXIT_SOME_FAILED if parsed.errors else EXIT_OK)


@bank_app.command("export")
def export(
    name: str = typer.Argument(..., help="The bank to export."),
    fmt: str = typer.Option("csv", "--format", help=f"One of {', '.join(EXPORT_FORMATS)}."),
    out: Path | None = typer.Option(None, "--out", "-o", help="File to write (default stdout)."),
) -> None:
    """Export a bank as a hash-list file (pytx: `pdq HASH` lines; hma: HMA 1.0 CSV).

    \b
    Examples:
      safestream bank export known > known.csv
      safestream bank export known --format hma -o known-hma.csv
      safestream bank export known --format pytx -o known.txt
    """
    from safestream.exchange.hashlists import ListFormat, write_hash_list

    _check_format(fmt, EXPORT_FORMATS)
    store = open_store()
    bank = store.banks.get(name)
    from safestream.store.banks import LOCAL_SIGNAL

    # Local-feature records are not hashes a partner's list could hold.
    entries = (e for e in store.banks.iter_entries(name) if e.signal_type != LOCAL_SIGNAL)
    list_format: ListFormat = fmt  # type: ignore[assignment]
    if out is None:
        write_hash_list(sys.stdout, bank, entries, list_format)
    else:
        with out.open("w", encoding="utf-8", newline="") as f:
            write_hash_list(f, bank, entries, list_format)


@bank_app.command("remove")
def remove(
    name: str = typer.Argument(..., help="The bank holding the entry."),
    entry_id: int = typer.Argument(..., help="The entry's id (from `bank add` or `match`)."),
) -> None:
    """Remove one entry from a bank.

    \b
    Example:
      safestream bank remove known 1234
    """
    entry = open_store().banks.remove_entry(name, entry_id)
    emit({"bank": name, "removed": entry.id, "hash": entry.value})


@bank_app.command("delete")
def delete(
    name: str = typer.Argument(..., help="The bank to delete."),
    yes: bool = typer.Option(False, "--yes", help="Confirm."),
) -> None:
    """Delete a bank and every entry in it.

    \b
    Example:
      safestream bank delete old-list --yes
    """
    if not yes:
        error_line(None, "deleting a bank removes all its entries; pass --yes to confirm")
        raise typer.Exit(EXIT_USAGE)
    count = open_store().banks.delete(name)
    emit({"bank": name, "deleted_entries": count})


def register(app: typer.Typer) -> None:
    """Add `safestream bank` to the root app."""
    app.add_typer(bank_app, name="bank")

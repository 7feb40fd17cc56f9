"""Hash-list files: read and write the formats hotlines and hash-sharing tools exchange.

Formats, chosen by `--format` or detected from the file's extension and first line:

- `csv`: SafeStream's own, one entry per row with every field
  (`signal_type,hash,label,source,added_at,note,quality,content_id,t,entry_id`);
- `json`: `{"format": "safestream.bank", "version": 1, "bank": {...}, "entries": [...]}`;
- `pytx`: python-threatexchange's local_file lists, one `pdq HASH` per line (what pytx reads);
- `pytx-csv`: pytx's `dataset --csv` (`signal_type,signal_str,collab,category,tags`);
- `hma`: HMA 1.0's headerless `hash,indicator_id,descriptor_id,timestamp,tags` (the older
  two-column `hash,tags` is still read); tags `A1`..`B2` set the label, `source:NAME` the source,
  other tags are kept in the note;
- `vpdq` (import only): a vPDQ feature file, `frame,quality,hash,timestamp` per line.

Rows that cannot be read are returned as `RowError`s with their row number; good rows still load.
pytx rows whose opinion is `NEGATIVE_CLASS` (or `DISPUTED`) are returned apart, in `negatives`:
a false-positive verdict must never become a positive entry (see `safestream.exchange.peer_lists`).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, TextIO

from safestream.core.banks import Bank, BankEntry, classify_label
from safestream.core.errors import InvalidInput, SafeStreamError
from safestream.core.signals import SignalType, normalize_hash
from safestream.exchange.peer_lists import (
    RowResult,
    hma_rows,
    looks_like_vpdq,
    pytx_csv,
    pytx_lines,
    vpdq_features,
    write_hma1,
    write_pytx_csv,
    write_pytx_lines,
)
from safestream.store.banks import NewEntry

ListFormat = Literal["csv", "hma", "pytx", "pytx-csv", "vpdq", "json"]
FORMATS: tuple[ListFormat, ...] = ("csv", "hma", "pytx", "pytx-csv", "vpdq", "json")
EXPORT_FORMATS: tuple[ListFormat, ...] = ("csv", "hma", "pytx", "pytx-csv", "json")
JSON_FORMAT_NAME = "safestream.bank"
JSON_FORMAT_VERSION = 1
SAFESTREAM_COLUMNS = [
    "signal_type",
    "hash",
    "label",
    "source",
    "added_at",
    "note",
    "quality",
    "content_id",
    "t",
    "entry_id",
]


@dataclass(frozen=True)
class RowError:
    """A row of a hash-list file that was skipped, and why."""

    row: int
    message: str


@dataclass
class ParsedList:
    """Entries read from a hash-list file, the rows that were skipped, and negative verdicts."""

    entries: list[NewEntry]
    errors: list[RowError]
    negatives: list[NewEntry] = field(default_factory=list)


def detect_format(path: Path) -> ListFormat:
    """Guess a hash-list format from the extension and the first line."""
    if path.suffix.lower() == ".json":
        return "json"
    with path.open(encoding="utf-8-sig", errors="replace") as f:
        first = next((line for line in f if line.strip() and not line.startswith("#")), "")
    if looks_like_vpdq(first):
        return "vpdq"
    if path.suffix.lower() == ".txt" or ("," not in first and first.strip()):
        return "pytx"
    header = [c.strip().lower() for c in first.split(",")]
    if header[:2] == ["hash", "tags"] or header == ["hash"]:
        return "hma"
    if "signal_str" in header:
        return "pytx-csv"
    if "signal_type" in header and "hash" in header:
        return "csv"
    if header and len(header[0]) in (32, 64):
        return "hma"  # headerless HMA 1.0 rows, or hash,tags
    raise InvalidInput(f"{path}: cannot tell the hash-list format; pass --format")


def read_hash_list(path: Path, fmt: ListFormat | None = None, source: str = "") -> ParsedList:
    """Read a hash-list file into entries to add, skipping (and reporting) unreadable rows."""
    fmt = fmt or detect_format(path)
    try:
        if fmt == "json":
            return _read_json(path, source)
        if fmt == "vpdq":
            content_id = hashlib.sha256(path.read_bytes()).hexdigest()
            with path.open(encoding="utf-8-sig") as f:
                return _collect(vpdq_features(f, content_id), source)
        with path.open(encoding="utf-8-sig", newline="") as f:
            readers = {
                "csv": _safestream_rows,
                "hma": hma_rows,
                "pytx": pytx_lines,
                "pytx-csv": pytx_csv,
            }
            if fmt not in readers:
                raise InvalidInput(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
            return _collect(readers[fmt](f), source)
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{path}: not UTF-8 text ({exc.reason})") from exc


def write_hash_list(
    out: TextIO, bank: Bank, entries: Iterable[BankEntry], fmt: ListFormat = "csv"
) -> int:
    """Write a bank's entries in a format; return how many were written."""
    if fmt == "json":
        rows = [_entry_json(e) for e in entries]
        doc = {
            "format": JSON_FORMAT_NAME,
            "version": JSON_FORMAT_VERSION,
            "bank": {
                "name": bank.name,
                "negative": bank.negative,
                "threshold": bank.threshold,
                "source": bank.source,
            },
            "entries": rows,
        }
        json.dump(doc, out, indent=1)
        out.write("\n")
        return len(rows)
    if fmt == "pytx":
        return write_pytx_lines(out, entries)
    if fmt == "pytx-csv":
        return write_pytx_csv(out, bank.name, entries)
    if fmt == "hma":
        return write_hma1(out, entries)
    if fmt != "csv":
        raise InvalidInput(f"cannot export {fmt!r}; use one of {', '.join(EXPORT_FORMATS)}")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(SAFESTREAM_COLUMNS)
    count = 0
    for e in entries:
        j = _entry_json(e)
        writer.writerow(["" if j[c] is None else j[c] for c in SAFESTREAM_COLUMNS])
        count += 1
    return count


# --- readers -----------------------------------------------------------------------------------


def _collect(rows: Iterator[RowResult], source: str) -> ParsedList:
    parsed = ParsedList([], [])
    for number, item in rows:
        if isinstance(item, str):
            parsed.errors.append(RowError(number, item))
            continue
        try:
            entry = _to_entry(item, source)
        except SafeStreamError as exc:
            parsed.errors.append(RowError(number, str(exc)))
            continue
        if item.get("negative"):
            parsed.negatives.append(entry)
        else:
            parsed.entries.append(entry)
    return parsed


def _to_entry(fields: dict[str, Any], source: str) -> NewEntry:
    try:
        kind = SignalType(str(fields.get("signal_type") or "pdq").strip().lower())
    except ValueError as exc:
        raise InvalidInput(f"unknown signal type {fields.get('signal_type')!r}") from exc
    value = normalize_hash(kind, str(fields.get("hash") or ""))
    label = classify_label(str(fields.get("label") or "")).value
    added = fields.get("added_at")
    quality = fields.get("quality")
    t = fields.get("t")
    try:
        return NewEntry(
            signal_type=kind.value,
            value=value,
            label=label,
            source=str(fields.get("source") or source),
            note=str(fields.get("note") or ""),
            quality=int(quality) if quality not in (None, "") else None,
            content_id=str(fields["content_id"]) if fields.get("content_id") else None,
            t=float(t) if t not in (None, "") else None,
            added_at=datetime.fromisoformat(str(added)) if added else None,
        )
    except ValueError as exc:
        raise InvalidInput(f"bad field value: {exc}") from exc


def _safestream_rows(f: TextIO) -> Iterator[RowResult]:
    reader = csv.DictReader(f)
    for number, row in enumerate(reader, start=2):
        if None in row:
            yield number, "more fields than the header"
            continue
        yield number, dict(row)


def _read_json(path: Path, source: str) -> ParsedList:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"{path}: not JSON (line {exc.lineno}: {exc.msg})") from exc
    if isinstance(doc, dict):
        if doc.get("format") not in (None, JSON_FORMAT_NAME):
            raise InvalidInput(f"{path}: format {doc.get('format')!r} is not {JSON_FORMAT_NAME}")
        if int(doc.get("version", 1)) > JSON_FORMAT_VERSION:
            raise InvalidInput(f"{path}: version {doc['version']} is newer than this SafeStream")
        items = doc.get("entries", [])
    else:
        items = doc
    if not isinstance(items, list):
        raise InvalidInput(f"{path}: expected a list of entries")

    def rows() -> Iterator[RowResult]:
        for number, item in enumerate(items, start=1):
            if not isinstance(item, dict):
                yield number, "entry is not an object"
            else:
                yield number, {**item, "hash": item.get("hash") or item.get("value")}

    return _collect(rows(), source)


# --- writers -----------------------------------------------------------------------------------


def _entry_json(e: BankEntry) -> dict[str, Any]:
    return {
        "signal_type": e.signal_type,
        "hash": e.value,
        "label": e.label.value,
        "source": e.source,
        "added_at": e.added_at.isoformat() if e.added_at else None,
        "note": e.note,
        "quality": e.quality,
        "content_id": e.content_id,
        "t": e.t,
        "entry_id": e.id,
    }


def dumps(bank: Bank, entries: Iterable[BankEntry], fmt: ListFormat = "csv") -> str:
    """A bank's entries as text in a format (for small banks and tests)."""
    buf = io.StringIO()
    write_hash_list(buf, bank, entries, fmt)
    return buf.getvalue()

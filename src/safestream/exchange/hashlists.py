"""Hash-list files: read and write the formats hotlines and hash-sharing tools exchange.

Formats, chosen by `--format` or detected from the file's extension and first line:

- `csv`: SafeStream's own, one entry per row with every field
  (`signal_type,hash,label,source,added_at,note,quality,content_id,t,entry_id`);
- `hma`: the two-column `hash,tags` CSV that HMA and ThreatExchange tooling read; tags are
  space-separated, a tag `A1`..`B2` sets the label, `source:NAME` the source, `md5`/`sha256` the
  signal type (PDQ otherwise);
- `pytx`: python-threatexchange's dataset CSV (`signal_type,signal_str,collab,category,tags`), or
  its local-file lists (`.txt`, one `pdq HASH` or bare hash per line);
- `json`: `{"format": "safestream.bank", "version": 1, "bank": {...}, "entries": [...]}`.

Rows that cannot be read are returned as `RowError`s with their row number; good rows still load.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, TextIO

from safestream.core.banks import Bank, BankEntry, classify_label
from safestream.core.errors import InvalidInput, SafeStreamError
from safestream.core.signals import SignalType, normalize_hash
from safestream.store.banks import NewEntry

ListFormat = Literal["csv", "hma", "pytx", "json"]
FORMATS: tuple[ListFormat, ...] = ("csv", "hma", "pytx", "json")
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
_GRADES = {"a1", "a2", "b1", "b2"}


@dataclass(frozen=True)
class RowError:
    """A row of a hash-list file that was skipped, and why."""

    row: int
    message: str


@dataclass
class ParsedList:
    """Entries read from a hash-list file, plus the rows that were skipped."""

    entries: list[NewEntry]
    errors: list[RowError]


def detect_format(path: Path) -> ListFormat:
    """Guess a hash-list format from the extension and the header line."""
    if path.suffix.lower() == ".json":
        return "json"
    if path.suffix.lower() == ".txt":
        return "pytx"
    with path.open(encoding="utf-8-sig", errors="replace") as f:
        header = [c.strip().lower() for c in f.readline().split(",")]
    if header[:2] == ["hash", "tags"] or header == ["hash"]:
        return "hma"
    if "signal_str" in header:
        return "pytx"
    if "signal_type" in header and "hash" in header:
        return "csv"
    if header and len(header[0]) in (32, 64):
        return "hma"  # headerless hash,tags
    raise InvalidInput(f"{path}: cannot tell the hash-list format; pass --format")


def read_hash_list(path: Path, fmt: ListFormat | None = None, source: str = "") -> ParsedList:
    """Read a hash-list file into entries to add, skipping (and reporting) unreadable rows."""
    fmt = fmt or detect_format(path)
    try:
        if fmt == "json":
            return _read_json(path, source)
        with path.open(encoding="utf-8-sig", newline="") as f:
            if fmt == "pytx" and path.suffix.lower() == ".txt":
                return _collect(_pytx_lines(f), source)
            reader = {"csv": _safestream_rows, "hma": _hma_rows, "pytx": _pytx_rows}[fmt]
            return _collect(reader(f), source)
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
    writer = csv.writer(out, lineterminator="\n")
    count = 0
    if fmt == "csv":
        writer.writerow(SAFESTREAM_COLUMNS)
        for e in entries:
            j = _entry_json(e)
            writer.writerow(["" if j[c] is None else j[c] for c in SAFESTREAM_COLUMNS])
            count += 1
    elif fmt == "hma":
        writer.writerow(["hash", "tags"])
        for e in entries:
            writer.writerow([e.value, " ".join(_tags_of(e))])
            count += 1
    elif fmt == "pytx":
        writer.writerow(["signal_type", "signal_str", "collab", "category", "tags"])
        for e in entries:
            tags = " ".join(_tags_of(e))
            writer.writerow([e.signal_type, e.value, bank.name, e.label.value, tags])
            count += 1
    else:
        raise InvalidInput(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    return count


# --- readers -----------------------------------------------------------------------------------

RowResult = tuple[int, dict[str, Any] | str]  # (row number, fields) or (row number, error)


def _collect(rows: Iterator[RowResult], source: str) -> ParsedList:
    parsed = ParsedList([], [])
    for number, item in rows:
        if isinstance(item, str):
            parsed.errors.append(RowError(number, item))
            continue
        try:
            parsed.entries.append(_to_entry(item, source))
        except SafeStreamError as exc:
            parsed.errors.append(RowError(number, str(exc)))
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


def _hma_rows(f: TextIO) -> Iterator[RowResult]:
    for number, row in enumerate(csv.reader(f), start=1):
        if not row or not "".join(row).strip():
            continue
        if number == 1 and row[0].strip().lower() == "hash":
            continue
        tags = row[1].split() if len(row) > 1 else []
        yield number, {"hash": row[0], **_fields_from_tags(tags)}


def _pytx_rows(f: TextIO) -> Iterator[RowResult]:
    reader = csv.DictReader(f)
    for number, row in enumerate(reader, start=2):
        tags = (row.get("tags") or "").split()
        fields = _fields_from_tags(tags)
        category = (row.get("category") or "").strip()
        if category.lower() in _GRADES:
            fields["label"] = category
        fields["signal_type"] = (row.get("signal_type") or "pdq").strip()
        fields["hash"] = row.get("signal_str") or ""
        if row.get("collab"):
            fields.setdefault("source", row["collab"])
        yield number, fields


def _pytx_lines(f: TextIO) -> Iterator[RowResult]:
    for number, line in enumerate(f, start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        kind, _, value = text.partition(" ")
        yield number, ({"signal_type": kind, "hash": value} if value else {"hash": kind})


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


def _fields_from_tags(tags: list[str]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for tag in tags:
        low = tag.lower()
        if low in _GRADES:
            fields["label"] = tag
        elif low in ("md5", "sha256", "pdq"):
            fields["signal_type"] = low
        elif low.startswith("source:"):
            fields["source"] = tag.split(":", 1)[1]
    return fields


def _tags_of(e: BankEntry) -> list[str]:
    tags = [e.label.value] if e.label.value.lower() in _GRADES else []
    if e.signal_type != SignalType.PDQ.value:
        tags.append(e.signal_type)
    if e.source:
        tags.append(f"source:{e.source.replace(' ', '_')}")
    return tags


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

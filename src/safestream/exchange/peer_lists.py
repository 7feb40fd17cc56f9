"""The list layouts of python-threatexchange (pytx), HMA 1.0 and vPDQ, read and written.

- pytx `local_file` collaboration: one `SIGNAL_TYPE VALUE` per line (`pdq 0f3c...`,
  `video_md5 ...`); a bare hash is taken as PDQ (64 digits) or MD5 (32). A `vpdq` line holds
  pytx's JSON list of `hash,quality,timestamp` features and becomes one entry per distinct frame.
- pytx `dataset --csv`: `signal_type,signal_str,collab,category,tags`. The category is pytx's
  aggregate opinion: `NEGATIVE_CLASS` (a false-positive verdict) and `DISPUTED` rows are not
  positive entries; they are returned apart, for a negative bank or to be skipped with a note.
- HMA 1.0: headerless `hash,indicator_id,descriptor_id,timestamp,tags`, tags space-separated.
  SafeStream's older two-column `hash,tags` is still read.
- vPDQ feature files (what `vpdq`'s tools write): `frame_number,quality,pdq_hex,timestamp`.

pytx names signal types its own way (`video_md5`, `video_sha256`); both directions map them.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any, TextIO

from safestream.core.banks import BankEntry
from safestream.core.signals import PDQ_MIN_QUALITY, SignalType

RowResult = tuple[int, dict[str, Any] | str]  # (row number, fields) or (row number, error)

# pytx SignalType names <-> SafeStream's.
PYTX_NAMES = {SignalType.PDQ: "pdq", SignalType.MD5: "video_md5", SignalType.SHA256: "video_sha256"}
_FROM_PYTX = {
    "pdq": "pdq",
    "video_md5": "md5",
    "photo_md5": "md5",
    "md5": "md5",
    "video_sha256": "sha256",
    "sha256": "sha256",
}
NEGATIVE_CATEGORIES = frozenset({"NEGATIVE_CLASS", "DISPUTED"})
GRADES = frozenset({"a1", "a2", "b1", "b2"})
_VPDQ_LINE = re.compile(r"^\s*\d+\s*,\s*\d+\s*,\s*[0-9a-fA-F]{64}\s*,\s*[0-9.eE+-]+\s*$")
_HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")


def looks_like_vpdq(first_line: str) -> bool:
    """Whether a line is a vPDQ feature line `frame,quality,hash,timestamp`."""
    return bool(_VPDQ_LINE.match(first_line))


def pytx_type(signal_type: str) -> str:
    """The SafeStream signal type for a pytx type name (unknown names pass through)."""
    return _FROM_PYTX.get(signal_type.strip().lower(), signal_type.strip().lower())


# --- readers ------------------------------------------------------------------------------------


def pytx_lines(f: TextIO) -> Iterator[RowResult]:
    """Rows of a pytx local_file list."""
    for number, line in enumerate(f, start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        kind, _, value = text.partition(" ")
        value = value.strip()
        if not value:
            yield number, {"hash": kind, "signal_type": "md5" if len(kind) == 32 else "pdq"}
        elif kind.lower() == "vpdq":
            yield from _vpdq_json(number, value)
        else:
            yield number, {"signal_type": pytx_type(kind), "hash": value}


def _vpdq_json(number: int, value: str) -> Iterator[RowResult]:
    try:
        features = json.loads(value)
        if not isinstance(features, list):
            raise ValueError("not a list")
        parsed = []
        for item in features:
            pdq, quality, t = str(item).split(",")
            parsed.append((pdq, int(quality), float(t)))
    except ValueError as exc:
        yield number, f"not a pytx vpdq signal ({exc})"
        return
    content = hashlib.sha256(value.encode()).hexdigest()
    yield from _frames(number, content, parsed)


def _frames(
    number: int, content_id: str, frames: Iterable[tuple[str, int, float]]
) -> Iterator[RowResult]:
    seen: set[str] = set()
    for pdq, quality, t in frames:
        if quality < PDQ_MIN_QUALITY or pdq.lower() in seen:
            continue  # vPDQ matching ignores such frames; one entry per distinct hash
        seen.add(pdq.lower())
        yield (
            number,
            {
                "signal_type": "pdq",
                "hash": pdq,
                "quality": quality,
                "t": t,
                "content_id": content_id,
            },
        )


def vpdq_features(f: TextIO, content_id: str) -> Iterator[RowResult]:
    """Rows of a vPDQ feature file: one PDQ entry per distinct frame hash of quality >= 50."""
    good: list[tuple[str, int, float]] = []
    for number, line in enumerate(f, start=1):
        if not line.strip():
            continue
        if not looks_like_vpdq(line):
            yield number, "not a vPDQ feature line (frame,quality,hash,timestamp)"
            continue
        _, quality, pdq, t = (part.strip() for part in line.split(","))
        good.append((pdq, int(quality), float(t)))
    yield from _frames(0, content_id, good)


def pytx_csv(f: TextIO) -> Iterator[RowResult]:
    """Rows of pytx's `dataset --csv`; negative opinions are marked `negative`."""
    reader = csv.DictReader(f)
    for number, row in enumerate(reader, start=2):
        tags = (row.get("tags") or "").split()
        fields = fields_from_tags(tags)
        category = (row.get("category") or "").strip()
        if category.lower() in GRADES:
            fields["label"] = category
        elif category.upper() in NEGATIVE_CATEGORIES:
            fields["negative"] = category.upper()
            fields["label"] = "benign"
            fields["note"] = _join(fields.get("note"), f"pytx {category.upper()}")
        elif category:
            fields["note"] = _join(fields.get("note"), f"pytx {category}")
        fields["signal_type"] = pytx_type(row.get("signal_type") or "pdq")
        fields["hash"] = row.get("signal_str") or ""
        if row.get("collab"):
            fields.setdefault("source", row["collab"])
        yield number, fields


def hma_rows(f: TextIO) -> Iterator[RowResult]:
    """Rows of HMA 1.0's five-column CSV, or of the older two-column `hash,tags`."""
    for number, row in enumerate(csv.reader(f), start=1):
        if not row or not "".join(row).strip():
            continue
        if number == 1 and row[0].strip().lower() == "hash":
            continue
        if len(row) >= 5:
            hash_, indicator, descriptor, timestamp, tags = (c.strip() for c in row[:5])
            fields = fields_from_tags(tags.split())
            refs = " ".join(
                f"{k}:{v}" for k, v in (("indicator", indicator), ("descriptor", descriptor)) if v
            )
            fields["note"] = _join(fields.get("note"), refs)
            if timestamp:
                fields["added_at"] = _timestamp(timestamp)
        else:
            hash_ = row[0]
            fields = fields_from_tags(row[1].split() if len(row) > 1 else [])
        kind = "md5" if len(hash_.strip()) == 32 else fields.get("signal_type", "pdq")
        yield number, {**fields, "hash": hash_, "signal_type": kind}


def _timestamp(text: str) -> str | None:
    value = text.strip()
    if value.isdigit():
        return datetime.fromtimestamp(int(value)).astimezone().isoformat()
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).isoformat()
    except ValueError:
        return None  # kept in no field: an unreadable time must not cost the hash


def fields_from_tags(tags: list[str]) -> dict[str, Any]:
    """Label, source and signal type from tags; every other tag is kept in the note."""
    fields: dict[str, Any] = {}
    rest: list[str] = []
    for tag in tags:
        low = tag.lower()
        if low in GRADES:
            fields["label"] = tag
        elif low in ("md5", "sha256", "pdq"):
            fields["signal_type"] = low
        elif low.startswith("source:"):
            fields["source"] = tag.split(":", 1)[1]
        else:
            rest.append(tag)
    if rest:
        fields["note"] = "tags: " + " ".join(rest)
    return fields


def _join(first: object, second: str) -> str:
    return "; ".join(part for part in (str(first or ""), second) if part)


# --- writers ------------------------------------------------------------------------------------


def tags_of(e: BankEntry) -> list[str]:
    """Tags that carry an entry's label, type and source in tag-only formats."""
    tags = [e.label.value] if e.label.value.lower() in GRADES else []
    if e.signal_type != SignalType.PDQ.value:
        tags.append(e.signal_type)
    if e.source:
        tags.append(f"source:{e.source.replace(' ', '_')}")
    return tags


def write_pytx_lines(out: TextIO, entries: Iterable[BankEntry]) -> int:
    """`pdq HASH` lines, as pytx's local_file collaboration reads them."""
    count = 0
    for e in entries:
        out.write(f"{PYTX_NAMES[SignalType(e.signal_type)]} {e.value}\n")
        count += 1
    return count


def write_pytx_csv(out: TextIO, collab: str, entries: Iterable[BankEntry]) -> int:
    """pytx `dataset --csv` rows; SafeStream entries are positive opinions."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["signal_type", "signal_str", "collab", "category", "tags"])
    count = 0
    for e in entries:
        name = PYTX_NAMES[SignalType(e.signal_type)]
        writer.writerow([name, e.value, collab, "POSITIVE_CLASS", " ".join(tags_of(e))])
        count += 1
    return count


def write_hma1(out: TextIO, entries: Iterable[BankEntry]) -> int:
    """HMA 1.0 rows `hash,indicator_id,descriptor_id,timestamp,tags` (PDQ entries only)."""
    writer = csv.writer(out, lineterminator="\n")
    count = 0
    for e in entries:
        if e.signal_type != SignalType.PDQ.value:
            continue  # HMA 1.0 read PDQ lists only
        stamp = e.added_at.isoformat() if e.added_at else ""
        writer.writerow([e.value, e.id, e.id, stamp, " ".join(tags_of(e))])
        count += 1
    return count


def is_pdq_hex(text: str) -> bool:
    """Whether a string is 64 hex digits."""
    return bool(_HEX64.match(text.strip()))

"""Project VIC VICS JSON media records, read and written.

A VICS hash set is an OData-style JSON object whose `value` lists media records (`MediaID`,
`Category`, `MD5`, `SHA1`, `PhotoDNA`, `Tags`, `Comments`, `DateUpdated`, `IsPrecategorized`...;
field names as forensic tools read them). VICS carries MD5 natively; SafeStream's PDQ and
SHA-256 travel in the extension properties `SafeStreamPDQ` and `SafeStreamSHA256`, which tools
that do not know them ignore. The integer `Category` is derived from the internal label (Project
VIC US scale); the exact label rides in `Tags` as `safestream-label:<label>` so a SafeStream
reader restores it, and a reader without it falls back to what the category says.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from safestream.core.classification import derive, grade_from_vic, parse_grade
from safestream.core.errors import ExchangeError, InvalidInput
from safestream.core.shared_signals import SharedSignal, SignalKind, canonical_value

CONTEXT = "http://github.com/ICMEC/ProjectVic/DataModels/2.0.xml/US/$metadata#Media"
FIELDS = {
    SignalKind.MD5: "MD5",
    SignalKind.PDQ: "SafeStreamPDQ",
    SignalKind.SHA256: "SafeStreamSHA256",
}
LABEL_TAG = "safestream-label:"


@dataclass
class VicsMedia:
    """Signals read from a VICS document, and what could not be carried."""

    signals: list[SharedSignal] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)


def write_vics(signals: Iterable[SharedSignal]) -> tuple[bytes, dict[str, int]]:
    """A VICS hash set of the live hash signals (withdrawn ones are left out, as are
    accounts, URLs and keywords, which VICS has no field for); also what was skipped."""
    records: list[dict[str, object]] = []
    skipped: dict[str, int] = {}
    for s in signals:
        if s.kind not in FIELDS or s.deleted:
            key = "withdrawn" if s.deleted else s.kind.value
            skipped[key] = skipped.get(key, 0) + 1
            continue
        tags = [*s.tags, LABEL_TAG + s.label]
        record: dict[str, object] = {
            "MediaID": len(records) + 1,
            "Category": derive(s.label).vic_us,
            "MD5": None, "SHA1": None, "PhotoDNA": None,
            "IsPrecategorized": True,
            "PrecategorizationSource": "SafeStream",
            "Tags": ";".join(tags),
            "Comments": s.source,
            "DateUpdated": (s.added_at or datetime.now(UTC)).astimezone(UTC).isoformat(),
        }  # fmt: skip
        record[FIELDS[s.kind]] = s.value
        records.append(record)
    document = {"@odata.context": CONTEXT, "value": records}
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode(), skipped


def _label(record: dict[str, object], tags: list[str]) -> str:
    for tag in tags:
        if tag.startswith(LABEL_TAG):
            try:
                return parse_grade(tag.removeprefix(LABEL_TAG)).label
            except InvalidInput:
                break
    category = record.get("Category")
    return grade_from_vic(category if isinstance(category, int) else None).label


def read_vics(data: bytes, *, collection: str = "vics") -> VicsMedia:
    """Signals of a VICS case or hash set (MD5, and SafeStream's PDQ / SHA-256 extensions)."""
    try:
        document = json.loads(data)
    except ValueError as exc:
        raise ExchangeError(f"not VICS JSON: {exc}") from exc
    values = document.get("value") if isinstance(document, dict) else None
    if not isinstance(values, list):
        raise ExchangeError("not VICS JSON: no `value` list")
    # A case holds its media under value[].Media; a hash set lists media directly.
    media = [m for v in values if isinstance(v, dict) for m in _media_of(v)]
    out = VicsMedia()
    for record in media:
        if not isinstance(record, dict):
            continue
        raw_tags = record.get("Tags") or ""
        tags = [t for t in str(raw_tags).split(";") if t]
        label = _label(record, tags)
        kept = tuple(t for t in tags if not t.startswith(LABEL_TAG))
        found = False
        for kind, name in FIELDS.items():
            value = record.get(name)
            if not value:
                continue
            try:
                canonical = canonical_value(kind, str(value))
            except InvalidInput:
                out.skipped["invalid"] = out.skipped.get("invalid", 0) + 1
                continue
            found = True
            out.signals.append(
                SharedSignal(
                    kind, canonical, label=label, tags=kept,
                    source=str(record.get("Comments") or ""),
                    added_at=_time(record.get("DateUpdated")), collection=collection,
                )
            )  # fmt: skip
        if not found:
            out.skipped["no_supported_hash"] = out.skipped.get("no_supported_hash", 0) + 1
    return out


def _media_of(value: dict[str, object]) -> list[object]:
    """A case's media list, or the record itself when it is a hash-set entry."""
    media = value.get("Media")
    if isinstance(media, list):
        return media
    return [value] if media is None else []


def _time(value: object) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)

"""NCMEC hash-sharing style XML entries, read and written.

The layout is the one NCMEC's Hash Sharing API answers `GET /v2/entries` with (and that
python-threatexchange's `hash_api.GetEntriesResponse` parses): a `queryResult` with `images`
(`maxTimestamp` attribute) holding `image` entries and `deletedImage` tombstones, each with an
`id`, a `member` (`id` attribute, name as text), a `classification` (the industry grade) and
`fingerprints` (`md5`, `pdq`, ...). What the format carries: hash kinds, the industry grade,
withdrawals and the member as provenance. Accounts, URLs and keywords have no place in it and
are counted as skipped; fingerprints SafeStream does not hold (SHA-1, PhotoDNA, ...) likewise.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from lxml import etree

from safestream.core.classification import derive, parse_grade
from safestream.core.errors import ExchangeError, InvalidInput
from safestream.core.shared_signals import SharedSignal, SignalKind, canonical_value

NAMESPACE = "https://hashsharing.ncmec.org/npo/v1"
DATE_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
# NCMEC's fingerprint element names for the hash kinds SafeStream holds.
FINGERPRINTS = {SignalKind.MD5: "md5", SignalKind.PDQ: "pdq", SignalKind.SHA256: "sha256"}
KINDS = {name: kind for kind, name in FINGERPRINTS.items()}


@dataclass
class NcmecEntries:
    """Signals read from an entries document, and what could not be carried."""

    signals: list[SharedSignal] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)


def _q(tag: str) -> str:
    return f"{{{NAMESPACE}}}{tag}"


def entry_id(kind: SignalKind, value: str) -> str:
    """A stable entry id for a signal (the same signal always gets the same id)."""
    return "ss-" + hashlib.sha256(f"{kind.value}:{value}".encode()).hexdigest()[:24]


def write_ncmec_entries(
    signals: Iterable[SharedSignal], *, member_id: int, member_name: str
) -> tuple[bytes, dict[str, int]]:
    """An entries document of the hash signals; also how many of each kind were left out."""
    root = etree.Element(f"{{{NAMESPACE}}}queryResult", nsmap={None: NAMESPACE})  # type: ignore[dict-item]
    images = etree.SubElement(root, _q("images"))
    skipped: dict[str, int] = {}
    newest = datetime(1970, 1, 1, tzinfo=UTC)
    count = 0
    for s in signals:
        if s.kind not in FINGERPRINTS:
            skipped[s.kind.value] = skipped.get(s.kind.value, 0) + 1
            continue
        stamp = (s.added_at or datetime.now(UTC)).astimezone(UTC)
        newest = max(newest, stamp)
        entry = etree.SubElement(images, _q("deletedImage" if s.deleted else "image"))
        member = etree.SubElement(entry, _q("member"), id=str(member_id))
        member.text = member_name
        etree.SubElement(entry, _q("timestamp")).text = stamp.strftime(DATE_FORMAT)
        etree.SubElement(entry, _q("id")).text = entry_id(s.kind, s.value)
        grade = derive(s.label).us_industry
        if grade and not s.deleted:
            etree.SubElement(entry, _q("classification")).text = grade
        # Tombstones keep their fingerprint too, so a reader keyed by hash can act on them.
        prints = etree.SubElement(entry, _q("fingerprints"))
        etree.SubElement(prints, _q(FINGERPRINTS[s.kind])).text = s.value
        count += 1
    images.set("count", str(count))
    images.set("maxTimestamp", newest.strftime(DATE_FORMAT))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8"), skipped


def _local(tag: object) -> str:
    text = str(tag)
    return text.rpartition("}")[2]


def read_ncmec_entries(data: bytes, *, collection: str = "ncmec") -> NcmecEntries:
    """Signals of an entries document (tombstones for deleted entries without fingerprints
    are kept by id only in `skipped`, since a withdrawal needs the hash to act on)."""
    try:
        root = etree.fromstring(
            data, parser=etree.XMLParser(resolve_entities=False, huge_tree=True)
        )
    except etree.XMLSyntaxError as exc:
        raise ExchangeError(f"not an NCMEC entries document: {exc}") from exc
    out = NcmecEntries()
    for group in root:
        if _local(group.tag) not in ("images", "videos"):
            continue
        for entry in group:
            tag = _local(entry.tag)
            deleted = tag.startswith("deleted")
            member = next((c for c in entry if _local(c.tag) == "member"), None)
            source = (
                f"NCMEC member {member.get('id')} {member.text or ''}".strip()
                if member is not None
                else ""
            )
            label = next((c.text for c in entry if _local(c.tag) == "classification"), None)
            stamp = next((c.text for c in entry if _local(c.tag) == "timestamp"), None)
            prints = next((c for c in entry if _local(c.tag) == "fingerprints"), None)
            found = False
            for fp in prints if prints is not None else []:
                kind = KINDS.get(_local(fp.tag))
                if kind is None or not (fp.text or "").strip():
                    name = _local(fp.tag)
                    out.skipped[name] = out.skipped.get(name, 0) + 1
                    continue
                try:
                    value = canonical_value(kind, fp.text or "")
                    grade = parse_grade(label).label if label else "unclassified"
                except InvalidInput:
                    out.skipped["invalid"] = out.skipped.get("invalid", 0) + 1
                    continue
                found = True
                out.signals.append(
                    SharedSignal(
                        kind, value, label=grade, source=source,
                        added_at=_time(stamp), deleted=deleted, collection=collection,
                    )
                )  # fmt: skip
            if not found and deleted:
                out.skipped["tombstone_without_hash"] = (
                    out.skipped.get("tombstone_without_hash", 0) + 1
                )
    return out


def _time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.strptime(text.strip(), DATE_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return None

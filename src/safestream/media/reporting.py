"""Matched media to the store: a detector report and one event per bank entry hit.

A first-stage (hash) match is a `MatchFound`; a second-stage (local-feature) match is a
`RegionMatchFound` with where the bank image or room is in the file and how much of it is shown.
`safestream match --report` files each matched file this way, so the case engine links it and
triages it from the events (never from the report's text). The report names the file, and the
uploader as a reported account when known: linking joins every report naming that account, so
one uploader's files make one case.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path

from safestream.core.banks import Match
from safestream.core.events import Event, EventSink, MatchFound, RegionMatchFound
from safestream.core.reports import IncidentType, MatchedEntry, MediaHash, Report, ReportIn
from safestream.core.signals import SignalType
from safestream.media.upload_manifest import UploadContext
from safestream.store.base import utcnow

MAX_MATCHES = 1000  # what a report holds
_SIGNAL_OF_VARIANT = {"exact_md5": SignalType.MD5, "exact_sha256": SignalType.SHA256}


def best_per_entry(matches: list[Match]) -> list[Match]:
    """The closest match of each bank entry, in the order entries were first met."""
    best: dict[tuple[str, int], Match] = {}
    for m in matches:
        key = (m.bank, m.entry_id)
        if key not in best or m.distance < best[key].distance:
            best[key] = m
    return list(best.values())[:MAX_MATCHES]


def match_report(
    path: str,
    md5: str,
    sha256: str,
    matches: list[Match],
    upload: UploadContext | None = None,
) -> ReportIn:
    """The detector report of one matched file: its exact hashes, the entries it matched, its
    file name, and its uploader and context when known.

    Second-stage (local-feature) matches have no hash a report or a partner could use; they are
    named in the description with their region and coverage, not listed as hash matches."""
    upload = upload or UploadContext()
    name = Path(path).name
    local = [m for m in matches if m.stage == "local"]
    described = f"safestream match: file {name!r} matched {len(matches)} bank entries"
    if upload.uploader is not None:
        described += f"; uploaded by {upload.platform}:{upload.uploader}"
    if local:
        described += "; by local features: " + ", ".join(
            f"{m.bank}#{m.entry_id} region {m.region} coverage {m.coverage}" for m in local[:20]
        )
    if upload.context:
        described += f"\ncontext: {upload.context}"
    account = upload.account()
    return ReportIn(
        description=described,
        incident_type=IncidentType.CHILD_PORNOGRAPHY,
        incident_at=upload.uploaded_at,
        platform=upload.platform_part(),
        reported_accounts=[account] if account else [],
        media_hashes=[
            MediaHash(signal_type=SignalType.MD5, value=md5),
            MediaHash(signal_type=SignalType.SHA256, value=sha256),
        ],
        matches=[
            MatchedEntry(
                bank=m.bank,
                entry_id=m.entry_id,
                signal_type=_SIGNAL_OF_VARIANT.get(m.variant, SignalType.PDQ),
                value=m.entry_hash,
                distance=m.distance,
                label=m.label.value,
                t=m.t,
            )
            for m in matches
            if m.stage != "local"
        ],
        idempotency_key=_idempotency_key(name, sha256, upload),
    )


def _idempotency_key(name: str, sha256: str, upload: UploadContext) -> str:
    """One report per file content, name and uploader: scanning again files nothing new, while
    the same file uploaded by two accounts is two reports."""
    who = "\0".join((name, upload.platform or "", upload.uploader or ""))
    return f"match:{sha256}:{hashlib.sha256(who.encode()).hexdigest()[:16]}"


def match_events(matches: list[Match]) -> list[MatchFound]:
    """One `MatchFound` per matched entry (the store's banks are verified lists)."""
    now = utcnow()
    return [
        MatchFound(
            at=now,
            bank=m.bank,
            entry_id=m.entry_id,
            signal_type=_SIGNAL_OF_VARIANT.get(m.variant, SignalType.PDQ),
            entry_hash=m.entry_hash,
            distance=m.distance,
            label=m.label,
            verified=True,
            stream_id=None,
            t=m.t,
        )
        for m in matches
        if m.stage != "local"
    ]


def region_match_found(
    m: Match, *, at: datetime, stream_id: str | None, media_sha256: str | None
) -> RegionMatchFound:
    """The event of one second-stage match (`m.stage == "local"`); a match without a region
    is a programming error (`ValueError`)."""
    if m.stage != "local" or m.region is None or m.frame_size is None or m.coverage is None:
        raise ValueError(f"not a second-stage match with a region: {m!r}")
    inliers = m.extra.get("inliers")
    kind = m.extra.get("bank_kind")
    return RegionMatchFound(
        at=at,
        bank=m.bank,
        entry_id=m.entry_id,
        bank_kind=kind if isinstance(kind, str) else "media",
        label=m.label,
        verified=True,
        stream_id=stream_id,
        stage=m.stage,
        region=m.region,
        frame_size=m.frame_size,
        coverage=float(m.coverage),
        inliers=inliers if isinstance(inliers, int) else 0,
        media_sha256=media_sha256,
        t=m.t,
    )


def file_events(matches: list[Match], sha256: str) -> list[Event]:
    """The events of one matched file: `MatchFound` per hash match, `RegionMatchFound` per
    second-stage match (found in the file with this SHA-256)."""
    now = utcnow()
    found: list[Event] = list(match_events(matches))
    found += [
        region_match_found(m, at=now, stream_id=None, media_sha256=sha256)
        for m in matches
        if m.stage == "local"
    ]
    return found


def report_matched_file(
    sink: EventSink,
    path: str,
    md5: str,
    sha256: str,
    matches: list[Match],
    upload: UploadContext | None = None,
) -> Report:
    """Hand one matched file's report and events to `sink`; return the stored report."""
    best = best_per_entry(matches)
    return sink.emit(match_report(path, md5, sha256, best, upload), file_events(best, sha256))

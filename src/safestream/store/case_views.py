"""What the case page reads: reports, matches, evidence (described), holds, notes, decisions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from safestream.core.cases import Case, DecisionRecord, Note
from safestream.core.entities import Entity
from safestream.core.reports import Report


@dataclass(frozen=True)
class CaseMatch:
    """A bank match in a case."""

    report_id: str
    bank: str
    entry_id: int
    signal_type: str
    value: str
    distance: int
    label: str
    verified: bool  # backed by SafeStream's bank, and that bank is verified: shown hash-first
    bank_verified: bool = True  # False: an administrator marked the bank unverified
    t: float | None = None  # seconds into the reported video where it matched; None: an image
    bank_t: float | None = None  # the bank entry's frame: seconds into its bank video
    bank_content: str | None = None  # SHA-256 of the bank video (or image) the entry came from


@dataclass(frozen=True)
class CaseRegionMatch:
    """A second-stage match in a case: where a bank image or banked room was seen in a frame."""

    report_id: str
    bank: str
    entry_id: int
    bank_kind: str  # "media" (a known image) or "room" (a known place)
    label: str
    region: tuple[int, int, int, int]  # x, y, width, height in a frame of `frame_size`
    frame_size: tuple[int, int]
    coverage: float
    inliers: int
    media_sha256: str | None  # the evidence file it was found in, when there is one
    stream_id: str | None
    t: float | None

    def box(self) -> tuple[float, float, float, float]:
        """The region as percentages of the frame (left, top, width, height), for drawing."""
        width, height = self.frame_size
        x, y, w, h = self.region
        return (100 * x / width, 100 * y / height, 100 * w / width, 100 * h / height)


@dataclass(frozen=True)
class EvidenceRef:
    """An evidence file, described without opening it (hash-first review)."""

    id: str
    report_id: str
    filename: str
    content_type: str
    sha256: str
    size: int
    held_until: datetime
    # Set when the report's media matched a verified bank: show the hash and label, not the file.
    matched_label: str | None
    views: int


@dataclass(frozen=True)
class EvidenceHold:
    """A preservation request, e.g. for a stream's buffered segments."""

    stream_id: str | None
    report_id: str | None
    reason: str
    rule: str
    hold_until: datetime


@dataclass(frozen=True)
class CaseDetail:
    """Everything the case page shows."""

    case: Case
    reports: tuple[Report, ...]
    entities: tuple[Entity, ...]
    links: tuple[tuple[str, Entity], ...]  # (report id, entity) edges for the graph
    matches: tuple[CaseMatch, ...]
    evidence: tuple[EvidenceRef, ...]
    holds: tuple[EvidenceHold, ...]
    notes: tuple[Note, ...]
    decisions: tuple[DecisionRecord, ...]
    region_matches: tuple[CaseRegionMatch, ...] = ()

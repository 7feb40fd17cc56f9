"""Opening evidence for a principal: scope checked, every access audited, in one place.

A report's media is visible to whoever may see the report (`store.scope.reports_visible`): the
operator, the platform that sent it, and an agency the case was referred to. Anything else is
"not found". Opening a file needs the child-safety media permission; each opening is written to
the audit log in the same transaction that records it (who, what, why, the file's SHA-256).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from safestream.core.errors import NotFound
from safestream.core.principal import Permission, Principal
from safestream.store import audit
from safestream.store.bank_trust import verified_match
from safestream.store.database import Database
from safestream.store.events import region_matches
from safestream.store.models.cases import CaseMatchRow
from safestream.store.models.reports import EvidenceRow, ReportRow
from safestream.store.scope import reports_visible, require
from safestream.store.vault import EvidenceFile, EvidenceUnreadable, EvidenceVault


@dataclass(frozen=True)
class VisibleEvidence:
    """An evidence row the principal may see, with its case (0 while unlinked)."""

    row: EvidenceRow
    case_id: int


def visible_evidence(s: Session, principal: Principal, evidence_id: str) -> VisibleEvidence:
    """The evidence row if its report is in the principal's scope, else `NotFound`."""
    found = s.execute(
        select(EvidenceRow, ReportRow.case_id)
        .join(ReportRow, ReportRow.id == EvidenceRow.report_id)
        .where(EvidenceRow.id == evidence_id, reports_visible(principal))
    ).first()
    if found is None:
        raise NotFound(f"no evidence {evidence_id!r}")
    return VisibleEvidence(found[0], int(found[1] or 0))


def read_audited(
    s: Session,
    principal: Principal,
    vault: EvidenceVault,
    evidence_id: str,
    *,
    action: str,
    details: dict[str, object],
) -> tuple[VisibleEvidence, EvidenceFile]:
    """Decrypt evidence in the principal's scope and audit the read in the caller's transaction,
    so a read that is not audited cannot happen (the file's case and SHA-256 join `details`)."""
    found = visible_evidence(s, principal, evidence_id)
    file = vault.read(found.row)
    audit.append(
        s,
        actor=principal.actor,
        action=action,
        subject=f"evidence:{evidence_id}",
        details={"case": found.case_id, "sha256": found.row.sha256, **details},
    )
    return found, file


def matched_label(s: Session, evidence_id: str) -> str | None:
    """The bank label when the evidence's report matched a verified bank (show hash first):
    by hash, or by the second stage finding a known image (not a room) inside its media."""
    label = s.scalar(
        select(CaseMatchRow.label)
        .join(EvidenceRow, EvidenceRow.report_id == CaseMatchRow.report_id)
        .where(EvidenceRow.id == evidence_id, verified_match())
        .limit(1)
    )
    if label is not None:
        return label
    report_id = s.scalar(select(EvidenceRow.report_id).where(EvidenceRow.id == evidence_id))
    if report_id is None:
        return None
    for _, found in region_matches(s, [report_id]):
        if found.verified and found.bank_kind == "media":
            return found.label.value
    return None


def decrypt_evidence(
    db: Database,
    vault: EvidenceVault,
    principal: Principal,
    evidence_id: str,
    *,
    reason: str,
    action: str = "evidence.decrypt",
) -> EvidenceFile:
    """Decrypt one report file for an authorised principal and audit it (who, why, which file).

    This is the library function behind `safestream evidence decrypt`; the console's viewing goes
    through `cases.wellbeing.view_media`, which adds the reviewer's exposure budget.
    """
    require(principal, Permission.VIEW_CHILD_SAFETY_MEDIA)
    with db.session() as s:
        _, file = read_audited(
            s, principal, vault, evidence_id, action=action, details={"reason": reason}
        )
    return file


def decrypt_clip(
    db: Database,
    vault: EvidenceVault,
    principal: Principal,
    clip_path: Path,
    *,
    reason: str,
) -> bytes:
    """Decrypt a live-stream clip (sealed with its manifest) for the operator, audited.

    Stream clips are not tied to a report row, so only principals that see every case (the
    operator and the system) may open them.
    """
    require(principal, Permission.VIEW_CHILD_SAFETY_MEDIA)
    if not principal.links_and_triages:
        raise NotFound(f"no evidence {clip_path.name!r}")
    manifest_path = clip_path.with_name(clip_path.name.removesuffix(".mkv.enc") + ".json")
    try:
        manifest_bytes = manifest_path.read_bytes()
    except FileNotFoundError as exc:
        raise NotFound(f"no manifest next to {clip_path}") from exc
    clip = vault.read_path(clip_path, manifest_bytes)
    manifest = json.loads(manifest_bytes)
    if hashlib.sha256(clip).hexdigest() != manifest.get("clip_sha256"):
        raise EvidenceUnreadable(f"{clip_path}: clip does not match its manifest hash")
    audit.record(
        db,
        actor=principal.actor,
        action="evidence.decrypt",
        subject=f"clip:{manifest.get('capture_id', clip_path.name)}",
        details={"stream": manifest.get("stream_id"), "reason": reason},
    )
    return clip

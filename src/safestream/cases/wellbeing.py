"""Reviewer wellbeing: display preferences, shifts with an exposure budget, and audited media views.

Defaults protect the reviewer: media blurred, in grayscale, audio muted. Each media view counts
against the shift's budget; when it is spent, `view_media` refuses with `ExposureBudgetSpent` and
the console asks for a break. Every view is stored (who, when, why) and written to the audit log,
because hotlines and NCMEC need to know whether a person saw a file (`fileViewedByEsp`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from safestream.core.errors import InvalidInput, NotFound, PermissionDenied
from safestream.store import audit
from safestream.store.access import Permission, User
from safestream.store.base import utcnow
from safestream.store.database import Database
from safestream.store.models.access import (
    MediaViewRow,
    ShiftRow,
    UserRow,
    WellbeingPreferenceRow,
)
from safestream.store.models.cases import CaseMatchRow
from safestream.store.models.reports import EvidenceRow, ReportRow
from safestream.store.times import aware
from safestream.store.vault import EvidenceFile, EvidenceVault

DEFAULT_EXPOSURE_BUDGET = 20
MAX_EXPOSURE_BUDGET = 500


class ExposureBudgetSpent(PermissionDenied):
    """The reviewer has seen as much media as this shift allows; time for a break."""


@dataclass(frozen=True)
class Preferences:
    """How the console shows media to one reviewer."""

    blur: bool = True
    grayscale: bool = True
    muted: bool = True
    exposure_budget: int = DEFAULT_EXPOSURE_BUDGET


@dataclass(frozen=True)
class Exposure:
    """Media seen in the current shift against its budget."""

    shift_id: int | None
    started_at: datetime | None
    viewed: int
    budget: int

    @property
    def remaining(self) -> int:
        """Views left before a break."""
        return max(0, self.budget - self.viewed)

    @property
    def break_needed(self) -> bool:
        """True when the budget is spent."""
        return self.viewed >= self.budget


@dataclass(frozen=True)
class MediaView:
    """A recorded view, with the file it opened."""

    view_id: int
    viewed_at: datetime
    file: EvidenceFile
    exposure: Exposure


def get_preferences(db: Database, user: User) -> Preferences:
    """The reviewer's preferences, or the protective defaults."""
    with db.session() as s:
        row = s.get(WellbeingPreferenceRow, user.id)
        if row is None:
            return Preferences()
        return Preferences(row.blur, row.grayscale, row.muted, row.exposure_budget)


def set_preferences(db: Database, user: User, prefs: Preferences) -> Preferences:
    """Save the reviewer's preferences."""
    if not 1 <= prefs.exposure_budget <= MAX_EXPOSURE_BUDGET:
        raise InvalidInput(f"exposure_budget: use 1..{MAX_EXPOSURE_BUDGET}")
    with db.session() as s:
        row = s.get(WellbeingPreferenceRow, user.id)
        if row is None:
            row = WellbeingPreferenceRow(user_id=user.id)
            s.add(row)
        row.blur, row.grayscale, row.muted = prefs.blur, prefs.grayscale, prefs.muted
        row.exposure_budget = prefs.exposure_budget
        audit.append(
            s,
            actor=user.email,
            action="wellbeing.preferences",
            subject=f"user:{user.id}",
            details={"blur": prefs.blur, "grayscale": prefs.grayscale, "muted": prefs.muted},
        )
    return prefs


def _current_shift(db: Database, user: User) -> ShiftRow | None:
    with db.session() as s:
        return s.scalars(
            select(ShiftRow)
            .where(ShiftRow.user_id == user.id, ShiftRow.ended_at.is_(None))
            .order_by(ShiftRow.started_at.desc())
            .limit(1)
        ).first()


def start_shift(db: Database, user: User) -> Exposure:
    """Start a shift (ending any open one) with the reviewer's budget; call at console login."""
    budget = get_preferences(db, user).exposure_budget
    now = utcnow()
    with db.session() as s:
        for open_shift in s.scalars(
            select(ShiftRow).where(ShiftRow.user_id == user.id, ShiftRow.ended_at.is_(None))
        ):
            open_shift.ended_at = now
        row = ShiftRow(user_id=user.id, started_at=now, budget=budget)
        s.add(row)
        s.flush()
        return Exposure(row.id, now, 0, budget)


def end_shift(db: Database, user: User) -> None:
    """End the reviewer's open shift, if any."""
    with db.session() as s:
        for row in s.scalars(
            select(ShiftRow).where(ShiftRow.user_id == user.id, ShiftRow.ended_at.is_(None))
        ):
            row.ended_at = utcnow()


def exposure(db: Database, user: User) -> Exposure:
    """Media viewed in the current shift against its budget (no shift: nothing viewed yet)."""
    shift = _current_shift(db, user)
    if shift is None:
        return Exposure(None, None, 0, get_preferences(db, user).exposure_budget)
    with db.session() as s:
        viewed = s.scalar(select(func.count()).where(MediaViewRow.shift_id == shift.id)) or 0
    return Exposure(shift.id, aware(shift.started_at), int(viewed), shift.budget)


def is_hash_matched(db: Database, evidence_id: str) -> str | None:
    """The bank label when the evidence's report matched a verified bank (show hash first)."""
    with db.session() as s:
        return s.scalar(
            select(CaseMatchRow.label)
            .join(EvidenceRow, EvidenceRow.report_id == CaseMatchRow.report_id)
            .where(EvidenceRow.id == evidence_id, CaseMatchRow.verified)
            .limit(1)
        )


def view_media(
    db: Database, vault: EvidenceVault, user: User, evidence_id: str, *, reason: str = ""
) -> MediaView:
    """Open an evidence file for a reviewer: checks role, budget and reason; records the view.

    Media whose hash matched a verified bank needs a stated reason, since the hash and label
    already tell the reviewer what it is.
    """
    if not user.allows(Permission.VIEW_CHILD_SAFETY_MEDIA):
        raise PermissionDenied(f"{user.email} ({user.role}) may not view child-safety media")
    label = is_hash_matched(db, evidence_id)
    if label is not None and not reason.strip():
        raise InvalidInput(
            f"reason: this file matched a verified bank ({label}); say why you need to see it"
        )
    if exposure(db, user).break_needed:
        raise ExposureBudgetSpent(
            f"{user.email} has used this shift's exposure budget; take a break"
        )
    shift = _current_shift(db, user)
    if shift is None:  # a view outside a shift starts one, so it still counts
        start_shift(db, user)
        shift = _current_shift(db, user)
    now = utcnow()
    with db.session() as s:
        row = s.get(EvidenceRow, evidence_id)
        if row is None:
            raise NotFound(f"no evidence {evidence_id!r}")
        case_id = s.scalar(select(ReportRow.case_id).where(ReportRow.id == row.report_id)) or 0
        file = vault.read(row)
        view = MediaViewRow(
            user_id=user.id,
            case_id=case_id,
            evidence_id=evidence_id,
            shift_id=shift.id if shift else None,
            reason=reason.strip(),
            viewed_at=now,
        )
        s.add(view)
        s.flush()
        audit.append(
            s,
            actor=user.email,
            action="evidence.view",
            subject=f"evidence:{evidence_id}",
            details={"case": case_id, "reason": reason.strip(), "sha256": row.sha256},
        )
        view_id = view.id
    return MediaView(view_id, now, file, exposure(db, user))


def media_views(db: Database, evidence_id: str) -> list[tuple[str, datetime, str]]:
    """Who viewed an evidence file, when and why (oldest first)."""
    with db.session() as s:
        rows = s.execute(
            select(UserRow.email, MediaViewRow.viewed_at, MediaViewRow.reason)
            .join(UserRow, UserRow.id == MediaViewRow.user_id)
            .where(MediaViewRow.evidence_id == evidence_id)
            .order_by(MediaViewRow.id)
        ).all()
        return [(e, aware(t), r) for e, t, r in rows]

"""Wellbeing repository: a reviewer's display preferences, shifts and recorded media views.

Each method acts for one person (the principal's user id); media views are written with the audit
entry in the same transaction, and only for evidence inside the principal's scope.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from safestream.core.errors import Conflict, PermissionDenied
from safestream.core.principal import Principal
from safestream.store import audit
from safestream.store.base import utcnow
from safestream.store.database import Database
from safestream.store.evidence_access import matched_label, read_audited, visible_evidence
from safestream.store.models.access import (
    MediaViewRow,
    ShiftRow,
    UserRow,
    WellbeingPreferenceRow,
)
from safestream.store.models.reports import EvidenceRow, ReportRow
from safestream.store.scope import reports_visible
from safestream.store.times import aware
from safestream.store.vault import EvidenceFile, EvidenceVault


class ExposureBudgetSpent(PermissionDenied):
    """The reviewer has seen as much media as this shift allows; time for a break."""


def _take_from_budget(s: Session, shift_id: int) -> None:
    """Lock the shift, then refuse if its budget is spent: parallel views of one reviewer queue
    here one by one, so each counts the views committed before it (a no-op UPDATE is the lock
    both SQLite and PostgreSQL take the same way)."""
    s.execute(update(ShiftRow).where(ShiftRow.id == shift_id).values(budget=ShiftRow.budget))
    budget = s.scalar(select(ShiftRow.budget).where(ShiftRow.id == shift_id))
    viewed = s.scalar(select(func.count()).where(MediaViewRow.shift_id == shift_id)) or 0
    if budget is not None and viewed >= budget:
        raise ExposureBudgetSpent("this shift's exposure budget is spent; take a break")


@dataclass(frozen=True)
class StoredPreferences:
    """Preferences as stored (None when the reviewer never saved any)."""

    blur: bool
    grayscale: bool
    muted: bool
    exposure_budget: int


@dataclass(frozen=True)
class ShiftState:
    """The open shift and how much media was seen in it."""

    shift_id: int
    started_at: datetime
    viewed: int
    budget: int


def _person(principal: Principal) -> int:
    if principal.user_id is None:
        raise Conflict("wellbeing settings belong to a person, not to a key or the system")
    return principal.user_id


class WellbeingRepository:
    """Preferences, shifts and media views of one store."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def preferences(self, principal: Principal) -> StoredPreferences | None:
        """The person's saved preferences, or None."""
        with self.db.session() as s:
            row = s.get(WellbeingPreferenceRow, _person(principal))
            if row is None:
                return None
            return StoredPreferences(row.blur, row.grayscale, row.muted, row.exposure_budget)

    def save_preferences(self, principal: Principal, prefs: StoredPreferences) -> None:
        """Save the person's preferences (audited)."""
        user_id = _person(principal)
        with self.db.session() as s:
            row = s.get(WellbeingPreferenceRow, user_id)
            if row is None:
                row = WellbeingPreferenceRow(user_id=user_id)
                s.add(row)
            row.blur, row.grayscale, row.muted = prefs.blur, prefs.grayscale, prefs.muted
            row.exposure_budget = prefs.exposure_budget
            audit.append(
                s,
                actor=principal.actor,
                action="wellbeing.preferences",
                subject=f"user:{user_id}",
                details={"blur": prefs.blur, "grayscale": prefs.grayscale, "muted": prefs.muted},
            )

    def start_shift(self, principal: Principal, budget: int) -> ShiftState:
        """End any open shift and start one with `budget` views."""
        user_id, now = _person(principal), utcnow()
        with self.db.session() as s:
            for open_shift in s.scalars(
                select(ShiftRow).where(ShiftRow.user_id == user_id, ShiftRow.ended_at.is_(None))
            ):
                open_shift.ended_at = now
            row = ShiftRow(user_id=user_id, started_at=now, budget=budget)
            s.add(row)
            s.flush()
            return ShiftState(row.id, now, 0, budget)

    def end_shift(self, principal: Principal) -> None:
        """End the person's open shift, if any."""
        user_id = _person(principal)
        with self.db.session() as s:
            for row in s.scalars(
                select(ShiftRow).where(ShiftRow.user_id == user_id, ShiftRow.ended_at.is_(None))
            ):
                row.ended_at = utcnow()

    def current_shift(self, principal: Principal) -> ShiftState | None:
        """The open shift with its count of views, or None."""
        user_id = _person(principal)
        with self.db.session() as s:
            shift = s.scalars(
                select(ShiftRow)
                .where(ShiftRow.user_id == user_id, ShiftRow.ended_at.is_(None))
                .order_by(ShiftRow.started_at.desc())
                .limit(1)
            ).first()
            if shift is None:
                return None
            viewed = s.scalar(select(func.count()).where(MediaViewRow.shift_id == shift.id)) or 0
            return ShiftState(shift.id, aware(shift.started_at), int(viewed), shift.budget)

    def matched_label(self, principal: Principal, evidence_id: str) -> str | None:
        """The verified bank label of evidence in scope (`NotFound` outside it)."""
        with self.db.session() as s:
            visible_evidence(s, principal, evidence_id)
            return matched_label(s, evidence_id)

    def open_evidence(
        self,
        principal: Principal,
        vault: EvidenceVault,
        evidence_id: str,
        *,
        action: str,
        details: dict[str, object],
    ) -> EvidenceFile:
        """Decrypt evidence in scope and audit the read, without counting it as a view."""
        with self.db.session() as s:
            _, file = read_audited(s, principal, vault, evidence_id, action=action, details=details)
            return file

    def record_view(
        self,
        principal: Principal,
        vault: EvidenceVault,
        evidence_id: str,
        *,
        shift_id: int | None,
        reason: str,
    ) -> tuple[int, datetime, EvidenceFile]:
        """Decrypt evidence in scope, store the view and audit it in one transaction; with a
        shift, refuse (`ExposureBudgetSpent`, nothing decrypted or recorded) once it is spent."""
        now = utcnow()
        with self.db.session() as s:
            if shift_id is not None:
                _take_from_budget(s, shift_id)
            found, file = read_audited(
                s, principal, vault, evidence_id, action="evidence.view", details={"reason": reason}
            )
            view = MediaViewRow(
                user_id=_person(principal),
                case_id=found.case_id,
                evidence_id=evidence_id,
                shift_id=shift_id,
                reason=reason,
                viewed_at=now,
            )
            s.add(view)
            s.flush()
            return view.id, now, file

    def views_of(self, principal: Principal, evidence_id: str) -> list[tuple[str, datetime, str]]:
        """Who viewed an evidence file in scope, when and why (oldest first)."""
        with self.db.session() as s:
            rows = s.execute(
                select(UserRow.email, MediaViewRow.viewed_at, MediaViewRow.reason)
                .join(UserRow, UserRow.id == MediaViewRow.user_id)
                .join(EvidenceRow, EvidenceRow.id == MediaViewRow.evidence_id)
                .join(ReportRow, ReportRow.id == EvidenceRow.report_id)
                .where(MediaViewRow.evidence_id == evidence_id, reports_visible(principal))
                .order_by(MediaViewRow.id)
            ).all()
            return [(e, aware(t), r) for e, t, r in rows]

"""Reviewer wellbeing: display preferences, shifts with an exposure budget, and audited media views.

Defaults protect the reviewer: media blurred, in grayscale, audio muted. Each media view counts
against the shift's budget; when it is spent, `view_media` refuses with `ExposureBudgetSpent` and
the console asks for a break. Every view is stored (who, when, why) and written to the audit log,
because hotlines and NCMEC need to know whether a person saw a file (`fileViewedByEsp`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from safestream.core.errors import InvalidInput, PermissionDenied
from safestream.core.principal import Permission, Principal
from safestream.store.database import Database
from safestream.store.scope import require
from safestream.store.vault import EvidenceFile, EvidenceVault
from safestream.store.wellbeing import ExposureBudgetSpent as ExposureBudgetSpent
from safestream.store.wellbeing import StoredPreferences, WellbeingRepository

DEFAULT_EXPOSURE_BUDGET = 20
MAX_EXPOSURE_BUDGET = 500


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


def get_preferences(db: Database, principal: Principal) -> Preferences:
    """The reviewer's preferences, or the protective defaults."""
    stored = WellbeingRepository(db).preferences(principal)
    if stored is None:
        return Preferences()
    return Preferences(stored.blur, stored.grayscale, stored.muted, stored.exposure_budget)


def set_preferences(db: Database, principal: Principal, prefs: Preferences) -> Preferences:
    """Save the reviewer's preferences."""
    if not 1 <= prefs.exposure_budget <= MAX_EXPOSURE_BUDGET:
        raise InvalidInput(f"exposure_budget: use 1..{MAX_EXPOSURE_BUDGET}")
    stored = StoredPreferences(prefs.blur, prefs.grayscale, prefs.muted, prefs.exposure_budget)
    WellbeingRepository(db).save_preferences(principal, stored)
    return prefs


def start_shift(db: Database, principal: Principal) -> Exposure:
    """Start a shift (ending any open one) with the reviewer's budget; call at console login."""
    budget = get_preferences(db, principal).exposure_budget
    shift = WellbeingRepository(db).start_shift(principal, budget)
    return Exposure(shift.shift_id, shift.started_at, 0, budget)


def end_shift(db: Database, principal: Principal) -> None:
    """End the reviewer's open shift, if any."""
    WellbeingRepository(db).end_shift(principal)


def exposure(db: Database, principal: Principal) -> Exposure:
    """Media viewed in the current shift against its budget (no shift: nothing viewed yet)."""
    shift = WellbeingRepository(db).current_shift(principal)
    if shift is None:
        return Exposure(None, None, 0, get_preferences(db, principal).exposure_budget)
    return Exposure(shift.shift_id, shift.started_at, shift.viewed, shift.budget)


def is_hash_matched(db: Database, principal: Principal, evidence_id: str) -> str | None:
    """The bank label when the evidence's report matched a verified bank (show hash first)."""
    return WellbeingRepository(db).matched_label(principal, evidence_id)


def preview_file(
    db: Database, vault: EvidenceVault, principal: Principal, evidence_id: str
) -> EvidenceFile:
    """The file behind a blurred thumbnail: never for hash-matched media; audited, not counted."""
    require(principal, Permission.VIEW_CHILD_SAFETY_MEDIA)
    if is_hash_matched(db, principal, evidence_id) is not None:
        raise PermissionDenied("this file matched a verified bank: it is shown by hash only")
    return WellbeingRepository(db).open_evidence(
        principal, vault, evidence_id, action="evidence.preview", details={"blurred": True}
    )


def view_media(
    db: Database, vault: EvidenceVault, principal: Principal, evidence_id: str, *, reason: str = ""
) -> MediaView:
    """Open an evidence file for a reviewer: checks role, budget and reason; records the view.

    Media whose hash matched a verified bank needs a stated reason, since the hash and label
    already tell the reviewer what it is.
    """
    require(principal, Permission.VIEW_CHILD_SAFETY_MEDIA)
    label = is_hash_matched(db, principal, evidence_id)
    if label is not None and not reason.strip():
        raise InvalidInput(
            f"reason: this file matched a verified bank ({label}); say why you need to see it"
        )
    if exposure(db, principal).break_needed:
        raise ExposureBudgetSpent(
            f"{principal.actor} has used this shift's exposure budget; take a break"
        )
    repo = WellbeingRepository(db)
    shift = repo.current_shift(principal)
    if shift is None:  # a view outside a shift starts one, so it still counts
        start_shift(db, principal)
        shift = repo.current_shift(principal)
    view_id, now, file = repo.record_view(
        principal,
        vault,
        evidence_id,
        shift_id=shift.shift_id if shift else None,
        reason=reason.strip(),
    )
    return MediaView(view_id, now, file, exposure(db, principal))


def media_views(
    db: Database, principal: Principal, evidence_id: str
) -> list[tuple[str, datetime, str]]:
    """Who viewed an evidence file, when and why (oldest first)."""
    return WellbeingRepository(db).views_of(principal, evidence_id)

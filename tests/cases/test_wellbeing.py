"""Media is protected by default, budgeted per shift, and every view is recorded and audited."""

from __future__ import annotations

import base64
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from safestream.cases.engine import CaseEngine
from safestream.cases.wellbeing import (
    ExposureBudgetSpent,
    Preferences,
    exposure,
    get_preferences,
    media_views,
    set_preferences,
    start_shift,
    view_media,
)
from safestream.core.config import Settings
from safestream.core.errors import InvalidInput, PermissionDenied
from safestream.core.principal import Principal
from safestream.reports.intake import IntakeService
from safestream.store import audit
from safestream.store.database import Database
from safestream.store.vault import EvidenceVault
from tests.reports.builders import account, banked_match, org, report, user

SYSTEM = Principal.system("test")

DATA = base64.b64encode(b"benign generated frame").decode()


def _evidence(db: Database, vault: EvidenceVault, matched: bool = False) -> str:
    body = report(
        reported_accounts=[account("acme", "u1")],
        media=[{"filename": "frame.png", "data_base64": DATA}],
        evidence_hold=True,
        matches=[banked_match(db)] if matched else [],
    )
    stored = IntakeService(db, vault).receive(org(db), body)
    CaseEngine.for_settings(db).process_pending()
    return stored.report.evidence_ids[0]


@pytest.fixture
def vault(tmp_path: Path) -> EvidenceVault:
    return EvidenceVault.for_settings(Settings(home=tmp_path / "home", database_url="sqlite://"))


def test_defaults_blur_grayscale_and_mute(database: Database) -> None:
    prefs = get_preferences(database, user(database, "r@h.org", "child_safety_reviewer").principal)
    assert (prefs.blur, prefs.grayscale, prefs.muted) == (True, True, True)


def test_preferences_are_per_user(database: Database) -> None:
    a = user(database, "a@h.org", "child_safety_reviewer")
    b = user(database, "b@h.org", "child_safety_reviewer")
    set_preferences(
        database,
        a.principal,
        Preferences(blur=False, grayscale=True, muted=True, exposure_budget=5),
    )
    assert get_preferences(database, a.principal).blur is False
    assert get_preferences(database, b.principal).blur is True


def test_view_is_recorded_with_who_and_why_and_audited(
    database: Database, vault: EvidenceVault
) -> None:
    eid = _evidence(database, vault)
    reviewer = user(database, "r@h.org", "child_safety_reviewer")
    seen = view_media(database, vault, reviewer.principal, eid, reason="confirm age")
    assert seen.file.data == base64.b64decode(DATA)
    assert [(who, why) for who, _, why in media_views(database, SYSTEM, eid)] == [
        ("r@h.org", "confirm age")
    ]
    assert audit.entries(database, SYSTEM, subject=f"evidence:{eid}")[0].action == "evidence.view"


def test_plain_reviewer_cannot_open_media(database: Database, vault: EvidenceVault) -> None:
    eid = _evidence(database, vault)
    with pytest.raises(PermissionDenied):
        view_media(database, vault, user(database, "r@h.org", "reviewer").principal, eid)


def test_hash_matched_media_needs_a_reason(database: Database, vault: EvidenceVault) -> None:
    eid = _evidence(database, vault, matched=True)
    with pytest.raises(InvalidInput, match="verified bank"):
        view_media(
            database, vault, user(database, "r@h.org", "child_safety_reviewer").principal, eid
        )


def test_spent_budget_asks_for_a_break(database: Database, vault: EvidenceVault) -> None:
    eid = _evidence(database, vault)
    reviewer = user(database, "r@h.org", "child_safety_reviewer")
    set_preferences(database, reviewer.principal, Preferences(exposure_budget=2))
    start_shift(database, reviewer.principal)
    view_media(database, vault, reviewer.principal, eid)
    assert view_media(database, vault, reviewer.principal, eid).exposure.break_needed
    with pytest.raises(ExposureBudgetSpent):
        view_media(database, vault, reviewer.principal, eid)


def test_new_shift_resets_the_budget(database: Database, vault: EvidenceVault) -> None:
    eid = _evidence(database, vault)
    reviewer = user(database, "r@h.org", "child_safety_reviewer")
    set_preferences(database, reviewer.principal, Preferences(exposure_budget=1))
    view_media(database, vault, reviewer.principal, eid)
    assert exposure(database, reviewer.principal).break_needed
    assert start_shift(database, reviewer.principal).remaining == 1


def test_parallel_views_never_exceed_the_budget(database: Database, vault: EvidenceVault) -> None:
    """Eight views fired at once against a budget of three: three are shown, five refused."""
    eid = _evidence(database, vault)
    reviewer = user(database, "r@h.org", "child_safety_reviewer")
    set_preferences(database, reviewer.principal, Preferences(exposure_budget=3))
    start_shift(database, reviewer.principal)
    start = threading.Barrier(8)

    def view() -> str:
        start.wait()
        try:
            view_media(database, vault, reviewer.principal, eid)
        except ExposureBudgetSpent:
            return "refused"
        return "shown"

    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(lambda _: view(), range(8)))
    assert sorted(outcomes) == ["refused"] * 5 + ["shown"] * 3
    assert exposure(database, reviewer.principal).viewed == 3
    assert len(media_views(database, SYSTEM, eid)) == 3

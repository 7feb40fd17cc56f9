"""The banks page: an administrator marks a bank verified or not, and hash-first review follows."""

from __future__ import annotations

from safestream.core.principal import Principal
from safestream.store import audit
from safestream.store.banks import BankRepository
from tests.web.conftest import KNOWN_BANK, Console, photo_report


def _set(console: Console, verified: str, bank: str = KNOWN_BANK) -> int:
    token = console.csrf("/console/banks")
    answer = console.client.post(
        f"/console/banks/{bank}/verified", data={"verified": verified, "csrf_token": token}
    )
    return answer.status_code


def test_admin_marks_a_bank_unverified_and_its_matches_get_a_blurred_preview(
    console_on_each_store: Console,
) -> None:
    console = console_on_each_store
    _, case_id = console.file(photo_report("s-bank", matched=True))
    console.login("admin")
    assert _set(console, "no") == 200
    assert BankRepository(console.db).get(KNOWN_BANK).verified is False
    page = console.client.get(f"/console/cases/{case_id}").text
    assert "shown by hash only" not in page and "/preview" in page
    assert 'no <span class="muted">(bank not verified)</span>' in page


def test_marking_the_bank_verified_again_restores_hash_first(console: Console) -> None:
    _, case_id = console.file(photo_report("s-bank2", matched=True))
    console.login("admin")
    _set(console, "no")
    _set(console, "yes")
    page = console.client.get(f"/console/cases/{case_id}").text
    assert "shown by hash only" in page and "/preview" not in page


def test_each_change_is_in_the_audit_log(console: Console) -> None:
    console.login("admin")
    _set(console, "no")
    entries = audit.entries(console.db, Principal.system("test"), subject=f"bank:{KNOWN_BANK}")
    assert [e.action for e in entries] == ["bank.unverified"]
    assert entries[0].actor.endswith("admin@example.org")


def test_reviewers_may_neither_see_nor_change_the_setting(console: Console) -> None:
    console.login("reviewer")
    assert console.client.get("/console/banks").status_code == 403
    token = console.csrf("/console/queue")
    answer = console.client.post(
        f"/console/banks/{KNOWN_BANK}/verified", data={"verified": "no", "csrf_token": token}
    )
    assert answer.status_code == 403
    assert BankRepository(console.db).get(KNOWN_BANK).verified is True


def test_the_change_needs_the_csrf_token(console: Console) -> None:
    console.login("admin")
    answer = console.client.post(f"/console/banks/{KNOWN_BANK}/verified", data={"verified": "no"})
    assert answer.status_code == 403
    assert BankRepository(console.db).get(KNOWN_BANK).verified is True


def test_an_unknown_bank_is_a_404_page(console: Console) -> None:
    console.login("admin")
    assert _set(console, "no", bank="no-such-bank") == 404

"""The audit-log page: auditors read and verify it; reviewers may not."""

from __future__ import annotations

from tests.web.conftest import Console


def test_auditor_reads_the_audit_log(console: Console) -> None:
    console.login("auditor")
    page = console.client.get("/console/audit").text
    assert "auditor@example.org" in page and ">login<" in page


def test_auditor_verifies_the_chain(console: Console) -> None:
    console.login("auditor")
    page = console.client.get("/console/audit?verify=1").text
    assert "Chain verified" in page


def test_reviewer_may_not_read_the_audit_log(console: Console) -> None:
    console.login("reviewer")
    assert console.client.get("/console/audit").status_code == 403


def test_failed_login_is_recorded(console: Console) -> None:
    console.ensure_user("auditor")
    token = console.csrf()
    console.client.post(
        "/console/login",
        data={"email": "auditor@example.org", "password": "wrong wrong wrong", "csrf_token": token},
    )
    console.login("auditor")
    assert "login_failed" in console.client.get("/console/audit").text

"""Bulk actions on the queue: tick cases, confirm, then each is claimed, dismissed or assigned."""

from __future__ import annotations

import re

import httpx

from safestream.core.principal import Principal
from safestream.core.reports import ReportedAccount, ReportIn
from safestream.store import audit
from safestream.store.access import User, add_user, create_org
from safestream.store.queues import QueueRepository
from tests.web.conftest import LIGHT_ARGON2, ORG, PASSWORD, Console


def _report(account: str) -> ReportIn:
    return ReportIn(
        reported_accounts=[ReportedAccount(platform="examplecall", id=account)],
        description="Stand-in report.",
    )


def _colleague(console: Console, email: str = "colleague@example.org", org: str = ORG) -> User:
    return add_user(
        console.db, email, org=org, role="reviewer", password=PASSWORD, hasher=LIGHT_ARGON2
    )


def _bulk(console: Console, action: str, cases: list[int], **form: str) -> httpx.Response:
    token = console.csrf("/console/queue")
    data: dict[str, str | list[str]] = {
        "action": action, "case": [str(c) for c in cases], "csrf_token": token, **form
    }  # fmt: skip
    return console.client.post("/console/queue/bulk", data=data)


def _waiting(console: Console) -> list[int]:
    page = console.client.get("/console/queue").text
    return [int(n) for n in re.findall(r'<a href="/console/cases/(\d+)">#', page)]


def test_a_bulk_action_asks_for_confirmation_and_changes_nothing_yet(console: Console) -> None:
    cases = [console.file(_report(f"a-{n}"))[1] for n in range(3)]
    console.login("reviewer")
    answer = _bulk(console, "dismiss", cases[:2])
    assert answer.status_code == 200
    assert "Dismiss (closes each case): 2 cases?" in answer.text
    assert "Confirm: dismiss 2" in answer.text
    assert _waiting(console) == cases


def test_confirmed_claim_gives_every_ticked_case_to_the_reviewer(
    console_on_each_store: Console,
) -> None:
    console = console_on_each_store
    cases = [console.file(_report(f"c-{n}"))[1] for n in range(3)]
    console.login("reviewer")
    answer = _bulk(console, "claim", cases[:2], confirmed="yes")
    assert "Claim: 2 of 2 done" in answer.text
    assert _waiting(console) == cases[2:]
    mine = console.client.get("/console/queue?claimed=me").text
    assert [int(n) for n in re.findall(r'<a href="/console/cases/(\d+)">#', mine)][-2:] == cases[:2]


def test_a_case_held_by_another_reviewer_is_reported_and_the_rest_proceed(
    console_on_each_store: Console,
) -> None:
    console = console_on_each_store
    taken = console.file(_report("taken"))[1]
    free = console.file(_report("free"))[1]
    assert QueueRepository(console.db).claim_next(_colleague(console).principal, None) is not None
    console.login("reviewer")
    answer = _bulk(console, "dismiss", [taken, free], confirmed="yes").text
    assert "Dismiss: 1 of 2 done" in answer
    assert f"#{taken}</a></td><td><strong>not done</strong>: case {taken} is claimed by" in answer
    dismissed = console.client.get("/console/queue?status=dismissed").text
    assert f'href="/console/cases/{free}">#{free}' in dismissed


def test_assign_gives_the_cases_to_a_colleague_and_audits_it(console: Console) -> None:
    cases = [console.file(_report(f"s-{n}"))[1] for n in range(2)]
    colleague = _colleague(console)
    console.login("reviewer")
    answer = _bulk(console, "assign", cases, assignee=str(colleague.id), confirmed="yes").text
    assert "Assign: 2 of 2 done" in answer
    held = console.client.get(f"/console/queue?claimed={colleague.id}").text
    assert all(f'href="/console/cases/{c}">#{c}' in held for c in cases)
    [entry] = audit.entries(console.db, Principal.system("test"), subject=f"case:{cases[0]}")[:1]
    assert entry.action == "case.assign" and entry.details == {"to": colleague.email}


def test_cases_cannot_be_assigned_outside_the_organisation(console: Console) -> None:
    case_id = console.file(_report("outside"))[1]
    create_org(console.db, "Acme Video")
    outsider = _colleague(console, "outsider@example.org", org="Acme Video")
    console.login("reviewer")
    answer = _bulk(console, "assign", [case_id], assignee=str(outsider.id), confirmed="yes")
    assert answer.status_code == 422
    assert _waiting(console) == [case_id]


def test_nothing_ticked_is_a_clear_error(console: Console) -> None:
    console.login("reviewer")
    answer = _bulk(console, "claim", [])
    assert answer.status_code == 422
    assert "tick its box" in answer.text


def test_a_bulk_action_without_the_csrf_token_changes_nothing(console: Console) -> None:
    case_id = console.file(_report("csrf"))[1]
    console.login("reviewer")
    data = {"action": "dismiss", "case": str(case_id), "confirmed": "yes"}
    assert console.client.post("/console/queue/bulk", data=data).status_code == 403
    assert _waiting(console) == [case_id]


def test_an_auditor_may_not_act_in_bulk(console: Console) -> None:
    case_id = console.file(_report("auditor"))[1]
    console.login("auditor")
    token = console.csrf("/console/audit")
    data = {"action": "dismiss", "case": str(case_id), "confirmed": "yes", "csrf_token": token}
    assert console.client.post("/console/queue/bulk", data=data).status_code == 403


def test_the_way_back_leads_only_to_a_queue_view(console: Console) -> None:
    case_id = console.file(_report("back"))[1]
    console.login("reviewer")
    kept = _bulk(console, "claim", [case_id], back="/console/queue?priority=3").text
    assert 'href="/console/queue?priority=3">Cancel' in kept
    elsewhere = _bulk(console, "claim", [case_id], back="https://evil.example/").text
    assert 'href="/console/queue">Cancel' in elsewhere

"""The queue at volume: one view across queues, urgent pinned, keyset pages, filters and search."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import update

from safestream.cases.review import record_decision
from safestream.core.cases import Decision
from safestream.core.principal import Principal
from safestream.core.reports import LiveStream, ReportedAccount, ReportIn, ReportSource
from safestream.store.access import add_user, create_org, get_org
from safestream.store.base import utcnow
from safestream.store.case_facets import reporting_orgs
from safestream.store.models.cases import CaseRow
from safestream.store.queues import QueueRepository
from tests.web.conftest import LIGHT_ARGON2, ORG, PASSWORD, Console


def _report(account: str, *, danger: bool = False) -> ReportIn:
    return ReportIn(
        source=ReportSource.PANIC_BUTTON if danger else ReportSource.PLATFORM,
        reported_accounts=[ReportedAccount(platform="examplecall", id=account)],
        description="Stand-in report.",
        child_in_danger=danger,
        live_stream=LiveStream(stream_id=f"stream-{account}") if danger else None,
    )


def _case_ids(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<a href="/console/cases/(\d+)">#', html)]


def test_landing_view_spans_queues_with_the_child_in_danger_case_pinned_first(
    console: Console,
) -> None:
    _, calm = console.file(_report("calm"))
    _, urgent = console.file(_report("danger", danger=True))
    console.login("reviewer")
    page = console.client.get("/console/queue").text
    assert _case_ids(page) == [urgent, calm]
    assert 'class="pinned"' in page


def test_next_page_continues_where_the_first_ended(console_on_each_store: Console) -> None:
    console = console_on_each_store
    filed = [console.file(_report(f"acct-{n}"))[1] for n in range(55)]
    console.login("reviewer")
    first = console.client.get("/console/queue").text
    next_url = re.search(r'rel="next" href="([^"]+)"', first)
    assert next_url is not None
    second = console.client.get(next_url.group(1).replace("&amp;", "&")).text
    assert _case_ids(first) + _case_ids(second) == filed
    assert 'rel="next"' not in second


def test_dismissed_cases_are_findable_by_status(console: Console) -> None:
    _, kept = console.file(_report("kept"))
    _, dismissed = console.file(_report("dismissed"))
    record_decision(console.db, Principal.system("test"), dismissed, Decision.DISMISS)
    console.login("reviewer")
    assert _case_ids(console.client.get("/console/queue").text) == [kept]
    found = console.client.get("/console/queue?status=dismissed").text
    assert _case_ids(found) == [dismissed]


def test_search_finds_the_case_holding_an_account(console_on_each_store: Console) -> None:
    console = console_on_each_store
    console.file(_report("someone-else"))
    _, wanted = console.file(_report("needle-account"))
    console.login("reviewer")
    found = console.client.get("/console/queue?search=examplecall:needle-account&status=any").text
    assert _case_ids(found) == [wanted]


def test_filter_by_source_keeps_only_cases_with_such_a_report(console: Console) -> None:
    console.file(_report("calm"))
    _, panic = console.file(_report("danger", danger=True))
    console.login("reviewer")
    found = console.client.get("/console/queue?source=panic_button").text
    assert _case_ids(found) == [panic]


def test_a_forged_page_link_is_a_clear_error(console: Console) -> None:
    console.login("reviewer")
    answer = console.client.get("/console/queue?after=not-a-key")
    assert answer.status_code == 422
    assert "page link is not valid" in answer.text


def test_a_claimed_case_leaves_the_waiting_view_and_shows_under_held(console: Console) -> None:
    _, case_id = console.file(_report("held"))
    console.login("reviewer")
    token = console.csrf("/console/queue")
    console.client.post("/console/queue/claim", data={"queue": "", "csrf_token": token})
    assert _case_ids(console.client.get("/console/queue").text) == []
    assert _case_ids(console.client.get("/console/queue?status=held").text) == [case_id]


def test_age_filter_keeps_only_cases_waiting_longer(console: Console) -> None:
    console.file(_report("fresh"))
    _, old = console.file(_report("old"))
    with console.db.session() as s:
        s.execute(
            update(CaseRow)
            .where(CaseRow.id == old)
            .values(created_at=utcnow() - timedelta(hours=2))
        )
    console.login("reviewer")
    assert _case_ids(console.client.get("/console/queue?age=1h").text) == [old]


def _file_as(console: Console, org: str, report: ReportIn) -> int:
    app = console.client.app
    stored = app.state.intake.receive(get_org(console.db, org), report)  # type: ignore[attr-defined]
    return int(app.state.engine.process([stored.report.id])[stored.report.id])  # type: ignore[attr-defined]


def test_filter_by_organisation_keeps_cases_holding_its_reports(
    console_on_each_store: Console,
) -> None:
    console = console_on_each_store
    other = create_org(console.db, "Other Platform")
    console.file(_report("ours"))
    theirs = _file_as(console, other.name, _report("theirs"))
    console.login("reviewer")
    page = console.client.get(f"/console/queue?org={other.id}").text
    assert _case_ids(page) == [theirs]
    assert f'<option value="{other.id}" selected>Other Platform</option>' in page


def test_an_agency_is_offered_only_organisations_of_reports_it_may_see(console: Console) -> None:
    referred_org = create_org(console.db, "Referred Platform")
    create_org(console.db, "Unseen Platform")
    referred = _file_as(console, referred_org.name, _report("referred"))
    _file_as(console, "Unseen Platform", _report("unseen"))
    create_org(console.db, "NCA", kind="agency", agency_code="UK-NCA")
    record_decision(console.db, Principal.system("test"), referred, "refer", agency="UK-NCA")
    agent = add_user(
        console.db, "agent@example.org", org="NCA", role="reviewer", password=PASSWORD,
        hasher=LIGHT_ARGON2,
    )  # fmt: skip
    offered = [c.label for c in reporting_orgs(console.db, agent.principal)]
    assert offered == ["Referred Platform"]
    everyone = [c.label for c in reporting_orgs(console.db, Principal.system("test"))]
    assert "Unseen Platform" in everyone


def test_filter_by_claimant_lists_what_each_person_holds(console_on_each_store: Console) -> None:
    console = console_on_each_store
    _, mine = console.file(_report("mine"))
    _, colleagues = console.file(_report("colleagues"))
    _, nobodys = console.file(_report("nobodys"))
    console.login("reviewer")
    token = console.csrf("/console/queue")
    console.client.post("/console/queue/claim", data={"queue": "", "csrf_token": token})
    colleague = add_user(
        console.db, "colleague@example.org", org=ORG, role="reviewer", password=PASSWORD,
        hasher=LIGHT_ARGON2,
    )  # fmt: skip
    assert QueueRepository(console.db).claim_next(colleague.principal, None) is not None
    assert _case_ids(console.client.get("/console/queue?claimed=me").text) == [mine]
    by_colleague = console.client.get(f"/console/queue?claimed={colleague.id}").text
    assert _case_ids(by_colleague) == [colleagues]
    assert "colleague@example.org</option>" in by_colleague
    assert _case_ids(console.client.get("/console/queue?claimed=nobody").text) == [nobodys]


def test_filter_by_another_agency_lists_deconflicted_cases(console: Console) -> None:
    _, held = console.file(_report("held-elsewhere"))
    console.file(_report("ours"))
    with console.db.session() as s:
        s.execute(update(CaseRow).where(CaseRow.id == held).values(claimed_elsewhere_by="NCA"))
    console.login("reviewer")
    assert _case_ids(console.client.get("/console/queue?claimed=elsewhere").text) == [held]


def test_a_held_case_says_who_holds_it(console: Console) -> None:
    _, case_id = console.file(_report("held-by-colleague"))
    colleague = add_user(
        console.db, "holder@example.org", org=ORG, role="reviewer", password=PASSWORD,
        hasher=LIGHT_ARGON2,
    )  # fmt: skip
    assert QueueRepository(console.db).claim_next(colleague.principal, None) is not None
    console.login("reviewer")
    page = console.client.get("/console/queue?status=held").text
    assert f"#{case_id}</a></td>" in page
    assert "open · claimed by holder@example.org</td>" in page

"""The queue page: priority then age, claim next, and two reviewers never holding one case."""

from __future__ import annotations

import re

from safestream.core.reports import LiveStream, ReportedAccount, ReportIn, ReportSource
from tests.web.conftest import Console


def _report(account: str, *, danger: bool = False) -> ReportIn:
    return ReportIn(
        source=ReportSource.PANIC_BUTTON if danger else ReportSource.PLATFORM,
        reported_accounts=[ReportedAccount(platform="examplecall", id=account)],
        description="Stand-in report.",
        child_in_danger=danger,
        live_stream=LiveStream(stream_id=f"stream-{account}") if danger else None,
    )


def _claim(console: Console, queue: str) -> str:
    token = console.csrf(f"/console/queue?q={queue}")
    answer = console.client.post("/console/queue/claim", data={"queue": queue, "csrf_token": token})
    assert answer.status_code == 200
    return answer.url.path


def test_queue_lists_cases_most_urgent_first_then_oldest(console: Console) -> None:
    _, old_case = console.file(_report("old"))
    _, new_case = console.file(_report("new"))
    console.login("reviewer")
    page = console.client.get("/console/queue?q=review").text
    order = [int(n) for n in re.findall(r'href="/console/cases/(\d+)"', page)]
    assert order == [old_case, new_case]


def test_claim_next_opens_the_most_urgent_case(console_on_each_store: Console) -> None:
    console = console_on_each_store
    console.file(_report("calm"))
    _, urgent = console.file(_report("danger", danger=True))
    console.login("reviewer")
    queues = console.client.get("/console/queue").text
    assert "urgent" in queues
    assert _claim(console, "urgent") == f"/console/cases/{urgent}"


def test_two_reviewers_claiming_get_different_cases(console_on_each_store: Console) -> None:
    console = console_on_each_store
    _, first = console.file(_report("a"))
    _, second = console.file(_report("b"))
    console.login("reviewer")
    got_first = _claim(console, "review")
    console.login("child_safety_reviewer")
    got_second = _claim(console, "review")
    assert {got_first, got_second} == {f"/console/cases/{first}", f"/console/cases/{second}"}


def test_claiming_an_empty_queue_says_so(console: Console) -> None:
    console.login("reviewer")
    assert _claim(console, "review") == "/console/queue"


def test_claim_without_csrf_token_is_rejected(console: Console) -> None:
    console.file(_report("a"))
    console.login("reviewer")
    answer = console.client.post("/console/queue/claim", data={"queue": "review"})
    assert answer.status_code == 403
    assert "CSRF" in answer.text


def test_auditor_may_not_open_the_queue(console: Console) -> None:
    console.login("auditor")
    answer = console.client.get("/console/queue")
    assert answer.status_code == 403
    assert "auditor may not" in answer.text


def test_cases_claimed_by_the_reviewer_are_listed_for_them_only(console: Console) -> None:
    _, case_id = console.file(_report("a"))
    console.login("reviewer")
    _claim(console, "review")
    page = console.client.get("/console/queue").text
    assert "Claimed by you" in page and f"Case #{case_id}" in page
    console.login("child_safety_reviewer")
    assert "Claimed by you" not in console.client.get("/console/queue").text

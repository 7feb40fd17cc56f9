"""The case page: what a reviewer sees of a case, and notes and decisions taken from it."""

from __future__ import annotations

import re

from safestream.core.reports import (
    LiveStream,
    LocationHint,
    Platform,
    ReportedAccount,
    ReportIn,
    ReportSource,
)
from tests.web.conftest import Console


def _report(stream: str, account: str, *, danger: bool = False) -> ReportIn:
    return ReportIn(
        source=ReportSource.PANIC_BUTTON if danger else ReportSource.PLATFORM,
        platform=Platform(name="ExampleCall", country="US"),
        reported_accounts=[ReportedAccount(platform="examplecall", id=account)],
        description=f"Stand-in report about {account}.",
        child_in_danger=danger,
        live_stream=LiveStream(stream_id=stream),
        location_hints=[LocationHint(country="PH", source="ip")],
    )


def _decide(console: Console, case_id: int, **form: str) -> str:
    token = console.csrf(f"/console/cases/{case_id}")
    answer = console.client.post(
        f"/console/cases/{case_id}/decisions", data={**form, "csrf_token": token}
    )
    return answer.text if answer.status_code == 200 else f"{answer.status_code}: {answer.text}"


def test_two_reports_on_one_stream_are_one_case_drawn_with_the_shared_stream(
    console: Console,
) -> None:
    first, case_id = console.file(_report("call-7", "host"))
    second, same_case = console.file(_report("call-7", "guest"))
    assert same_case == case_id
    console.login("reviewer")
    page = console.client.get(f"/console/cases/{case_id}").text
    assert f"report {first[:8]}" in page and f"report {second[:8]}" in page
    svg = page[page.index("<svg") : page.index("</svg>")]
    assert svg.count("<line") == 4  # the shared stream to both reports, one account each
    assert 'stroke="#1f2328"' in svg  # the shared stream node is ringed


def test_case_page_shows_priority_rules_that_fired_and_routing(console: Console) -> None:
    _, case_id = console.file(_report("call-8", "host", danger=True))
    console.login("reviewer")
    page = console.client.get(f"/console/cases/{case_id}").text
    assert '<span class="prio p1">P1</span>' in page
    assert "child_in_danger_panic" in page
    assert "PNP-WCPC" in page and "NCMEC" in page


def test_note_is_added_and_shown(console: Console) -> None:
    _, case_id = console.file(_report("call-9", "host"))
    console.login("reviewer")
    token = console.csrf(f"/console/cases/{case_id}")
    answer = console.client.post(
        f"/console/cases/{case_id}/notes",
        data={"body": "Checked the stream metadata.", "csrf_token": token},
    )
    assert "Note added." in answer.text
    assert "Checked the stream metadata." in answer.text


def test_confirm_closes_the_case_and_records_who_decided(console: Console) -> None:
    _, case_id = console.file(_report("call-10", "host"))
    console.login("reviewer")
    page = _decide(console, case_id, decision="confirm", reason="Matches the report.")
    assert "Decision recorded." in page
    assert '<span class="pill">closed</span>' in page
    assert "reviewer@example.org" in page


def test_referral_names_the_chosen_agency(console: Console) -> None:
    _, case_id = console.file(_report("call-11", "host"))
    console.login("reviewer")
    page = _decide(console, case_id, decision="refer", agency="PNP-WCPC", reason="Location PH.")
    assert "→ PNP-WCPC" in page


def test_escalation_without_a_reason_is_refused_and_names_the_field(console: Console) -> None:
    _, case_id = console.file(_report("call-12", "host"))
    console.login("reviewer")
    page = _decide(console, case_id, decision="escalate")
    assert page.startswith("422")
    assert 'id="reason-error">Say why the case is escalated.</p>' in page
    assert 'aria-invalid="true" aria-describedby="reason-error"' in page


def test_a_refused_decision_shows_the_case_again_with_what_was_typed(console: Console) -> None:
    _, case_id = console.file(_report("call-12b", "host"))
    console.login("reviewer")
    typed = "Second look <b>needed</b>"
    page = _decide(console, case_id, decision="refer", agency="", reason=typed)
    assert page.startswith("422")
    assert f"Case #{case_id}" in page and "Cannot do that" not in page
    assert "Second look &lt;b&gt;needed&lt;/b&gt;</textarea>" in page
    assert 'id="agency-error">Name the agency the case is referred to.</p>' in page
    assert '<span class="pill">open</span>' in page


def test_a_refused_decision_keeps_the_chosen_agency(console: Console) -> None:
    _, case_id = console.file(_report("call-12c", "host"))
    console.login("reviewer")
    page = _decide(console, case_id, decision="escalate", agency="NCMEC", reason="")
    assert '<option value="NCMEC" selected>' in page


def test_decision_without_csrf_token_changes_nothing(console: Console) -> None:
    _, case_id = console.file(_report("call-13", "host"))
    console.login("reviewer")
    answer = console.client.post(
        f"/console/cases/{case_id}/decisions", data={"decision": "dismiss"}
    )
    assert answer.status_code == 403
    page = console.client.get(f"/console/cases/{case_id}").text
    assert '<span class="pill">open</span>' in page


def test_auditor_may_not_open_a_case_or_decide(console: Console) -> None:
    _, case_id = console.file(_report("call-14", "host"))
    console.login("auditor")
    assert console.client.get(f"/console/cases/{case_id}").status_code == 403
    token = console.csrf("/console/audit")
    answer = console.client.post(
        f"/console/cases/{case_id}/decisions", data={"decision": "dismiss", "csrf_token": token}
    )
    assert answer.status_code == 403


def test_unknown_case_is_a_404_page(console: Console) -> None:
    console.login("reviewer")
    answer = console.client.get("/console/cases/999")
    assert answer.status_code == 404
    assert "Not found" in answer.text


def test_case_opened_in_the_console_is_in_the_audit_log(console: Console) -> None:
    _, case_id = console.file(_report("call-15", "host"))
    console.login("reviewer")
    console.client.get(f"/console/cases/{case_id}")
    console.login("auditor")
    log = console.client.get(f"/console/audit?subject=case:{case_id}").text
    assert re.search(r"reviewer@example.org</td>\s*<td><span class=\"pill\">case.open", log)


def test_claimed_case_can_be_released_back_to_the_queue(console: Console) -> None:
    _, case_id = console.file(_report("call-16", "host"))
    console.login("reviewer")
    token = console.csrf("/console/queue?q=review")
    console.client.post("/console/queue/claim", data={"queue": "review", "csrf_token": token})
    row = f'href="/console/cases/{case_id}">#{case_id}</a>'  # a row of the queue table
    assert row not in console.client.get("/console/queue?q=review").text
    token = console.csrf(f"/console/cases/{case_id}")
    answer = console.client.post(f"/console/cases/{case_id}/release", data={"csrf_token": token})
    assert "Case released" in answer.text
    assert row in answer.text


def test_case_held_by_another_agency_is_marked_and_leaves_the_queue(console: Console) -> None:
    _, case_id = console.file(_report("call-17", "host"))
    console.login("reviewer")
    token = console.csrf(f"/console/cases/{case_id}")
    answer = console.client.post(
        f"/console/cases/{case_id}/claimed-elsewhere",
        data={"claimed_by": "NCA", "reference": "NCA-2026-118", "csrf_token": token},
    )
    assert "already held by <strong>NCA</strong>" in answer.text
    row = f'href="/console/cases/{case_id}">#{case_id}</a>'
    assert row not in console.client.get("/console/queue?q=review").text


def test_text_from_reports_is_escaped_not_run(console: Console) -> None:
    hostile = _report("call-18", '<img src=x onerror="alert(1)">').model_copy(
        update={"description": "<script>alert('x')</script>"}
    )
    _, case_id = console.file(hostile)
    console.login("reviewer")
    page = console.client.get(f"/console/cases/{case_id}").text
    assert "<script>alert" not in page and "&lt;script&gt;alert" in page
    assert '<img src=x onerror="alert(1)">' not in page


def test_graph_nodes_lead_to_the_report_and_to_every_case_holding_an_identifier(
    console: Console,
) -> None:
    first, case_id = console.file(_report("call-19", "host-19"))
    second, _ = console.file(_report("call-19", "guest-19"))
    console.login("reviewer")
    page = console.client.get(f"/console/cases/{case_id}").text
    svg = page[page.index("<svg") : page.index("</svg>")]
    assert f'<a href="#report-{first}">' in svg and f'<a href="#report-{second}">' in svg
    assert '<a href="/console/queue?status=any&amp;search=stream%3Acall-19">' in svg
    table = page[page.index('<details class="graph-table">') :]
    stream_row = table[table.index("stream: call-19") :].split("</tr>", 1)[0]
    assert f'href="#report-{first}"' in stream_row and f'href="#report-{second}"' in stream_row
    found = console.client.get("/console/queue?status=any&search=stream%3Acall-19").text
    assert f'<a href="/console/cases/{case_id}">#{case_id}</a>' in found

"""Console: a case goes to the (local test) CyberTipline and NCMEC's report id shows on it."""

from __future__ import annotations

import re

import pytest

from safestream.core.config import Settings
from tests.reports.ncmec_server import running_test_server
from tests.web.conftest import Console, photo_report


def _report_case(console: Console, case_id: int) -> str:
    token = console.csrf(f"/console/cases/{case_id}")
    answer = console.client.post(f"/console/cases/{case_id}/cybertip", data={"csrf_token": token})
    assert answer.status_code == 200, answer.text
    return answer.text


def test_a_case_is_reported_from_the_console_and_its_ncmec_id_appears_on_it(
    console: Console, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, case_id = console.file(photo_report("call-31", matched=True))
    console.login("child_safety_reviewer")
    with running_test_server(monkeypatch) as server:
        # The console reads its settings once, when it starts: start it again with these.
        state = console.client.app.state  # type: ignore[attr-defined]
        monkeypatch.setattr(state, "settings", Settings.load())
        monkeypatch.setattr(state, "console_environment", None, raising=False)
        _report_case(console, case_id)
        page = console.client.get(f"/console/cases/{case_id}").text
    (report_id,) = server.reports
    assert server.reports[report_id].finished and len(server.reports[report_id].files) == 1
    shown = re.findall(r'data-ncmec-report-id="(\d+)"', page)
    assert shown == [str(report_id)]
    assert "finished" in page and "evidence held one year" in page


def test_without_credentials_the_console_says_what_to_set(
    console: Console, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SAFESTREAM_NCMEC_TEST_USERNAME", raising=False)
    _, case_id = console.file(photo_report("call-32"))
    console.login("reviewer")
    token = console.csrf(f"/console/cases/{case_id}")
    answer = console.client.post(f"/console/cases/{case_id}/cybertip", data={"csrf_token": token})
    assert "SAFESTREAM_NCMEC_TEST_USERNAME" in answer.text

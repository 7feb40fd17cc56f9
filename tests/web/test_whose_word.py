"""The case page says whose word raised a case: each asserted fact with its senders."""

from __future__ import annotations

import html
import re

from safestream.core.reports import ReportIn
from safestream.store.access import create_org, get_org
from tests.web.conftest import ORG, Console, photo_report

OTHER = "Other Platform"


def _whose_word(console: Console, case_id: int) -> list[str]:
    page = console.client.get(f"/console/cases/{case_id}").text
    block = re.search(r'<ul class="asserted"[^>]*>(.*?)</ul>', page, re.S)
    assert block is not None, "no 'Whose word' list on the case page"
    return [html.unescape(item).strip() for item in re.findall(r"<li>(.*?)</li>", block.group(1))]


def test_each_priority_raising_fact_names_the_organisations_that_said_it(console: Console) -> None:
    create_org(console.db, OTHER)
    _, case_id = console.file(photo_report("call-1", account="shared-1"))
    app = console.client.app
    danger = ReportIn.model_validate(
        {
            "reported_accounts": [{"platform": "examplecall", "id": "shared-1"}],
            "child_in_danger": True,
            "location_hints": [{"country": "TH", "source": "ip"}],
        }
    )
    stored = app.state.intake.receive(get_org(console.db, OTHER), danger)  # type: ignore[attr-defined]
    app.state.engine.process([stored.report.id])  # type: ignore[attr-defined]
    console.login("reviewer")
    lines = _whose_word(console, case_id)
    assert "child in danger now: said by Other Platform" in lines
    assert "in TH: said by Other Platform" in lines
    assert f"stream live when reported: said by {ORG}" in lines


def test_a_case_nobody_asserted_anything_about_has_no_list(console: Console) -> None:
    quiet = ReportIn.model_validate(
        {"reported_accounts": [{"platform": "examplecall", "id": "quiet-1"}]}
    )
    app = console.client.app
    stored = app.state.intake.receive(get_org(console.db, ORG), quiet)  # type: ignore[attr-defined]
    case_id = app.state.engine.process([stored.report.id])[stored.report.id]  # type: ignore[attr-defined]
    console.login("reviewer")
    assert "Whose word" not in console.client.get(f"/console/cases/{case_id}").text

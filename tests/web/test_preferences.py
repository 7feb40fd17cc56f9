"""Per-user wellbeing preferences: safe defaults, saving, and a budget reviewers only lower."""

from __future__ import annotations

import re

from tests.web.conftest import Console, photo_report


def _save(console: Console, **form: str) -> tuple[int, str]:
    token = console.csrf("/console/preferences")
    answer = console.client.post("/console/preferences", data={**form, "csrf_token": token})
    return answer.status_code, answer.text


def _checked(page: str) -> set[str]:
    return set(re.findall(r'name="(\w+)" value="true" checked', page))


def test_defaults_are_blurred_grayscale_and_muted(console: Console) -> None:
    console.login("child_safety_reviewer")
    page = console.client.get("/console/preferences").text
    assert _checked(page) == {"blur", "grayscale", "muted"}


def test_saved_preferences_are_shown_again(console: Console) -> None:
    console.login("child_safety_reviewer")
    status, page = _save(console, blur="true", exposure_budget="10")
    assert status == 200 and "Preferences saved." in page
    assert _checked(page) == {"blur"}
    assert 'value="10"' in page


def test_opened_file_is_blurred_but_in_colour_when_grayscale_is_off(console: Console) -> None:
    _, case_id = console.file(photo_report("s-1"))
    console.login("child_safety_reviewer")
    _save(console, blur="true", muted="true", exposure_budget="20")
    [evidence_id] = console.evidence_ids(case_id)
    token = console.csrf(f"/console/cases/{case_id}")
    page = console.client.post(
        f"/console/cases/{case_id}/media/{evidence_id}/open", data={"csrf_token": token}
    ).text
    assert 'class="media viewer wb-blur "' in page  # blurred, not grayscale


def test_reviewer_may_not_raise_the_budget_above_the_default(console: Console) -> None:
    console.login("child_safety_reviewer")
    status, page = _save(console, blur="true", exposure_budget="100")
    assert status == 422 and "at most 20" in page


def test_administrator_may_set_a_higher_budget(console: Console) -> None:
    console.login("admin")
    status, page = _save(console, blur="true", exposure_budget="100")
    assert status == 200 and 'value="100"' in page


def test_preferences_without_csrf_token_are_not_saved(console: Console) -> None:
    console.login("child_safety_reviewer")
    answer = console.client.post("/console/preferences", data={"exposure_budget": "5"})
    assert answer.status_code == 403
    assert 'value="20"' in console.client.get("/console/preferences").text

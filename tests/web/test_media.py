"""Evidence in the console: who sees what, hash-first hiding, exposure budget, views recorded."""

from __future__ import annotations

import base64
import io
import re

from PIL import Image

from safestream.cases.wellbeing import Preferences, media_views, set_preferences
from safestream.core.principal import Principal
from safestream.core.reports import MediaFile
from safestream.store.access import list_users
from tests.web.conftest import Console, email_of, mp4_clip, photo_report

SYSTEM = Principal.system("test")


def _open(console: Console, case_id: int, evidence_id: str, reason: str = "") -> tuple[int, str]:
    token = console.csrf(f"/console/cases/{case_id}")
    answer = console.client.post(
        f"/console/cases/{case_id}/media/{evidence_id}/open",
        data={"reason": reason, "csrf_token": token},
    )
    return answer.status_code, answer.text


def _case_with_photo(console: Console, *, matched: bool = False, stream: str = "s-1") -> int:
    _, case_id = console.file(photo_report(stream, matched=matched, account=stream))
    return case_id


def _budget(console: Console, role: str, files: int) -> None:
    user = next(u for u in list_users(console.db) if u.email == email_of(role))
    set_preferences(console.db, user.principal, Preferences(exposure_budget=files))


def test_child_safety_reviewer_sees_a_blurred_grayscale_preview_not_the_file(
    console: Console,
) -> None:
    case_id = _case_with_photo(console)
    console.login("child_safety_reviewer")
    page = console.client.get(f"/console/cases/{case_id}").text
    [evidence_id] = re.findall(r'src="/console/media/([0-9a-f-]{36})/preview"', page)
    preview = console.client.get(f"/console/media/{evidence_id}/preview")
    image = Image.open(io.BytesIO(preview.content))
    assert preview.headers["content-type"] == "image/png"
    assert image.mode == "L" and max(image.size) <= 96
    assert "data:image/png;base64" not in page


def test_preview_is_not_counted_as_a_view(console: Console) -> None:
    case_id = _case_with_photo(console)
    console.login("child_safety_reviewer")
    [evidence_id] = console.evidence_ids(case_id)
    console.client.get(f"/console/media/{evidence_id}/preview")
    assert media_views(console.db, SYSTEM, evidence_id) == []


def test_opening_a_file_records_who_and_when_and_shows_it_filtered(console: Console) -> None:
    case_id = _case_with_photo(console)
    console.login("child_safety_reviewer")
    [evidence_id] = console.evidence_ids(case_id)
    status, page = _open(console, case_id, evidence_id)
    assert status == 200
    assert "data:image/png;base64," in page
    assert "wb-blur" in page and "wb-grayscale" in page
    [(who, _when, _why)] = media_views(console.db, SYSTEM, evidence_id)
    assert who == email_of("child_safety_reviewer")


def test_opened_file_appears_in_the_audit_log_with_its_reader(console: Console) -> None:
    case_id = _case_with_photo(console)
    console.login("child_safety_reviewer")
    [evidence_id] = console.evidence_ids(case_id)
    _open(console, case_id, evidence_id, reason="check the frame")
    console.login("auditor")
    log = console.client.get(f"/console/audit?subject=evidence:{evidence_id}").text
    assert "evidence.view" in log
    assert email_of("child_safety_reviewer") in log
    assert "check the frame" in log


def test_plain_reviewer_gets_neither_preview_nor_file(console: Console) -> None:
    case_id = _case_with_photo(console)
    console.login("reviewer")
    page = console.client.get(f"/console/cases/{case_id}").text
    assert "File restricted to child-safety reviewers" in page
    assert "/preview" not in page and "Open file" not in page
    [evidence_id] = re.findall(r'id="media-([0-9a-f-]{36})"', page)
    assert console.client.get(f"/console/media/{evidence_id}/preview").status_code == 403
    status, _ = _open(console, case_id, evidence_id, reason="curious")
    assert status == 403
    assert media_views(console.db, SYSTEM, evidence_id) == []


def test_hash_matched_file_is_shown_only_as_hash_and_label(console: Console) -> None:
    case_id = _case_with_photo(console, matched=True)
    console.login("child_safety_reviewer")
    page = console.client.get(f"/console/cases/{case_id}").text
    assert "shown by hash only" in page and "<strong>A1</strong>" in page
    assert "/preview" not in page
    [evidence_id] = console.evidence_ids(case_id)
    assert console.client.get(f"/console/media/{evidence_id}/preview").status_code == 403


def test_hash_matched_file_opens_only_with_a_reason(console: Console) -> None:
    case_id = _case_with_photo(console, matched=True)
    console.login("child_safety_reviewer")
    [evidence_id] = console.evidence_ids(case_id)
    status, page = _open(console, case_id, evidence_id)
    assert status == 422 and "reason" in page
    assert media_views(console.db, SYSTEM, evidence_id) == []
    status, _ = _open(console, case_id, evidence_id, reason="confirm the bank label")
    assert status == 200
    [(_who, _when, why)] = media_views(console.db, SYSTEM, evidence_id)
    assert why == "confirm the bank label"


def test_spent_exposure_budget_asks_for_a_break_and_shows_nothing(
    console_on_each_store: Console,
) -> None:
    console = console_on_each_store
    cases = [_case_with_photo(console, stream=f"s-{i}") for i in range(3)]
    console.login("child_safety_reviewer")
    _budget(console, "child_safety_reviewer", 2)
    token = console.csrf("/console/break")
    console.client.post("/console/break", data={"csrf_token": token})  # new shift, new budget
    opened = [_open(console, c, console.evidence_ids(c)[0]) for c in cases]
    assert [status for status, _ in opened] == [200, 200, 429]
    assert "Time for a break" in opened[2][1]
    assert "data:image/png;base64," not in opened[2][1]
    assert media_views(console.db, SYSTEM, console.evidence_ids(cases[2])[0]) == []


def test_break_starts_a_new_shift_with_a_fresh_budget(console: Console) -> None:
    cases = [_case_with_photo(console, stream=f"s-{i}") for i in range(2)]
    console.login("child_safety_reviewer")
    _budget(console, "child_safety_reviewer", 1)
    token = console.csrf("/console/break")
    console.client.post("/console/break", data={"csrf_token": token})
    assert _open(console, cases[0], console.evidence_ids(cases[0])[0])[0] == 200
    assert _open(console, cases[1], console.evidence_ids(cases[1])[0])[0] == 429
    token = console.csrf("/console/break")
    answer = console.client.post("/console/break", data={"csrf_token": token})
    assert "A new shift has started" in answer.text
    assert _open(console, cases[1], console.evidence_ids(cases[1])[0])[0] == 200


def test_logging_in_again_does_not_reset_the_exposure_count(
    console_on_each_store: Console,
) -> None:
    console = console_on_each_store
    case_id = _case_with_photo(console)
    console.login("child_safety_reviewer")
    [evidence_id] = console.evidence_ids(case_id)
    _open(console, case_id, evidence_id)
    console.login("child_safety_reviewer")
    page = console.client.get("/console/preferences").text
    assert "Files opened: 1 of 20" in page


def test_open_without_csrf_token_shows_nothing_and_records_nothing(console: Console) -> None:
    case_id = _case_with_photo(console)
    console.login("child_safety_reviewer")
    [evidence_id] = console.evidence_ids(case_id)
    answer = console.client.post(f"/console/cases/{case_id}/media/{evidence_id}/open", data={})
    assert answer.status_code == 403
    assert media_views(console.db, SYSTEM, evidence_id) == []


def test_case_page_lists_who_opened_each_file(console: Console) -> None:
    case_id = _case_with_photo(console)
    console.login("child_safety_reviewer")
    [evidence_id] = console.evidence_ids(case_id)
    _open(console, case_id, evidence_id, reason="check the frame")
    console.login("reviewer")
    page = console.client.get(f"/console/cases/{case_id}").text
    assert "Seen by" in page
    assert f"{email_of('child_safety_reviewer')}," in page and "check the frame" in page


def test_video_evidence_gets_a_blurred_preview_and_opens_muted(console: Console) -> None:
    clip = MediaFile(
        filename="buffer.mp4",
        content_type="video/mp4",
        data_base64=base64.b64encode(mp4_clip()).decode(),
    )
    report = photo_report("s-video").model_copy(update={"media": [clip]})
    _, case_id = console.file(report)
    console.login("child_safety_reviewer")
    [evidence_id] = console.evidence_ids(case_id)
    preview = console.client.get(f"/console/media/{evidence_id}/preview")
    assert preview.status_code == 200 and preview.headers["content-type"] == "image/png"
    status, page = _open(console, case_id, evidence_id)
    assert status == 200
    assert re.search(r"<video[^>]* muted[^>]*src=\"data:video/mp4;base64,", page)


def test_unknown_evidence_is_a_404_page_and_records_nothing(console: Console) -> None:
    case_id = _case_with_photo(console)
    console.login("child_safety_reviewer")
    missing = "00000000-0000-0000-0000-000000000000"
    assert console.client.get(f"/console/media/{missing}/preview").status_code == 404
    status, page = _open(console, case_id, missing)
    assert status == 404 and "Not found" in page
    assert media_views(console.db, SYSTEM, missing) == []

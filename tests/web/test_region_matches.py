"""Second-stage matches on the case page: the matched region as a box over the frame.

The evidence is a scikit-image sample photo (benign); the region events are what the second stage
files (`RegionMatchFound`), stored with the report through intake like any producer's events.
"""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import UTC, datetime

from safestream.core.banks import Classification
from safestream.core.events import RegionMatchFound
from safestream.core.reports import ReportIn
from safestream.store.access import get_org
from tests.web.conftest import ORG, Console, photo_report


def _region(kind: str, sha256: str | None) -> RegionMatchFound:
    return RegionMatchFound(
        at=datetime.now(UTC), bank="rooms" if kind == "room" else "known", entry_id=4,
        bank_kind=kind, label=Classification.UNCLASSIFIED if kind == "room" else Classification.A1,
        verified=True, stream_id="call-r", stage="local", region=(128, 64, 256, 192),
        frame_size=(512, 512), coverage=0.75, inliers=37, media_sha256=sha256, t=None,
    )  # fmt: skip


def _file(console: Console, report: ReportIn, kind: str, *, same_file: bool = True) -> int:
    photo = base64.b64decode(report.media[0].data_base64)
    sha256 = hashlib.sha256(photo).hexdigest() if same_file else "9" * 64
    app = console.client.app
    stored = app.state.intake.receive(  # type: ignore[attr-defined]
        get_org(console.db, ORG), report, events=[_region(kind, sha256)]
    )
    case_id: int = app.state.engine.process([stored.report.id])[stored.report.id]  # type: ignore[attr-defined]
    return case_id


def _figure(page: str) -> str:
    return page.split('<h2 id="regions">', 1)[1].split("</figure>", 1)[0]


def test_a_room_seen_in_an_evidence_photo_is_boxed_over_its_blurred_preview(
    console: Console,
) -> None:
    case_id = _file(console, photo_report("call-r"), "room")
    console.login("child_safety_reviewer")
    figure = _figure(console.client.get(f"/console/cases/{case_id}").text)
    assert re.search(r'src="/console/media/[0-9a-f-]{36}/preview"', figure)
    assert "left: 25.00%; top: 12.50%; width: 50.00%; height: 37.50%;" in figure
    assert "Known room: rooms #4" in figure and "75% of it in view" in figure


def test_a_known_image_found_inside_a_file_keeps_the_file_hash_first(console: Console) -> None:
    case_id = _file(console, photo_report("call-r"), "media")
    console.login("child_safety_reviewer")
    page = console.client.get(f"/console/cases/{case_id}").text
    figure = _figure(page)
    assert "/preview" not in figure and "frame not previewed" in figure
    assert "width: 50.00%" in figure
    assert "/preview" not in page  # the evidence itself is shown by hash only


def test_a_viewer_who_may_not_see_media_gets_the_box_without_the_preview(
    console: Console,
) -> None:
    case_id = _file(console, photo_report("call-r"), "room")
    console.login("reviewer")
    figure = _figure(console.client.get(f"/console/cases/{case_id}").text)
    assert "/preview" not in figure and "height: 37.50%" in figure


def test_a_region_found_in_another_file_is_not_drawn_over_this_one(console: Console) -> None:
    case_id = _file(console, photo_report("call-r"), "room", same_file=False)
    console.login("child_safety_reviewer")
    figure = _figure(console.client.get(f"/console/cases/{case_id}").text)
    assert "/preview" not in figure and "frame not previewed" in figure


def test_a_case_without_region_matches_has_no_regions_section(console: Console) -> None:
    _, case_id = console.file(photo_report("call-s"))
    console.login("child_safety_reviewer")
    assert 'id="regions"' not in console.client.get(f"/console/cases/{case_id}").text


def test_a_file_a_known_image_was_found_in_gets_no_preview_and_opens_only_with_a_reason(
    console: Console,
) -> None:
    case_id = _file(console, photo_report("call-r"), "media")
    console.login("child_safety_reviewer")
    [evidence_id] = console.evidence_ids(case_id)
    assert console.client.get(f"/console/media/{evidence_id}/preview").status_code == 403
    token = console.csrf(f"/console/cases/{case_id}")
    answer = console.client.post(
        f"/console/cases/{case_id}/media/{evidence_id}/open",
        data={"reason": "", "csrf_token": token},
    )
    assert answer.status_code == 422 and "reason" in answer.text


def test_a_file_a_known_room_was_found_in_keeps_its_blurred_preview(console: Console) -> None:
    case_id = _file(console, photo_report("call-r"), "room")
    console.login("child_safety_reviewer")
    [evidence_id] = console.evidence_ids(case_id)
    assert console.client.get(f"/console/media/{evidence_id}/preview").status_code == 200

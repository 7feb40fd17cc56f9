"""`safestream match --report`: reports name the file, its uploader and context; one case per
uploader. Benign scikit-image photos stand in for banked media."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image, ImageOps
from typer.testing import CliRunner

from safestream.cli import app
from safestream.core.config import Settings
from safestream.core.reports import Report
from safestream.store.database import Database
from safestream.store.reports import ReportRepository
from tests.media.hash_samples import photo


def run(*args: str) -> tuple[int, list[dict[str, object]], str]:
    result = CliRunner().invoke(app, list(args))
    lines = [json.loads(x) for x in result.stdout.splitlines() if x.startswith("{")]
    return result.exit_code, lines, result.stderr


def filed(lines: list[dict[str, object]]) -> dict[str, dict[str, object]]:
    """The report lines by file name."""
    return {Path(str(x["path"])).name: x for x in lines if x["kind"] == "report"}


@pytest.fixture
def uploads(home: Path, tmp_path: Path) -> Path:
    """A bank of two photos, and an upload folder holding altered copies of both."""
    known = tmp_path / "known"
    folder = tmp_path / "uploads"
    known.mkdir()
    folder.mkdir()
    cat, rocket = Image.fromarray(photo("chelsea")), Image.fromarray(photo("rocket"))
    cat.save(known / "cat.png")
    rocket.save(known / "rocket.png")
    ImageOps.mirror(cat).save(folder / "a1.jpg", quality=70)
    cat.resize((cat.width // 2, cat.height // 2)).save(folder / "a2.jpg", quality=80)
    rocket.save(folder / "b1.jpg", quality=75)
    Image.fromarray(photo("coffee")).save(folder / "unrelated.jpg")
    run("bank", "create", "known")
    assert run("bank", "add", "known", str(known))[0] == 0
    return folder


@pytest.fixture
def reports(settings: Settings) -> Iterator[ReportRepository]:
    db = Database(settings.database_url)
    yield ReportRepository(db)
    db.dispose()


def stored(reports: ReportRepository, line: dict[str, object]) -> Report:
    return reports.get(str(line["report_id"]))


def test_files_of_one_uploader_join_one_case_and_another_uploader_gets_their_own(
    uploads: Path,
) -> None:
    (uploads / "manifest.csv").write_text(
        "file,uploader,context\na1.jpg,alice,profile photo\na2.jpg,alice,\nb1.jpg,bob,group chat\n"
    )
    code, lines, err = run(
        "match", str(uploads), "--report", "--manifest", str(uploads / "manifest.csv"),
        "--platform", "example",
    )  # fmt: skip
    assert code == 0, err
    by_file = filed(lines)
    assert set(by_file) == {"a1.jpg", "a2.jpg", "b1.jpg"}
    assert by_file["a1.jpg"]["case_id"] == by_file["a2.jpg"]["case_id"]
    assert by_file["b1.jpg"]["case_id"] != by_file["a1.jpg"]["case_id"]
    assert by_file["a1.jpg"]["uploader"] == "example:alice"


def test_a_report_names_the_file_the_uploader_and_the_context(
    uploads: Path, reports: ReportRepository
) -> None:
    row = {
        "file": "b1.jpg",
        "uploader": "bob",
        "context": "group chat 77",
        "uploaded_at": "2026-12-01T10:00:00+00:00",
        "ip": "203.0.113.9",
    }
    (uploads / "manifest.json").write_text(json.dumps([row]))
    _, lines, _ = run(
        "match", str(uploads / "b1.jpg"), "--report", "--platform", "example",
        "--manifest", str(uploads / "manifest.json"),
    )  # fmt: skip
    body = stored(reports, filed(lines)["b1.jpg"]).body
    assert "'b1.jpg'" in body.description and "group chat 77" in body.description
    (account,) = body.reported_accounts
    assert (account.platform, account.id) == ("example", "bob")
    assert account.ip_events[0].ip == "203.0.113.9" and account.ip_events[0].event == "upload"
    assert body.platform is not None and body.platform.name == "example"
    assert body.incident_at is not None and body.incident_at.day == 1


def test_uploader_and_context_options_apply_to_every_file(
    uploads: Path, reports: ReportRepository
) -> None:
    code, lines, _ = run(
        "match", str(uploads / "a1.jpg"), str(uploads / "b1.jpg"), "--report",
        "--platform", "example", "--uploader", "carol", "--context", "DM attachments",
    )  # fmt: skip
    by_file = filed(lines)
    assert code == 0 and by_file["a1.jpg"]["case_id"] == by_file["b1.jpg"]["case_id"]
    assert "DM attachments" in stored(reports, by_file["b1.jpg"]).body.description


def test_the_same_file_from_two_uploaders_is_two_reports(uploads: Path) -> None:
    first = filed(run("match", str(uploads / "b1.jpg"), "--report", "--platform", "p",
                      "--uploader", "bob")[1])  # fmt: skip
    second = filed(run("match", str(uploads / "b1.jpg"), "--report", "--platform", "p",
                       "--uploader", "dan")[1])  # fmt: skip
    assert first["b1.jpg"]["report_id"] != second["b1.jpg"]["report_id"]


def test_a_file_the_manifest_does_not_list_is_reported_without_an_uploader(
    uploads: Path, reports: ReportRepository
) -> None:
    (uploads / "manifest.csv").write_text("file,uploader\na1.jpg,alice\n")
    _, lines, _ = run(
        "match", str(uploads / "b1.jpg"), "--report", "--platform", "example",
        "--manifest", str(uploads / "manifest.csv"),
    )  # fmt: skip
    line = filed(lines)["b1.jpg"]
    assert "uploader" not in line and stored(reports, line).body.reported_accounts == []


def test_a_bad_manifest_row_stops_the_run_before_anything_is_filed(uploads: Path) -> None:
    (uploads / "manifest.csv").write_text("file,uploader,ip\na1.jpg,alice,1.2.3\n")
    code, lines, err = run(
        "match", str(uploads), "--report", "--platform", "example",
        "--manifest", str(uploads / "manifest.csv"),
    )  # fmt: skip
    assert code == 2 and lines == []
    assert "row 2" in err and "ip" in err


def test_an_uploader_without_a_platform_is_a_usage_error(uploads: Path) -> None:
    code, _, err = run("match", str(uploads / "a1.jpg"), "--report", "--uploader", "alice")
    assert code == 2 and "platform" in err


def test_uploader_options_without_report_are_a_usage_error(uploads: Path) -> None:
    code, _, err = run("match", str(uploads / "a1.jpg"), "--uploader", "alice")
    assert code == 2 and "--report" in err

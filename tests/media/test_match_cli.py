"""`safestream match` end to end: bank from real files, altered copies found, bad files reported."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image, ImageOps
from typer.testing import CliRunner

from safestream.cli import app
from tests.cli.json_lines import run_cli as run
from tests.media.hash_samples import photo


@pytest.fixture
def media(tmp_path: Path) -> Path:
    known = tmp_path / "known" / "nested"
    query = tmp_path / "query"
    known.mkdir(parents=True)
    query.mkdir()
    Image.fromarray(photo("chelsea")).save(known / "cat.jpg", quality=95)
    Image.fromarray(photo("rocket")).save(tmp_path / "known" / "rocket.png")
    ImageOps.mirror(Image.fromarray(photo("chelsea"))).save(query / "cat-mirrored.jpg", quality=70)
    Image.fromarray(photo("coffee")).save(query / "coffee.jpg")
    (query / "empty.jpg").write_bytes(b"")
    (query / "notes.txt").write_text("not media")
    return tmp_path


def test_match_finds_the_mirrored_copy_and_reports_bad_files(home: Path, media: Path) -> None:
    run("bank", "create", "known")
    code, added, _ = run("bank", "add", "known", str(media / "known"), "--label", "A2")
    assert code == 0 and len(added) == 2
    code, lines, err = run("match", str(media / "query"))
    assert code == 1
    (hit,) = lines
    assert hit["path"].endswith("cat-mirrored.jpg")  # type: ignore[union-attr]
    assert hit["bank"] == "known" and hit["label"] == "A2" and hit["variant"] != "original"
    assert isinstance(hit["distance"], int) and hit["distance"] <= 31
    assert "empty.jpg" in err and "notes.txt" in err


def test_match_of_a_listed_hash(home: Path, media: Path) -> None:
    run("bank", "create", "known")
    run("bank", "add", "known", str(media / "known" / "rocket.png"))
    doc = json.loads(
        CliRunner().invoke(app, ["bank", "export", "known", "--format", "json"]).stdout
    )
    pdq = next(e["hash"] for e in doc["entries"] if e["signal_type"] == "pdq")
    code, lines, _ = run("match", "--hash", pdq)
    assert code == 0 and lines[0]["distance"] == 0 and lines[0]["kind"] == "hash"


def test_match_without_inputs_is_a_usage_error(home: Path) -> None:
    assert run("match")[0] == 2


def test_match_on_an_unknown_bank_fails(home: Path, media: Path) -> None:
    code, _, err = run("match", "--bank", "missing", str(media / "query"))
    assert code == 1 and "missing" in err


def test_match_with_report_files_a_linked_detector_report(home: Path, media: Path) -> None:
    run("bank", "create", "known")
    run("bank", "add", "known", str(media / "known"))
    code, lines, _ = run("match", "--report", str(media / "query" / "cat-mirrored.jpg"))
    assert code == 0
    (filed,) = [x for x in lines if x["kind"] == "report"]
    assert filed["case_id"] is not None
    again = run("match", "--report", str(media / "query" / "cat-mirrored.jpg"))[1]
    assert next(x for x in again if x["kind"] == "report")["report_id"] == filed["report_id"]

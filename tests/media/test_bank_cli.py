"""`safestream bank` on the command line: JSON lines out, errors on stderr, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from safestream.cli import app
from tests.cli.json_lines import run_cli as run

CAT = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"
ROCKET = "0" * 32 + "f" * 32


def test_created_bank_is_listed(home: Path) -> None:
    assert run("bank", "create", "known", "--source", "hotline")[0] == 0
    code, lines, _ = run("bank", "list")
    assert code == 0
    assert lines[0]["bank"] == "known" and lines[0]["entries"] == 0


def test_negative_bank_is_marked(home: Path) -> None:
    run("bank", "create", "testcards", "--negative")
    _, lines, _ = run("bank", "list")
    assert lines[0]["negative"] is True


def test_creating_an_existing_bank_fails_with_a_message(home: Path) -> None:
    run("bank", "create", "known")
    code, _, err = run("bank", "create", "known")
    assert code == 1
    assert "already exists" in err


def test_import_reports_bad_rows_and_keeps_good_ones(home: Path, tmp_path: Path) -> None:
    run("bank", "create", "known")
    listing = tmp_path / "list.csv"
    listing.write_text(f"hash,tags\n{CAT},A1\nbogus,A1\n{ROCKET},B2\n")
    code, lines, err = run("bank", "import", "known", str(listing))
    assert code == 1
    assert lines[0] | {"negatives": 0} == {
        "bank": "known",
        "file": str(listing),
        "imported": 2,
        "skipped": 1,
        "negatives": 0,
        "negatives_imported_to": None,
        "retro_matches": 0,
    }
    assert f"{listing}:3" in err


def test_export_hma_format_is_hma1_and_round_trips(home: Path, tmp_path: Path) -> None:
    run("bank", "create", "known")
    listing = tmp_path / "list.csv"
    listing.write_text(f"hash,tags\n{CAT},A1\n")
    run("bank", "import", "known", str(listing))
    out = tmp_path / "out.csv"
    assert run("bank", "export", "known", "--format", "hma", "--out", str(out))[0] == 0
    (row,) = out.read_text().splitlines()
    assert row.startswith(f"{CAT},") and row.endswith(",A1") and row.count(",") == 4
    run("bank", "create", "again")
    assert run("bank", "import", "again", str(out))[1][0]["imported"] == 1


def test_export_json_to_stdout(home: Path, tmp_path: Path) -> None:
    run("bank", "create", "known")
    listing = tmp_path / "list.csv"
    listing.write_text(f"hash,tags\n{CAT},A1\n")
    run("bank", "import", "known", str(listing))
    result = CliRunner().invoke(app, ["bank", "export", "known", "--format", "json"])
    doc = json.loads(result.stdout)
    assert doc["format"] == "safestream.bank"
    assert [e["hash"] for e in doc["entries"]] == [CAT]


def test_unknown_export_format_is_a_usage_error(home: Path) -> None:
    run("bank", "create", "known")
    assert run("bank", "export", "known", "--format", "xml")[0] == 2


def test_remove_deletes_one_entry(home: Path, tmp_path: Path) -> None:
    run("bank", "create", "known")
    listing = tmp_path / "list.csv"
    listing.write_text(f"hash,tags\n{CAT},A1\n{ROCKET},A1\n")
    run("bank", "import", "known", str(listing))
    exported = CliRunner().invoke(app, ["bank", "export", "known", "--format", "json"])
    doc = json.loads(exported.stdout)
    first = doc["entries"][0]["entry_id"]
    code, lines, _ = run("bank", "remove", "known", str(first))
    assert code == 0 and lines[0]["removed"] == first
    assert run("bank", "list")[1][0]["entries"] == 1


def test_adding_to_a_missing_bank_fails(home: Path, tmp_path: Path) -> None:
    code, _, err = run("bank", "add", "nope", str(tmp_path))
    assert code == 1 and "nope" in err


def test_two_homes_never_mix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAFESTREAM_HOME", str(tmp_path / "a"))
    run("bank", "create", "only-in-a")
    monkeypatch.setenv("SAFESTREAM_HOME", str(tmp_path / "b"))
    assert run("bank", "list")[1] == []


def _photo_file(tmp_path: Path, name: str = "coffee", fmt: str = "JPEG") -> Path:
    from PIL import Image

    from tests.media.hash_samples import photo

    path = tmp_path / f"{name}.{fmt.lower()}"
    big = Image.fromarray(photo(name)).resize((1920, 1080))
    big.save(path, format=fmt)
    return path


def _exported(name: str) -> list[dict[str, object]]:
    result = CliRunner().invoke(app, ["bank", "export", name, "--format", "json"])
    entries: list[dict[str, object]] = json.loads(result.stdout)["entries"]
    return entries


def test_bank_add_stores_the_reference_hash_not_the_fast_one(home: Path, tmp_path: Path) -> None:
    from safestream.media.hashing import hash_image

    path = _photo_file(tmp_path)
    run("bank", "create", "known")
    assert run("bank", "add", "known", str(path))[0] == 0
    pdq = [e["hash"] for e in _exported("known") if e["signal_type"] == "pdq"]
    assert pdq == [hash_image(path, mode="exact").pdq]


def test_bank_add_stores_the_pytx_hash_of_a_gif_too(home: Path, tmp_path: Path) -> None:
    from threatexchange.signal_type.pdq import pdq_hasher

    path = _photo_file(tmp_path, fmt="GIF")
    run("bank", "create", "known")
    run("bank", "add", "known", str(path))
    pdq = {e["hash"] for e in _exported("known") if e["signal_type"] == "pdq"}
    assert pdq_hasher.pdq_from_file(path)[0] in pdq and len(pdq) == 2


def test_bank_add_reports_a_label_conflict_and_keeps_the_stored_label(
    home: Path, tmp_path: Path
) -> None:
    path = _photo_file(tmp_path)
    run("bank", "create", "known")
    run("bank", "add", "known", str(path), "--label", "A1")
    _, lines, err = run("bank", "add", "known", str(path), "--label", "A2")
    conflicts = lines[0]["label_conflicts"]
    assert isinstance(conflicts, list) and len(conflicts) == 2  # the md5 and the pdq entry
    assert {c["stored_label"] for c in conflicts} == {"A1"}
    assert "already labelled A1" in err
    assert {e["label"] for e in _exported("known")} == {"A1"}


def test_cli_format_names_are_the_exchange_formats() -> None:
    from safestream.cli.bank import EXPORT_FORMATS as CLI_EXPORT
    from safestream.cli.bank import LIST_FORMATS
    from safestream.exchange.hashlists import EXPORT_FORMATS, FORMATS

    assert (LIST_FORMATS, CLI_EXPORT) == (FORMATS, EXPORT_FORMATS)

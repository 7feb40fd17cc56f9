"""Bank updates from the command line raise content seen before the hashes arrived."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from safestream.core.config import Settings
from safestream.core.principal import Principal
from safestream.store import Database
from safestream.store.seen_hashes import SeenHash, SeenHashes
from tests.cli.json_lines import run_cli as run

CAT = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"


def _seen(pdq: str) -> None:
    db = Database.from_settings(Settings.from_env())
    db.migrate()
    SeenHashes(db).record(
        Principal.system("test"), [SeenHash("upload", "a" * 64, pdq, datetime.now(UTC))]
    )
    db.dispose()


def test_bank_import_raises_an_upload_seen_before_its_hash_arrived(
    home: Path, tmp_path: Path
) -> None:
    _seen(CAT)
    run("bank", "create", "known")
    listing = tmp_path / "list.csv"
    listing.write_text(f"hash,tags\n{CAT},A1\n")
    code, lines, _ = run("bank", "import", "known", str(listing))
    assert code == 0 and lines[0]["retro_matches"] == 1


def test_bank_add_raises_an_upload_seen_before_the_file_was_banked(
    home: Path, tmp_path: Path
) -> None:
    from PIL import Image

    from safestream.media.hashing import hash_image
    from tests.media.hash_samples import photo

    path = tmp_path / "coffee.jpg"
    Image.fromarray(photo("coffee")).resize((1280, 720)).save(path, format="JPEG")
    _seen(hash_image(path, mode="exact").pdq)
    run("bank", "create", "known")
    code, lines, _ = run("bank", "add", "known", str(path), "--label", "A1")
    assert code == 0 and lines[0]["retro_matches"] == 1


def test_no_retroactive_matching_when_the_operator_keeps_no_seen_hashes(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _seen(CAT)
    monkeypatch.setenv("SAFESTREAM_RECENT_SEEN_DAYS", "0")
    run("bank", "create", "known")
    listing = tmp_path / "list.csv"
    listing.write_text(f"hash,tags\n{CAT},A1\n")
    _, lines, _ = run("bank", "import", "known", str(listing))
    assert lines[0]["retro_matches"] == 0

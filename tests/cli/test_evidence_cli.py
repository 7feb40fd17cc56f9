"""`safestream evidence`: decrypting for an authorised user (audited) and rotating the key."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from safestream.cli import app
from safestream.core.config import Settings
from safestream.core.principal import Principal
from safestream.core.reports import MediaFile, ReportIn
from safestream.reports.intake import IntakeService
from safestream.store import audit
from safestream.store.access import get_org
from safestream.store.database import Database
from safestream.store.vault import EvidenceVault, read_header

runner = CliRunner()
PASSWORD = "a long test passphrase"
MEDIA = b"\x89PNG benign stand-in bytes"


@pytest.fixture
def stored(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> tuple[Database, str]:
    """An operator with a child-safety reviewer, a platform with one, and a held file."""
    monkeypatch.setenv("SAFESTREAM_PASSWORD", PASSWORD)
    for args in (
        ["org", "create", "Hotline", "--kind", "operator"],
        ["org", "create", "Acme Video"],
        ["user", "add", "csr@hotline.org", "--org", "Hotline", "--role", "child_safety_reviewer"],
        ["user", "add", "csr@acme.org", "--org", "Acme Video", "--role", "child_safety_reviewer"],
        ["user", "add", "rev@hotline.org", "--org", "Hotline", "--role", "reviewer"],
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.stderr
    db = Database.from_settings(settings)
    report = ReportIn(
        reported_accounts=[{"platform": "p", "id": "u"}],  # type: ignore[list-item]
        media=[MediaFile(filename="a.png", data_base64=base64.b64encode(MEDIA).decode())],
        evidence_hold=True,
    )
    intake = IntakeService(db, EvidenceVault.for_settings(settings))
    other = get_org(db, "Hotline")
    return db, intake.receive(other, report).report.evidence_ids[0]


def _decrypt(evidence_id: str, user: str, out: Path) -> tuple[int, str]:
    result = runner.invoke(
        app,
        ["evidence", "decrypt", evidence_id, "--as", user, "--reason", "case 7", "--out", str(out)],
    )
    return result.exit_code, result.stderr


def test_authorised_user_gets_the_file_owner_only_and_the_access_is_audited(
    stored: tuple[Database, str], tmp_path: Path
) -> None:
    db, evidence_id = stored
    out = tmp_path / "out.png"
    code, err = _decrypt(evidence_id, "csr@hotline.org", out)
    assert code == 0, err
    assert out.read_bytes() == MEDIA
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    [entry] = audit.entries(db, Principal.system("test"), subject=f"evidence:{evidence_id}")
    assert (entry.actor, entry.action, entry.details["reason"]) == (
        "csr@hotline.org",
        "evidence.decrypt",
        "case 7",
    )


def test_another_organisations_reviewer_is_told_the_file_does_not_exist(
    stored: tuple[Database, str], tmp_path: Path
) -> None:
    code, err = _decrypt(stored[1], "csr@acme.org", tmp_path / "out.png")
    assert code == 1 and "no evidence" in err
    assert not (tmp_path / "out.png").exists()


def test_reviewer_without_the_media_permission_is_refused(
    stored: tuple[Database, str], tmp_path: Path
) -> None:
    code, err = _decrypt(stored[1], "rev@hotline.org", tmp_path / "out.png")
    assert code == 1 and "may not view child safety media" in err


def test_wrong_password_is_refused(
    stored: tuple[Database, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SAFESTREAM_PASSWORD", "not the password at all")
    code, err = _decrypt(stored[1], "csr@hotline.org", tmp_path / "out.png")
    assert code == 1 and "password is wrong" in err


def test_rotated_key_seals_new_files_and_old_ones_still_decrypt(
    stored: tuple[Database, str], settings: Settings, tmp_path: Path
) -> None:
    result = runner.invoke(app, ["evidence", "rotate-key"])
    assert result.exit_code == 0, result.stderr
    new_id = json.loads(result.stdout)["evidence_key_id"]
    vault = EvidenceVault.for_settings(settings)
    assert vault.keys.current_id.hex() == new_id
    assert read_header(vault.seal_bytes(b"x", b"c")).key_id == bytes.fromhex(new_id)
    code, err = _decrypt(stored[1], "csr@hotline.org", tmp_path / "old.png")
    assert code == 0, err

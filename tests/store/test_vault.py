"""The evidence vault: one key source, rotation, one file format, and the first version's files."""

from __future__ import annotations

import base64
import os
import secrets
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from safestream.core.config import Settings
from safestream.core.errors import InvalidInput
from safestream.core.reports import MediaFile
from safestream.store.vault import EvidenceUnreadable, EvidenceVault, read_header
from safestream.store.vault_keys import (
    KEY_ENV,
    OLD_KEYS_ENV,
    KeyRing,
    key_id,
    load_key_ring,
    rotate_key,
)

DATA = b"benign stand-in bytes"


def _settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "home", database_url="sqlite://")


def _legacy_v1(key: bytes, data: bytes, context: bytes) -> bytes:
    """A file as the first version wrote it: `SSEV1 | nonce | ciphertext`, context as AAD."""
    nonce = secrets.token_bytes(12)
    return b"SSEV1" + nonce + AESGCM(key).encrypt(nonce, data, context)


def test_key_ring_file_is_created_owner_only_and_reused(tmp_path: Path) -> None:
    home = tmp_path / "home"
    first = load_key_ring(home, {})
    assert load_key_ring(home, {}) == first
    assert stat.S_IMODE((home / "evidence.keys").stat().st_mode) == 0o600


def test_key_ring_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    load_key_ring(tmp_path, {})
    os.chmod(tmp_path / "evidence.keys", 0o644)
    with pytest.raises(InvalidInput, match="chmod 600"):
        load_key_ring(tmp_path, {})


def test_documented_64_hex_digit_key_and_base64_key_are_both_accepted(tmp_path: Path) -> None:
    key = bytes(range(32))
    assert load_key_ring(tmp_path, {KEY_ENV: key.hex()}).current == key
    assert load_key_ring(tmp_path, {KEY_ENV: base64.b64encode(key).decode()}).current == key


def test_key_that_is_not_32_bytes_is_refused_with_its_source(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match=f"{KEY_ENV}.*32 bytes"):
        load_key_ring(tmp_path, {KEY_ENV: "abcd"})


def test_environment_key_does_not_write_a_key_file(tmp_path: Path) -> None:
    load_key_ring(tmp_path / "home", {KEY_ENV: "ab" * 32})
    assert not (tmp_path / "home" / "evidence.keys").exists()


def test_sealed_file_names_its_key_in_the_header(tmp_path: Path) -> None:
    vault = EvidenceVault.for_settings(_settings(tmp_path), environ={})
    blob = vault.seal_bytes(DATA, b"ctx")
    header = read_header(blob)
    assert header.version == 2 and header.key_id == vault.keys.current_id
    assert DATA not in blob
    assert vault.open_bytes(blob, b"ctx") == DATA


def test_file_bound_to_another_context_does_not_open(tmp_path: Path) -> None:
    vault = EvidenceVault.for_settings(_settings(tmp_path), environ={})
    blob = vault.seal_bytes(DATA, b"evidence-1")
    with pytest.raises(EvidenceUnreadable, match="failed authentication"):
        vault.open_bytes(blob, b"evidence-2")


def test_edited_header_does_not_open(tmp_path: Path) -> None:
    vault = EvidenceVault.for_settings(_settings(tmp_path), environ={})
    blob = bytearray(vault.seal_bytes(DATA, b"ctx"))
    blob[5] ^= 1  # first byte of the key id
    with pytest.raises(EvidenceUnreadable, match="wrong key"):
        vault.open_bytes(bytes(blob), b"ctx")


def test_files_sealed_before_rotation_still_open_and_new_ones_use_the_new_key(
    tmp_path: Path,
) -> None:
    settings = _settings(tmp_path)
    before = EvidenceVault.for_settings(settings, environ={})
    old_blob = before.seal_bytes(DATA, b"ctx")
    new_id = rotate_key(settings.home)
    after = EvidenceVault.for_settings(settings, environ={})
    assert after.keys.current_id == new_id != before.keys.current_id
    assert after.open_bytes(old_blob, b"ctx") == DATA
    assert read_header(after.seal_bytes(DATA, b"ctx")).key_id == new_id


def test_rotation_by_environment_keeps_old_keys_for_reading(tmp_path: Path) -> None:
    old, new = secrets.token_bytes(32), secrets.token_bytes(32)
    sealed = EvidenceVault(tmp_path, KeyRing.single(old)).seal_bytes(DATA, b"ctx")
    ring = load_key_ring(tmp_path, {KEY_ENV: new.hex(), OLD_KEYS_ENV: old.hex()})
    assert ring.current == new
    assert EvidenceVault(tmp_path, ring).open_bytes(sealed, b"ctx") == DATA


def test_first_version_key_files_are_folded_into_the_ring_and_their_files_open(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    (home / "evidence").mkdir(parents=True)
    live_key, intake_key = secrets.token_bytes(32), secrets.token_bytes(32)
    hex_file = home / "evidence.key"  # the live monitor's hex key file
    hex_file.write_text(live_key.hex() + "\n")
    os.chmod(hex_file, 0o600)
    (home / "evidence" / ".key").write_bytes(intake_key)  # report intake's raw key file
    clip = _legacy_v1(live_key, DATA, b'{"manifest": 1}')
    media = _legacy_v1(intake_key, DATA, b"0b5e...-evidence-id")

    vault = EvidenceVault.for_settings(Settings(home=home, database_url="sqlite://"), environ={})

    assert vault.open_bytes(clip, b'{"manifest": 1}') == DATA
    assert vault.open_bytes(media, b"0b5e...-evidence-id") == DATA
    assert set(vault.keys.all_keys()) == {live_key, intake_key}
    assert vault.keys.current == intake_key


def test_first_version_files_open_under_an_environment_key_too(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / "evidence").mkdir(parents=True)
    legacy = secrets.token_bytes(32)
    (home / "evidence" / ".key").write_bytes(legacy)
    ring = load_key_ring(home, {KEY_ENV: "cd" * 32})
    assert EvidenceVault(home, ring).open_bytes(_legacy_v1(legacy, DATA, b"c"), b"c") == DATA


def test_report_media_is_sealed_to_its_evidence_id(tmp_path: Path) -> None:
    vault = EvidenceVault.for_settings(_settings(tmp_path), environ={})
    media = MediaFile(filename="a.png", data_base64=base64.b64encode(DATA).decode())
    [row] = vault.seal([media])
    assert vault.read(row).data == DATA
    assert stat.S_IMODE((vault.directory / row.path).stat().st_mode) == 0o600
    assert read_header((vault.directory / row.path).read_bytes()).key_id == key_id(
        vault.keys.current
    )

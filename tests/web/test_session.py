"""Console session cookies: signed, tamper-evident, and carrying the CSRF token forms must echo."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from safestream.api.web.session import (
    ConsoleSession,
    CsrfRejected,
    SessionCodec,
    check_csrf,
    load_or_create_secret,
)


def test_secret_is_created_once_owner_only_and_reused(tmp_path: Path) -> None:
    first = load_or_create_secret(tmp_path / "home")
    second = load_or_create_secret(tmp_path / "home")
    assert first == second and len(first) == 32
    mode = (tmp_path / "home" / "console-secret").stat().st_mode
    assert stat.S_IMODE(mode) == 0o600


def test_session_round_trips_through_its_cookie_value() -> None:
    codec = SessionCodec(b"k" * 32)
    session = ConsoleSession.anonymous().logged_in(7, "t")
    assert codec.decode(codec.encode(session)) == session


def test_cookie_signed_by_another_home_is_refused() -> None:
    value = SessionCodec(b"a" * 32).encode(ConsoleSession.anonymous().logged_in(1, "t"))
    assert SessionCodec(b"b" * 32).decode(value) is None


def test_edited_cookie_is_refused() -> None:
    codec = SessionCodec(b"k" * 32)
    value = codec.encode(ConsoleSession.anonymous().logged_in(1, "t"))
    tampered = value[:-2] + ("AA" if not value.endswith("AA") else "BB")
    assert codec.decode(tampered) is None


def test_garbage_or_missing_cookie_is_no_session() -> None:
    codec = SessionCodec(b"k" * 32)
    assert codec.decode(None) is None
    assert codec.decode("not-a-cookie") is None


def test_login_replaces_the_csrf_token() -> None:
    before = ConsoleSession.anonymous()
    after = before.logged_in(3, "t")
    assert after.user_id == 3 and after.csrf_token != before.csrf_token


def test_matching_csrf_token_passes() -> None:
    session = ConsoleSession.anonymous()
    check_csrf(session, session.csrf_token)


@pytest.mark.parametrize("submitted", [None, "", "wrong-token"])
def test_missing_or_wrong_csrf_token_is_rejected(submitted: str | None) -> None:
    with pytest.raises(CsrfRejected):
        check_csrf(ConsoleSession.anonymous(), submitted)


def test_csrf_without_any_session_is_rejected() -> None:
    with pytest.raises(CsrfRejected):
        check_csrf(None, "anything")

"""Console sessions: a signed, HttpOnly cookie with the user id, a session token, a CSRF token.

A logged-in cookie names a session the store holds (`safestream.store.sessions`): logout, a
password change or disabling the user ends it there, so a copied cookie stops working too. The
cookie is signed with a secret kept in the SafeStream home (created on first use, owner-only),
so restarting the server keeps people logged in and two homes never accept each other's cookies.
Every state-changing form carries the session's CSRF token in a hidden field (synchronizer token);
a POST without the matching token is refused before any work is done.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from pathlib import Path

from fastapi import Request
from fastapi.responses import Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from safestream.core.errors import PermissionDenied

COOKIE_NAME = "safestream_console"
CSRF_FIELD = "csrf_token"
SESSION_MAX_AGE_SECONDS = 12 * 3600
SECRET_FILE_NAME = "console-secret"


class CsrfRejected(PermissionDenied):
    """A form arrived without the CSRF token of the session that rendered it."""


@dataclass(frozen=True)
class ConsoleSession:
    """What the cookie says: who is logged in (None before login), the server-side session's
    token (None before login) and the session's CSRF token."""

    user_id: int | None
    csrf_token: str
    token: str | None = None

    @classmethod
    def anonymous(cls) -> ConsoleSession:
        """A fresh session for someone not logged in yet (the login form still needs a token)."""
        return cls(user_id=None, csrf_token=secrets.token_urlsafe(32))

    def logged_in(self, user_id: int, token: str) -> ConsoleSession:
        """The session after login: a new CSRF token, so a token seen before login is worthless."""
        return ConsoleSession(user_id=user_id, csrf_token=secrets.token_urlsafe(32), token=token)


def load_or_create_secret(home: Path) -> bytes:
    """The signing secret of this home, created with owner-only permissions on first use."""
    path = home / SECRET_FILE_NAME
    if not path.exists():
        home.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            with open(path, "x", encoding="ascii") as handle:
                path.chmod(0o600)
                handle.write(secrets.token_hex(32))
        except FileExistsError:  # another worker created it between our check and open
            pass
    return bytes.fromhex(path.read_text(encoding="ascii").strip())


class SessionCodec:
    """Signs sessions into cookie values and checks them back."""

    def __init__(self, secret: bytes) -> None:
        self._serializer = URLSafeTimedSerializer(secret, salt="safestream-console-session")

    def encode(self, session: ConsoleSession) -> str:
        """The cookie value for a session."""
        return self._serializer.dumps(
            {"u": session.user_id, "c": session.csrf_token, "s": session.token}
        )

    def decode(self, value: str | None) -> ConsoleSession | None:
        """The session in a cookie value, or None when it is missing, forged or expired."""
        if not value:
            return None
        try:
            data = self._serializer.loads(value, max_age=SESSION_MAX_AGE_SECONDS)
        except BadSignature:
            return None
        if not isinstance(data, dict):
            return None
        user_id, csrf, token = data.get("u"), data.get("c"), data.get("s")
        if not isinstance(csrf, str) or not (user_id is None or isinstance(user_id, int)):
            return None
        if not (token is None or isinstance(token, str)):
            return None
        return ConsoleSession(user_id=user_id, csrf_token=csrf, token=token)


def read_session(request: Request, codec: SessionCodec) -> ConsoleSession | None:
    """The session of a request, or None."""
    return codec.decode(request.cookies.get(COOKIE_NAME))


def write_session(
    response: Response,
    request: Request,
    codec: SessionCodec,
    session: ConsoleSession,
    *,
    always_secure: bool = False,
) -> None:
    """Set the session cookie on a response: Secure when served over HTTPS, and always when
    `always_secure` (the `console_secure_cookie` setting, for a server behind a TLS proxy, which
    sees plain HTTP)."""
    response.set_cookie(
        COOKIE_NAME,
        codec.encode(session),
        max_age=SESSION_MAX_AGE_SECONDS,
        httponly=True,
        samesite="lax",
        secure=always_secure or request.url.scheme == "https",
        path="/",
    )


def clear_session(response: Response) -> None:
    """Remove the session cookie (logout)."""
    response.delete_cookie(COOKIE_NAME, path="/")


def check_csrf(session: ConsoleSession | None, submitted: str | None) -> None:
    """Raise `CsrfRejected` unless the submitted token is the session's token."""
    if session is None or not submitted:
        raise CsrfRejected("missing CSRF token: reload the page and try again")
    if not hmac.compare_digest(session.csrf_token.encode(), submitted.encode()):
        raise CsrfRejected("CSRF token does not match this session: reload the page and try again")

"""Rendering helpers shared by the console pages: the viewer, permissions, flashes, errors.

Every page goes through `render`, which adds the logged-in user, what they may do and the CSRF
token, so no template can forget the token and no page shows a link its reader may not follow.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, ParamSpec
from urllib.parse import quote

from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from safestream.api.web.environment import console_environment
from safestream.api.web.session import ConsoleSession, read_session, write_session
from safestream.core.errors import NotFound, PermissionDenied, SafeStreamError
from safestream.core.principal import Principal
from safestream.store.access import Permission, Role, User, get_user
from safestream.store.sessions import session_is_live

P = ParamSpec("P")

# Console pages load scripts only from this server; files open as data: URLs on the media page.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; media-src 'self' data:; "
    "style-src 'self' 'unsafe-inline'; script-src 'self'; frame-ancestors 'none'; "
    "form-action 'self'; base-uri 'none'"
)
ROLE_LABELS = {
    Role.ADMIN: "administrator",
    Role.REVIEWER: "reviewer",
    Role.CHILD_SAFETY_REVIEWER: "child-safety reviewer",
    Role.AUDITOR: "auditor",
    Role.API_CLIENT: "API client",
}
FLASH_MESSAGES = {
    "claimed": ("ok", "Case claimed: it is yours until you decide or release it."),
    "empty": ("ok", "Nothing is waiting in this queue."),
    "note": ("ok", "Note added."),
    "decided": ("ok", "Decision recorded."),
    "prefs": ("ok", "Preferences saved."),
    "break": ("ok", "Welcome back. A new shift has started and your exposure count is reset."),
    "logged_out": ("ok", "You are logged out."),
    "released": ("ok", "Case released back to its queue."),
    "deconflicted": ("ok", "Marked as held by another agency; it has left the review queues."),
    "bank": ("ok", "Bank setting saved."),
    "revoked": ("ok", "Key revoked: it is refused from now on."),
    "password": ("ok", "Password changed: your other sessions have ended."),
    "user_disabled": ("ok", "User disabled: their sessions have ended."),
    "user_enabled": ("ok", "User enabled: they may log in again."),
    "view_saved": ("ok", "View saved: it is listed under Your views."),
    "view_deleted": ("ok", "Saved view deleted."),
    "cybertip": ("ok", "CyberTipline reports validated and submitting; refresh for NCMEC's ids."),
}


@dataclass(frozen=True)
class Capabilities:
    """What the viewer may do, for templates (`can.review`, `can.see_media`, ...)."""

    review: bool
    see_media: bool
    read_audit: bool
    administer: bool  # the installation's settings (banks): the operator's administrators
    manage_access: bool = False  # keys and users of the organisations the admin manages

    @classmethod
    def of(cls, user: User) -> Capabilities:
        """The capabilities a user's role grants."""
        return cls(
            review=user.allows(Permission.REVIEW),
            see_media=user.allows(Permission.VIEW_CHILD_SAFETY_MEDIA),
            read_audit=user.allows(Permission.READ_AUDIT),
            administer=user.allows(Permission.ADMINISTER) and user.principal.links_and_triages,
            manage_access=user.allows(Permission.ADMINISTER),
        )


@dataclass(frozen=True)
class Viewer:
    """The logged-in user of a request, with their session and capabilities."""

    user: User
    session: ConsoleSession
    can: Capabilities

    @property
    def actor(self) -> str:
        """How the audit log names this person."""
        return f"user:{self.user.id}:{self.user.email}"

    @property
    def principal(self) -> Principal:
        """The viewer as the acting principal of store calls."""
        return self.user.principal

    def require(self, permission: Permission) -> None:
        """Raise `PermissionDenied` unless the viewer's role grants `permission`."""
        if not self.user.allows(permission):
            label = ROLE_LABELS[self.user.role]
            article = "an" if label[0] in "aeiou" else "a"
            raise PermissionDenied(f"{article} {label} may not do this")


def login_redirect(request: Request) -> HTTPException:
    """A 303 to the login page that comes back to this page after login."""
    target = quote(request.url.path, safe="/")
    return HTTPException(status_code=303, headers={"Location": f"/console/login?next={target}"})


def current_viewer(request: Request) -> Viewer:
    """The logged-in user of a request (a dependency); anyone else is sent to the login page.

    The cookie's signature is not enough: its session must still be live on the server (not
    logged out, not ended by a password change or by disabling the user, not idle too long).
    """
    env = console_environment(request)
    session = read_session(request, env.sessions)
    if session is None or session.user_id is None or not session.token:
        raise login_redirect(request)
    if not session_is_live(env.db, session.token, session.user_id, env.session_policy):
        raise login_redirect(request)
    try:
        user = get_user(env.db, session.user_id)
    except NotFound:
        raise login_redirect(request) from None
    if not user.active:
        raise login_redirect(request)
    return Viewer(user, session, Capabilities.of(user))


def render(
    request: Request,
    template: str,
    context: dict[str, Any],
    *,
    viewer: Viewer | None = None,
    session: ConsoleSession | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """Render a console page for a viewer (or an anonymous session) with the common context."""
    env = console_environment(request)
    active = viewer.session if viewer else session
    flash_key = request.query_params.get("flash", "")
    flash = None
    if flash_key in FLASH_MESSAGES:
        kind, text = FLASH_MESSAGES[flash_key]
        flash = {"kind": kind, "text": text}
    full = {
        "user": _user_view(viewer.user) if viewer else None,
        "can": viewer.can if viewer else None,
        "csrf_token": active.csrf_token if active else "",
        "flash": flash,
        **context,
    }
    response = env.templates.TemplateResponse(request, template, full, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["Referrer-Policy"] = "same-origin"
    if session is not None and viewer is None:
        secure = env.settings.console_secure_cookie
        write_session(response, request, env.sessions, session, always_secure=secure)
    return response


def _user_view(user: User) -> dict[str, str]:
    return {"email": user.email, "org": user.org, "role_label": ROLE_LABELS[user.role]}


def error_page(request: Request, error: SafeStreamError, viewer: Viewer | None) -> HTMLResponse:
    """An HTML page for an error from the store or a permission check."""
    headings = {403: "Not allowed", 404: "Not found", 409: "Already taken"}
    status = error.http_status
    heading = headings.get(status, "Something went wrong" if status >= 500 else "Cannot do that")
    context = {"status": status, "heading": heading, "message": str(error)}
    return render(request, "error.html", context, viewer=viewer, status_code=status)


def html_errors(handler: Callable[P, Response]) -> Callable[P, Response]:
    """Turn SafeStream errors raised by a page handler into HTML error pages, not JSON."""

    @wraps(handler)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> Response:
        try:
            return handler(*args, **kwargs)
        except SafeStreamError as error:
            request = kwargs.get("request")
            viewer = kwargs.get("viewer")
            if not isinstance(request, Request):
                raise
            return error_page(request, error, viewer if isinstance(viewer, Viewer) else None)

    return wrapped

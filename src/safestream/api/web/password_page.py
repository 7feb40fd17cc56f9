"""Changing one's own password: every session of the person ends, this browser gets a new one.

A copy of the old cookie (a stolen one, another browser) stops working at once. The current
password is checked under the login throttle (failures count against the account, and at most
two Argon2 checks run at once), so the form is no way around the login's limits.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from safestream.api.web.environment import console_environment
from safestream.api.web.login import TOO_MANY, login_throttle
from safestream.api.web.pages import Viewer, current_viewer, html_errors, render
from safestream.api.web.session import CSRF_FIELD, check_csrf, write_session
from safestream.core.errors import InvalidInput
from safestream.store import access, audit
from safestream.store.sessions import start_session

router = APIRouter(include_in_schema=False)
CurrentViewer = Annotated[Viewer, Depends(current_viewer)]
WRONG_PASSWORD = "The current password is wrong."


@router.get("/console/password")
@html_errors
def password_form(request: Request, viewer: CurrentViewer) -> Response:
    """The form: current password, new password twice."""
    return render(request, "password.html", {}, viewer=viewer)


def _refuse(request: Request, viewer: Viewer, error: str, status: int) -> Response:
    return render(request, "password.html", {"error": error}, viewer=viewer, status_code=status)


@router.post("/console/password")
@html_errors
def change_password(
    request: Request,
    viewer: CurrentViewer,
    current: Annotated[str, Form(max_length=1024)],
    new: Annotated[str, Form(max_length=1024)],
    again: Annotated[str, Form(max_length=1024)],
    csrf_token: Annotated[str, Form(alias=CSRF_FIELD, max_length=128)] = "",
) -> Response:
    """Check the current password, store the new one, end every session, open a fresh one."""
    check_csrf(viewer.session, csrf_token)
    env = console_environment(request)
    if new != again:
        return _refuse(request, viewer, "The two new passwords differ.", 422)
    throttle = login_throttle(request)
    account = viewer.user.email
    address = request.client.host if request.client else "unknown"
    attempt = throttle.admit(account, address)  # counted until the password proves right
    if attempt.refused:
        refused = _refuse(request, viewer, TOO_MANY, 429)
        refused.headers["Retry-After"] = str(int(attempt.wait) + 1)
        return refused
    try:
        with throttle.hashing():
            ended = access.change_own_password(env.db, viewer.user.id, current, new)
    except InvalidInput as error:
        throttle.unchecked(attempt)  # the new password was refused before the current was read
        return _refuse(request, viewer, str(error), 422)
    if ended is None:
        return _refuse(request, viewer, WRONG_PASSWORD, 401)
    throttle.succeeded(attempt)
    subject = f"user:{viewer.user.id}"
    details: dict[str, object] = {"sessions_ended": ended}
    audit.record(
        env.db, actor=account, action="user.change_password", subject=subject, details=details
    )
    token = start_session(env.db, viewer.user.id, env.session_policy)
    response = RedirectResponse("/console/preferences?flash=password", status_code=303)
    session = viewer.session.logged_in(viewer.user.id, token)
    secure = env.settings.console_secure_cookie
    write_session(response, request, env.sessions, session, always_secure=secure)
    return response

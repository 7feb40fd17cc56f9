"""Login and logout pages: Argon2 checks through the access service; a login opens a session held
on the server (its token in the signed cookie), and logout ends it there."""

from __future__ import annotations

import threading
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from safestream.api.web.environment import console_environment
from safestream.api.web.login_throttle import LoginThrottle
from safestream.api.web.pages import Viewer, current_viewer, html_errors, render
from safestream.api.web.session import (
    CSRF_FIELD,
    ConsoleSession,
    check_csrf,
    clear_session,
    read_session,
    write_session,
)
from safestream.api.web.wellbeing_pages import ensure_shift
from safestream.store import audit
from safestream.store.access import Permission, authenticate_user
from safestream.store.sessions import end_session, start_session

router = APIRouter(include_in_schema=False)

LOGIN_FAILED = "Email or password is wrong, or the account is disabled."
TOO_MANY = "Too many failed logins; try again later."
_THROTTLE_LOCK = threading.Lock()


def login_throttle(request: Request) -> LoginThrottle:
    """The app's one throttle over its store, made on first use."""
    with _THROTTLE_LOCK:
        throttle = getattr(request.app.state, "login_throttle", None)
        if not isinstance(throttle, LoginThrottle):
            throttle = LoginThrottle(console_environment(request).db)
            request.app.state.login_throttle = throttle
        return throttle


def safe_next(target: str | None) -> str:
    """Where to go after login: only a path on this console, never another site."""
    if target and target.startswith("/console") and not target.startswith("//"):
        return target
    return "/console"


@router.get("/console/login")
def login_form(request: Request, next: str | None = None) -> Response:
    """The login form, with a fresh anonymous session so the form has a CSRF token."""
    env = console_environment(request)
    session = read_session(request, env.sessions)
    if session is None or session.user_id is not None:
        session = ConsoleSession.anonymous()
    return render(request, "login.html", {"next": safe_next(next)}, session=session)


@router.post("/console/login")
@html_errors
def login(
    request: Request,
    email: Annotated[str, Form(max_length=254)],
    password: Annotated[str, Form(max_length=1024)],
    csrf_token: Annotated[str, Form(alias=CSRF_FIELD, max_length=128)] = "",
    next: Annotated[str, Form(max_length=2048)] = "/console",
) -> Response:
    """Check the password; on success start a logged-in session with a new CSRF token."""
    env = console_environment(request)
    session = read_session(request, env.sessions)
    check_csrf(session, csrf_token)
    assert session is not None  # check_csrf refuses a missing session
    throttle = login_throttle(request)
    account = email.strip().lower()[:254]
    address = request.client.host if request.client else "unknown"
    attempt = throttle.admit(account, address)  # counted until the password proves right
    if attempt.refused:
        context = {"error": TOO_MANY, "email": email, "next": safe_next(next)}
        refused = render(request, "login.html", context, session=session, status_code=429)
        refused.headers["Retry-After"] = str(int(attempt.wait) + 1)
        return refused
    with throttle.hashing():
        user = authenticate_user(env.db, email, password)
    if user is None:
        audit.record(
            env.db,
            actor=f"login:{account}",
            action="login_failed",
            subject="console",
            details={},
        )
        context = {"error": LOGIN_FAILED, "email": email, "next": safe_next(next)}
        return render(request, "login.html", context, session=session, status_code=401)
    throttle.succeeded(attempt)
    audit.record(env.db, actor=user.email, action="login", subject="console", details={})
    ensure_shift(env.db, user)
    token = start_session(env.db, user.id, env.session_policy)
    response = RedirectResponse(safe_next(next), status_code=303)
    secure = env.settings.console_secure_cookie
    write_session(
        response, request, env.sessions, session.logged_in(user.id, token), always_secure=secure
    )
    return response


@router.post("/console/logout")
@html_errors
def logout(
    request: Request,
    viewer: Annotated[Viewer, Depends(current_viewer)],
    csrf_token: Annotated[str, Form(alias=CSRF_FIELD, max_length=128)] = "",
) -> Response:
    """End the session on the server, so a copy of the cookie opens nothing either."""
    check_csrf(viewer.session, csrf_token)
    db = console_environment(request).db
    if viewer.session.token:
        end_session(db, viewer.session.token)
    audit.record(db, actor=viewer.user.email, action="logout", subject="console")
    response = RedirectResponse("/console/login?flash=logged_out", status_code=303)
    clear_session(response)
    return response


@router.get("/console")
def home(viewer: Annotated[Viewer, Depends(current_viewer)]) -> Response:
    """Start page: the queue for reviewers, the audit log for auditors."""
    if viewer.user.allows(Permission.REVIEW):
        return RedirectResponse("/console/queue", status_code=303)
    if viewer.user.allows(Permission.READ_AUDIT):
        return RedirectResponse("/console/audit", status_code=303)
    return RedirectResponse("/console/preferences", status_code=303)

"""The access page: administrators list, revoke and rotate keys and disable users.

The operator's administrators manage every organisation, another organisation's administrators
their own (`store.access_admin`); a new key from a rotation is shown once, on the answer page.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from safestream.api.web.environment import console_environment
from safestream.api.web.pages import Viewer, current_viewer, html_errors, render
from safestream.api.web.session import CSRF_FIELD, check_csrf
from safestream.store import access_admin

router = APIRouter(include_in_schema=False)
Csrf = Annotated[str, Form(alias=CSRF_FIELD, max_length=128)]
CurrentViewer = Annotated[Viewer, Depends(current_viewer)]


@router.get("/console/access")
@html_errors
def access_page(request: Request, viewer: CurrentViewer) -> Response:
    """API keys, panic keys and users of the organisations the viewer administers."""
    found = access_admin.overview(console_environment(request).db, viewer.principal)
    return render(request, "access.html", {"access": found}, viewer=viewer)


def _new_key(request: Request, viewer: Viewer, kind: str, org: str, key: str) -> Response:
    context = {"kind": kind, "org": org, "key": key}
    return render(request, "access_new_key.html", context, viewer=viewer)


@router.post("/console/access/api-keys/{key_id}/revoke")
@html_errors
def revoke_api_key(
    request: Request, key_id: int, viewer: CurrentViewer, csrf_token: Csrf = ""
) -> Response:
    """Revoke an API key: servers refuse it within a second."""
    check_csrf(viewer.session, csrf_token)
    access_admin.revoke_api_key_as(console_environment(request).db, viewer.principal, key_id)
    return RedirectResponse("/console/access?flash=revoked", status_code=303)


@router.post("/console/access/api-keys/{key_id}/rotate")
@html_errors
def rotate_api_key(
    request: Request, key_id: int, viewer: CurrentViewer, csrf_token: Csrf = ""
) -> Response:
    """Revoke an API key and show its successor once."""
    check_csrf(viewer.session, csrf_token)
    db = console_environment(request).db
    issued = access_admin.rotate_api_key_as(db, viewer.principal, key_id)
    return _new_key(request, viewer, "API key", issued.org, issued.key)


@router.post("/console/access/panic-keys/{key_id}/revoke")
@html_errors
def revoke_panic_key(
    request: Request, key_id: int, viewer: CurrentViewer, csrf_token: Csrf = ""
) -> Response:
    """Revoke a panic key: the next press with it is refused."""
    check_csrf(viewer.session, csrf_token)
    access_admin.revoke_panic_key_as(console_environment(request).db, viewer.principal, key_id)
    return RedirectResponse("/console/access?flash=revoked", status_code=303)


@router.post("/console/access/panic-keys/{key_id}/rotate")
@html_errors
def rotate_panic_key(
    request: Request, key_id: int, viewer: CurrentViewer, csrf_token: Csrf = ""
) -> Response:
    """Revoke a panic key and show its successor (same origins and namespace) once."""
    check_csrf(viewer.session, csrf_token)
    db = console_environment(request).db
    issued = access_admin.rotate_panic_key_as(db, viewer.principal, key_id)
    return _new_key(request, viewer, "panic-button key", issued.info.org.name, issued.key)


def _set_active(request: Request, viewer: Viewer, user_id: int, active: bool) -> Response:
    db = console_environment(request).db
    access_admin.set_user_active_as(db, viewer.principal, user_id, active)
    flash = "user_enabled" if active else "user_disabled"
    return RedirectResponse(f"/console/access?flash={flash}", status_code=303)


@router.post("/console/access/users/{user_id}/disable")
@html_errors
def disable_user(
    request: Request, user_id: int, viewer: CurrentViewer, csrf_token: Csrf = ""
) -> Response:
    """Disable a user: their sessions end at once and they cannot log in."""
    check_csrf(viewer.session, csrf_token)
    return _set_active(request, viewer, user_id, False)


@router.post("/console/access/users/{user_id}/enable")
@html_errors
def enable_user(
    request: Request, user_id: int, viewer: CurrentViewer, csrf_token: Csrf = ""
) -> Response:
    """Let a disabled user log in again (their old sessions stay ended)."""
    check_csrf(viewer.session, csrf_token)
    return _set_active(request, viewer, user_id, True)

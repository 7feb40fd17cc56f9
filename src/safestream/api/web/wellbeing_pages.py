"""Wellbeing pages: display preferences, the exposure count, and the break that starts a new shift.

A reviewer may lower their own exposure budget but not raise it above the default; only an
administrator may set a higher one, so the budget protects people rather than slowing them down
until they switch it off.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from safestream.api.web.environment import console_environment
from safestream.api.web.pages import Viewer, current_viewer, html_errors, render
from safestream.api.web.session import CSRF_FIELD, check_csrf
from safestream.cases.wellbeing import (
    DEFAULT_EXPOSURE_BUDGET,
    MAX_EXPOSURE_BUDGET,
    Preferences,
    end_shift,
    exposure,
    get_preferences,
    set_preferences,
    start_shift,
)
from safestream.core.errors import InvalidInput
from safestream.store.access import Permission, User
from safestream.store.base import utcnow
from safestream.store.database import Database

router = APIRouter(include_in_schema=False)

# A shift left open longer than this (no logout, no break) is over; the next login starts anew.
SHIFT_MAX_LENGTH = timedelta(hours=10)


def budget_ceiling(user: User) -> int:
    """The highest exposure budget this user may choose for themselves."""
    return MAX_EXPOSURE_BUDGET if user.allows(Permission.ADMINISTER) else DEFAULT_EXPOSURE_BUDGET


def ensure_shift(db: Database, user: User) -> None:
    """Start a shift at login unless one is open and recent (logging in again is no reset)."""
    if not user.allows(Permission.VIEW_CHILD_SAFETY_MEDIA):
        return
    current = exposure(db, user.principal)
    started = current.started_at
    if started is not None and started.tzinfo is None:
        started = started.replace(tzinfo=utcnow().tzinfo)
    if current.shift_id is None or started is None or utcnow() - started > SHIFT_MAX_LENGTH:
        start_shift(db, user.principal)


@router.get("/console/preferences")
@html_errors
def preferences_page(
    request: Request, viewer: Annotated[Viewer, Depends(current_viewer)]
) -> Response:
    """The reviewer's display preferences and this shift's exposure."""
    env = console_environment(request)
    context = {
        "prefs": get_preferences(env.db, viewer.principal),
        "exposure": exposure(env.db, viewer.principal) if viewer.can.see_media else None,
        "ceiling": budget_ceiling(viewer.user),
    }
    return render(request, "preferences.html", context, viewer=viewer)


@router.post("/console/preferences")
@html_errors
def save_preferences(
    request: Request,
    viewer: Annotated[Viewer, Depends(current_viewer)],
    exposure_budget: Annotated[int, Form(ge=1, le=MAX_EXPOSURE_BUDGET)],
    blur: Annotated[bool, Form()] = False,
    grayscale: Annotated[bool, Form()] = False,
    muted: Annotated[bool, Form()] = False,
    csrf_token: Annotated[str, Form(alias=CSRF_FIELD, max_length=128)] = "",
) -> Response:
    """Save blur, grayscale, mute and the exposure budget (within this user's ceiling)."""
    check_csrf(viewer.session, csrf_token)
    ceiling = budget_ceiling(viewer.user)
    if exposure_budget > ceiling:
        raise InvalidInput(f"exposure_budget: at most {ceiling} files per shift for your role")
    prefs = Preferences(
        blur=blur, grayscale=grayscale, muted=muted, exposure_budget=exposure_budget
    )
    set_preferences(console_environment(request).db, viewer.principal, prefs)
    return RedirectResponse("/console/preferences?flash=prefs", status_code=303)


@router.get("/console/break")
@html_errors
def break_page(request: Request, viewer: Annotated[Viewer, Depends(current_viewer)]) -> Response:
    """The break page: how much was seen this shift, and a button to start the next one."""
    env = console_environment(request)
    context = {"exposure": exposure(env.db, viewer.principal), "case_id": None}
    return render(request, "break.html", context, viewer=viewer)


@router.post("/console/break")
@html_errors
def take_break(
    request: Request,
    viewer: Annotated[Viewer, Depends(current_viewer)],
    csrf_token: Annotated[str, Form(alias=CSRF_FIELD, max_length=128)] = "",
) -> Response:
    """End the shift and start a new one with a fresh budget."""
    check_csrf(viewer.session, csrf_token)
    env = console_environment(request)
    end_shift(env.db, viewer.principal)
    start_shift(env.db, viewer.principal)
    return RedirectResponse("/console/queue?flash=break", status_code=303)

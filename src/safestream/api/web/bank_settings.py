"""The banks page: administrators mark each bank verified or not (hash-first review uses it)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from safestream.api.web.environment import console_environment
from safestream.api.web.pages import Viewer, current_viewer, html_errors, render
from safestream.api.web.session import CSRF_FIELD, check_csrf
from safestream.store.bank_trust import require_installation_admin, set_bank_verified
from safestream.store.banks import BankRepository

router = APIRouter(include_in_schema=False)


@router.get("/console/banks")
@html_errors
def banks_page(request: Request, viewer: Annotated[Viewer, Depends(current_viewer)]) -> Response:
    """Every bank with its kind, size and whether its contents are verified."""
    require_installation_admin(viewer.principal)
    banks = BankRepository(console_environment(request).db).list_banks()
    return render(request, "banks.html", {"banks": banks}, viewer=viewer)


@router.post("/console/banks/{name}/verified")
@html_errors
def post_verified(
    request: Request,
    name: str,
    viewer: Annotated[Viewer, Depends(current_viewer)],
    verified: Annotated[str, Form(pattern="^(yes|no)$")],
    csrf_token: Annotated[str, Form(alias=CSRF_FIELD, max_length=128)] = "",
) -> Response:
    """Mark one bank verified (`yes`) or not (`no`)."""
    check_csrf(viewer.session, csrf_token)
    set_bank_verified(console_environment(request).db, viewer.principal, name, verified == "yes")
    return RedirectResponse("/console/banks?flash=bank", status_code=303)

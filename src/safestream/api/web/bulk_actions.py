"""Bulk actions on the queue: choose cases, see what will happen, confirm, see what happened.

The first POST changes nothing: it shows the chosen cases and the action with a Confirm button
(and Cancel back to the same queue view). Only the confirming POST acts, case by case.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from safestream.api.web.environment import console_environment
from safestream.api.web.pages import Viewer, current_viewer, html_errors, render
from safestream.api.web.session import CSRF_FIELD, check_csrf
from safestream.cases.bulk_review import BulkAction, apply_bulk, assignees, chosen_cases
from safestream.core.errors import InvalidInput
from safestream.store.access import Permission

router = APIRouter(include_in_schema=False)

QUEUE = "/console/queue"
ACTION_LABELS = {
    BulkAction.CLAIM: "Claim for yourself",
    BulkAction.DISMISS: "Dismiss (closes each case)",
    BulkAction.ASSIGN: "Assign to",
}


def queue_view(back: str) -> str:
    """The queue view to return to: only ever a queue URL of this console."""
    return back if back == QUEUE or back.startswith(QUEUE + "?") else QUEUE


@router.post("/console/queue/bulk")
@html_errors
def bulk(
    request: Request,
    viewer: Annotated[Viewer, Depends(current_viewer)],
    action: Annotated[BulkAction, Form()],
    case: Annotated[list[int], Form(max_length=200)] = [],  # noqa: B006 (FastAPI's form default)
    assignee: Annotated[int | None, Form(ge=1)] = None,
    reason: Annotated[str, Form(max_length=3000)] = "",
    confirmed: Annotated[str, Form(pattern="^(|yes)$")] = "",
    back: Annotated[str, Form(max_length=2000)] = QUEUE,
    csrf_token: Annotated[str, Form(alias=CSRF_FIELD, max_length=128)] = "",
) -> Response:
    """Show the confirmation for the chosen cases, or (confirmed) do the action and report."""
    check_csrf(viewer.session, csrf_token)
    viewer.require(Permission.REVIEW)
    env = console_environment(request)
    if not case:
        raise InvalidInput("choose at least one case (tick its box) before a bulk action")
    people = assignees(env.db, viewer.principal)
    chosen_assignee = next((u for u in people if u.id == assignee), None)
    if action is BulkAction.ASSIGN and chosen_assignee is None:
        raise InvalidInput("choose the reviewer the cases are assigned to")
    context: dict[str, Any] = {
        "action": action,
        "action_label": ACTION_LABELS[action],
        "assignee": chosen_assignee,
        "reason": reason,
        "back": queue_view(back),
    }
    if confirmed != "yes":
        context["cases"] = chosen_cases(env.db, viewer.principal, case)
        return render(request, "bulk_confirm.html", context, viewer=viewer)
    outcomes = apply_bulk(
        env.db, viewer.principal, action, case, reason=reason, assignee_id=assignee
    )
    context["outcomes"] = outcomes
    context["done"] = sum(1 for o in outcomes if o.done)
    return render(request, "bulk_done.html", context, viewer=viewer)

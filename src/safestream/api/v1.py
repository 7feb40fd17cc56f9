"""Version 1 of the JSON API: report intake and report status."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from safestream.api.auth import current_org
from safestream.api.intake_endpoint import IntakeRoute, ReportReceipt, receipt
from safestream.core.entities import Entity, EntityKind
from safestream.core.errors import InvalidInput
from safestream.core.reports import NCMEC_INCIDENT_LABELS, refuse_control_characters
from safestream.store.access import Organisation
from safestream.store.claims import ClaimRepository
from safestream.store.reports import ReportRepository

router = APIRouter(prefix="/v1")


class ErrorBody(BaseModel):
    """An error answer."""

    error: str


class FieldError(BaseModel):
    """One invalid field."""

    field: str
    message: str


class ValidationErrorBody(BaseModel):
    """A 422 answer naming each bad field."""

    error: str
    errors: list[FieldError]


class IncidentTypeOut(BaseModel):
    """An incident type and its NCMEC wording."""

    key: str
    ncmec_label: str


ERRORS: dict[int | str, dict[str, object]] = {
    401: {"model": ErrorBody, "description": "missing or unknown API key"},
    409: {"model": ErrorBody, "description": "idempotency key reused for another report"},
    413: {"model": ErrorBody, "description": "body too large"},
    422: {"model": ValidationErrorBody, "description": "invalid fields"},
}


REPORT_BODY = {
    "required": True,
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ReportIn"}}},
}


async def submit(
    org: Annotated[Organisation, Depends(current_org)],
    idempotency_key: Annotated[str | None, Header(max_length=128)] = None,
) -> ReportReceipt:
    """Store a report durably and answer 202; a repeat with the same idempotency key answers 200.

    Linking into a case happens right after, in the background; poll the report's URL for it.
    """
    # The signature documents the operation; `IntakeRoute` answers it with `IntakeHandler`.
    raise NotImplementedError


router.add_api_route(
    "/reports",
    submit,
    methods=["POST"],
    status_code=202,
    response_model=ReportReceipt,
    responses={200: {"model": ReportReceipt, "description": "a repeat"}, **ERRORS},
    summary="Submit a report",
    openapi_extra={"requestBody": REPORT_BODY},
    route_class_override=IntakeRoute,
)


@router.get(
    "/reports/{report_id}",
    response_model=ReportReceipt,
    responses={404: {"model": ErrorBody}, **ERRORS},
    summary="A report's state",
)
def status(
    report_id: str, request: Request, org: Annotated[Organisation, Depends(current_org)]
) -> ReportReceipt:
    """The state of one of the calling organisation's reports (and its case once linked)."""
    repo: ReportRepository = request.app.state.intake.reports
    return receipt(repo.visible(org.principal, report_id), False)


class ClaimIn(BaseModel):
    """An agency or organisation says it already handles the subject behind an identifier."""

    model_config = ConfigDict(extra="forbid")

    kind: EntityKind
    value: Annotated[
        str, Field(min_length=1, max_length=512), AfterValidator(refuse_control_characters)
    ]
    reference: Annotated[str, Field(max_length=256)] = ""


class ClaimOut(BaseModel):
    """The claim as recorded: the same answer whether or not any case holds the identifier."""

    kind: EntityKind
    value: str
    claimed_by: str
    reference: str


@router.post(
    "/claims",
    status_code=202,
    response_model=ClaimOut,
    responses={403: {"model": ErrorBody}, **ERRORS},
    summary="Deconflict: record that you already handle an identifier",
)
def claim(
    body: ClaimIn, request: Request, org: Annotated[Organisation, Depends(current_org)]
) -> ClaimOut:
    """Record the calling organisation's claim that it already handles this identifier.

    Only the operator and agencies may claim. The claim is shown to reviewers on any case that
    holds the identifier (now or later); it never removes a case from review, and the answer does
    not say whether any case holds the identifier.
    """
    try:
        entity = Entity.of(body.kind, body.value)
    except InvalidInput as exc:
        raise InvalidInput(f"value: {exc}") from exc
    recorded = ClaimRepository(request.app.state.db).record(
        org.principal, entity, body.reference.strip()
    )
    return ClaimOut(
        kind=entity.kind,
        value=entity.value,
        claimed_by=recorded.claimed_by,
        reference=recorded.reference,
    )


@router.get("/incident-types", response_model=list[IncidentTypeOut], summary="Incident types")
def incident_types() -> list[IncidentTypeOut]:
    """The accepted incident types with their NCMEC CyberTipline wording."""
    return [IncidentTypeOut(key=k.value, ncmec_label=v) for k, v in NCMEC_INCIDENT_LABELS.items()]

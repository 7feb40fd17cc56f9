"""Console action: send a case to NCMEC's CyberTipline (or the local test server) and show ids.

The drafts are built and validated while the reviewer waits (a refusal shows at once); the calls
to NCMEC run after the answer, so retries with backoff never hold a page. The case page lists
every submission with its NCMEC report id, state and last error.

Where reports go is the server's setting, never the reviewer's choice: SAFESTREAM_NCMEC_ENVIRONMENT
(`test`, the default, or `production`) with that environment's credentials; the reporting company
is SAFESTREAM_NCMEC_COMPANY and _CONTACT_EMAIL, else the reviewer's organisation and address.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from safestream.api.web.environment import ConsoleEnvironment, console_environment
from safestream.api.web.pages import Viewer, current_viewer, html_errors
from safestream.api.web.session import CSRF_FIELD, check_csrf
from safestream.core.config import Settings
from safestream.core.cybertip import NcmecEnvironment
from safestream.reports.cybertip import ReportingCompany
from safestream.reports.cybertip_case import case_cybertips
from safestream.reports.ncmec_client import CybertipClient, NcmecCredentials
from safestream.reports.ncmec_worker import SubmissionWorker
from safestream.store.access import Permission
from safestream.store.cases import CaseRepository
from safestream.store.cybertip_submissions import Submission, SubmissionRepository

router = APIRouter(include_in_schema=False)


def configured_environment(settings: Settings) -> NcmecEnvironment:
    """The CyberTipline environment this server reports to (test unless set to production)."""
    production = settings.ncmec_environment == "production"
    return NcmecEnvironment.PRODUCTION if production else NcmecEnvironment.TEST


def case_submissions(env: ConsoleEnvironment, case_id: int) -> list[Submission]:
    """The case's CyberTipline submissions, newest first, for the case page."""
    return SubmissionRepository(env.db).of_case(case_id)


def _worker(env: ConsoleEnvironment, actor: str) -> SubmissionWorker:
    environment = configured_environment(env.settings)
    client = CybertipClient(NcmecCredentials.from_settings(environment, env.settings))
    return SubmissionWorker(SubmissionRepository(env.db), client, env.vault, actor=actor)


def _run(worker: SubmissionWorker, ids: list[int]) -> None:
    try:
        for submission_id in ids:
            worker.submit(submission_id)
    finally:
        worker.client.close()


@router.post("/console/cases/{case_id}/cybertip")
@html_errors
def post_cybertip(
    request: Request,
    case_id: int,
    background: BackgroundTasks,
    viewer: Annotated[Viewer, Depends(current_viewer)],
    csrf_token: Annotated[str, Form(alias=CSRF_FIELD, max_length=128)] = "",
) -> Response:
    """Build, validate and store the case's CyberTipline reports, then submit them."""
    check_csrf(viewer.session, csrf_token)
    viewer.require(Permission.REVIEW)
    env = console_environment(request)
    CaseRepository(env.db).require_changeable(viewer.principal, case_id)
    worker = _worker(env, viewer.actor)
    company = ReportingCompany(
        company=env.settings.ncmec_company or viewer.user.org,
        contact_email=env.settings.ncmec_contact_email or viewer.user.email,
    )
    ids = worker.prepare(case_id, case_cybertips(env.db, case_id, company))
    background.add_task(_run, worker, ids)
    return RedirectResponse(f"/console/cases/{case_id}?flash=cybertip#cybertip", status_code=303)

"""`safestream cybertip ...`: export a case as CyberTipline XML, submit it, follow its status.

    safestream cybertip export 12 --out reports/      # validated XML, one file per report
    safestream cybertip submit 12                     # to NCMEC's test service (or --production)
    safestream cybertip status [12] [--check]      # one JSON line per submission
    safestream cybertip resume 7 | cancel 7
    safestream cybertip test-server --port 8765       # the local test server, for the demo

Credentials come from SAFESTREAM_NCMEC_TEST_USERNAME / _PASSWORD (and _URL, e.g. the local test
server), or SAFESTREAM_NCMEC_PRODUCTION_* with `--production`: the two never mix.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from safestream.cli import context
from safestream.cli.output import emit, note

# The reporting code loads inside the commands, so that `safestream --help` stays quick.
if TYPE_CHECKING:
    from safestream.core.config import Settings
    from safestream.reports.cybertip import ReportingCompany
    from safestream.reports.ncmec_worker import SubmissionWorker
    from safestream.store.cybertip_submissions import Submission, SubmissionRepository
    from safestream.store.database import Database

cybertip_app = typer.Typer(
    help="NCMEC CyberTipline reports: export, submit, status."
    "\n\n\b\nExamples:\n"
    "  safestream cybertip export 12 --out reports/\n"
    "  safestream cybertip status\n",
    no_args_is_help=True,
)

COMPANY_OPTION = typer.Option("", help="Reporting company (default: the ncmec_company setting).")
EMAIL_OPTION = typer.Option(
    "", help="Contact email of the reporting company (default: the ncmec_contact_email setting)."
)
PRODUCTION_OPTION = typer.Option(
    False, "--production", help="Report to NCMEC's production service (default: its test one)."
)


@dataclass
class _Opened:
    settings: Settings
    db: Database
    store: SubmissionRepository


@contextmanager
def _opened() -> Iterator[_Opened]:
    from safestream.store.cybertip_submissions import SubmissionRepository

    db = context.open_database()
    try:
        yield _Opened(context.settings(), db, SubmissionRepository(db))
    finally:
        db.dispose()


def _company(company: str, email: str) -> ReportingCompany:
    from safestream.reports.cybertip import ReportingCompany

    company = company or context.settings().ncmec_company
    email = email or context.settings().ncmec_contact_email
    if not company or not email:
        raise typer.BadParameter(
            "give --company and --contact-email (or SAFESTREAM_NCMEC_COMPANY and "
            "SAFESTREAM_NCMEC_CONTACT_EMAIL)"
        )
    return ReportingCompany(company=company, contact_email=email)


def _worker(opened: _Opened, production: bool) -> SubmissionWorker:
    from safestream.core.cybertip import NcmecEnvironment
    from safestream.reports.ncmec_client import CybertipClient, NcmecCredentials
    from safestream.reports.ncmec_worker import SubmissionWorker
    from safestream.store.vault import EvidenceVault

    env = NcmecEnvironment.PRODUCTION if production else NcmecEnvironment.TEST
    client = CybertipClient(NcmecCredentials.from_settings(env, opened.settings))
    return SubmissionWorker(
        opened.store, client, EvidenceVault.for_settings(opened.settings), actor="cli"
    )


def _show(sub: Submission) -> None:
    emit(
        {
            "submission": sub.id,
            "case": sub.case_id,
            "environment": sub.environment.value,
            "state": sub.state.value,
            "ncmec_report_id": sub.ncmec_report_id,
            "files": sub.files,
            "files_uploaded": sub.files_uploaded,
            "subject": sub.subject,
            "last_error": sub.last_error or None,
        }
    )


@cybertip_app.command("export")
def export(
    case_id: int = typer.Argument(..., help="Case id."),
    out: Path = typer.Option(Path("."), help="Folder for the XML files."),
    company: str = COMPANY_OPTION,
    contact_email: str = EMAIL_OPTION,
) -> None:
    """Write a case's CyberTipline reports as XML files validated against NCMEC's XSD.

    \b
    Example:
      safestream cybertip export 12 --out reports/ --company Acme --contact-email t@acme.example
    """
    from safestream.reports.cybertip_case import case_cybertips
    from safestream.reports.cybertip_schema import require_valid

    reporting = _company(company, contact_email)
    with _opened() as opened:
        drafts = case_cybertips(opened.db, case_id, reporting)
        out.mkdir(parents=True, exist_ok=True)
        for i, draft in enumerate(drafts, start=1):
            require_valid(draft.xml)
            path = out / f"case-{case_id}-cybertip-{i}.xml"
            path.write_text(draft.xml, encoding="utf-8")
            emit({"case": case_id, "file": str(path), "subject": draft.subject,
                  "adjusted": list(draft.notes)})  # fmt: skip


@cybertip_app.command("submit")
def submit(
    case_id: int = typer.Argument(..., help="Case id."),
    production: bool = PRODUCTION_OPTION,
    company: str = COMPANY_OPTION,
    contact_email: str = EMAIL_OPTION,
) -> None:
    """Build a case's reports and send them through open, upload, file details and finish.

    \b
    Examples:
      safestream cybertip submit 12
      safestream cybertip submit 12 --production
    """
    from safestream.reports.cybertip_case import case_cybertips

    reporting = _company(company, contact_email)
    with _opened() as opened:
        worker = _worker(opened, production)
        ids = worker.prepare(case_id, case_cybertips(opened.db, case_id, reporting))
        results = [worker.submit(i) for i in ids]
        for sub in results:
            _show(sub)
        if any(s.state.value != "finished" for s in results):
            raise typer.Exit(1)


@cybertip_app.command("resume")
def resume(
    submission_id: int = typer.Argument(..., help="Submission id (from `status`)."),
    production: bool = PRODUCTION_OPTION,
) -> None:
    """Continue a submission that stopped (server errors): it keeps its NCMEC report id.

    \b
    Example:
      safestream cybertip resume 7
    """
    with _opened() as opened:
        sub = _worker(opened, production).submit(submission_id)
        _show(sub)
        if sub.state.value != "finished":
            raise typer.Exit(1)


@cybertip_app.command("cancel")
def cancel(
    submission_id: int = typer.Argument(..., help="Submission id (from `status`)."),
    production: bool = PRODUCTION_OPTION,
) -> None:
    """Withdraw a submission that is not finished (retracting its open report at NCMEC).

    \b
    Example:
      safestream cybertip cancel 7
    """
    with _opened() as opened:
        _show(_worker(opened, production).cancel(submission_id))


@cybertip_app.command("status")
def status(
    case_id: int | None = typer.Argument(None, help="Case id (default: every case)."),
    check: bool = typer.Option(False, help="Also check NCMEC answers and accepts credentials."),
    production: bool = PRODUCTION_OPTION,
) -> None:
    """List CyberTipline submissions with their NCMEC report ids.

    \b
    Examples:
      safestream cybertip status
      safestream cybertip status 12 --check
    """
    with _opened() as opened:
        if check:
            answer = _worker(opened, production).client.status()
            note(f"CyberTipline answers: {answer.description or 'ok'}")
        subs = opened.store.of_case(case_id)
        if not subs:
            note("no CyberTipline submissions")
        for sub in subs:
            _show(sub)


@cybertip_app.command("test-server")
def test_server(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8765, help="Port to listen on."),
    username: str = typer.Option("esp", envvar="SAFESTREAM_NCMEC_TEST_USERNAME"),
    password: str = typer.Option("test", envvar="SAFESTREAM_NCMEC_TEST_PASSWORD"),
) -> None:
    """Serve the local CyberTipline test server (same protocol as NCMEC's, reports in memory).

    \b
    Example:
      safestream cybertip test-server --port 8765
    """
    import uvicorn

    from safestream.reports.ncmec_test_server import TestServerState, cybertip_test_app

    app = cybertip_test_app(TestServerState(username=username, password=password))
    note(f"CyberTipline test server on http://{host}:{port}/ispws (user {username})")
    note(f"  export SAFESTREAM_NCMEC_TEST_URL=http://{host}:{port}/ispws")
    uvicorn.run(app, host=host, port=port, log_level="warning")


def register(app: typer.Typer) -> None:
    """Add the `cybertip` commands."""
    app.add_typer(cybertip_app, name="cybertip")

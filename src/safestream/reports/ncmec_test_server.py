"""A local CyberTipline test server speaking NCMEC's Reporting API, for tests and the demo.

It checks what NCMEC checks that can be checked offline: Basic authentication, each document
against the XSD (answering 4100 as NCMEC does), no incident time in the future, at most one
reported person unless the report is batched, files and details only for open reports, and a
finish only once (answering 5102 after). Reports live in memory. `faults` lets a test make the
next calls to a route fail with a chosen HTTP status or response code.

    safestream cybertip test-server --port 8765
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, FastAPI, File, Form, Request, Response, UploadFile
from fastapi.security import HTTPBasic, HTTPBasicCredentials
from lxml import etree

from safestream.reports.cybertip_schema import schema_errors
from safestream.reports.ncmec_client import ALREADY_FINISHED, SCHEMA_VIOLATION, SERVER_ERROR
from safestream.reports.ncmec_fields import schema_text

PREFIX = "/ispws"  # NCMEC's base path, so a client only changes the host
UNKNOWN_REPORT = 5100  # this server's code for a report id it never issued or has closed


@dataclass
class ReceivedReport:
    """A report as the test server holds it."""

    report_id: int
    xml: bytes
    files: dict[str, bytes] = field(default_factory=dict)
    details: dict[str, bytes] = field(default_factory=dict)
    finished: bool = False
    retracted: bool = False


@dataclass
class Fault:
    """Make the next call to `path` fail: an HTTP status, or a response code with HTTP 200."""

    path: str
    http_status: int = 200
    code: int = SERVER_ERROR


@dataclass
class TestServerState:
    """Everything the server received, for tests and the demo to inspect."""

    __test__ = False  # not a pytest test class

    username: str
    password: str
    reports: dict[int, ReceivedReport] = field(default_factory=dict)
    faults: deque[Fault] = field(default_factory=deque)
    calls: list[str] = field(default_factory=list)
    next_id: int = 100_000_001
    lock: threading.Lock = field(default_factory=threading.Lock)


def _answer(code: int, description: str = "", **fields: str | int) -> Response:
    root = etree.Element("reportResponse")
    etree.SubElement(root, "responseCode").text = str(code)
    etree.SubElement(root, "responseDescription").text = description
    for name in ("reportId", "fileId", "hash"):
        if name in fields:
            etree.SubElement(root, name).text = str(fields[name])
    body = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return Response(body, media_type="application/xml")


def _refusals(xml: bytes) -> str | None:
    """Why NCMEC would refuse this report document, beyond the schema."""
    root = etree.fromstring(xml, parser=etree.XMLParser(resolve_entities=False))
    when = root.findtext("incidentSummary/incidentDateTime") or ""
    try:
        moment = datetime.fromisoformat(when.replace("Z", "+00:00"))
    except ValueError:
        return "incidentDateTime is not a date and time"
    if (moment if moment.tzinfo else moment.replace(tzinfo=UTC)) > datetime.now(UTC):
        return "incidentDateTime is in the future"
    if len(root.findall("personOrUserReported")) > 1 and root.find("batchedReport") is None:
        return "more than one personOrUserReported in a report that is not batched"
    return None


def cybertip_test_app(state: TestServerState) -> FastAPI:
    """The ASGI app of the test server over `state`."""
    app = FastAPI(title="Local CyberTipline test server", docs_url=None, redoc_url=None)
    app.middleware("http")(_guard(state))
    api = APIRouter()
    _report_routes(api, state)
    _file_routes(api, state)
    app.include_router(api, prefix=PREFIX)
    return app


Handler = Callable[[Request], Awaitable[Response]]


def _guard(state: TestServerState) -> Callable[[Request, Handler], Awaitable[Response]]:
    """Basic authentication, the call log, and the injected faults, before any route."""
    basic = HTTPBasic(auto_error=False)

    async def guard(request: Request, call_next: Handler) -> Response:
        path = request.url.path.removeprefix(PREFIX)
        creds: HTTPBasicCredentials | None = await basic(request)
        ok = (
            creds is not None
            and secrets.compare_digest(creds.username, state.username)
            and secrets.compare_digest(creds.password, state.password)
        )
        if not ok:
            return Response("authentication required", status_code=401)
        with state.lock:
            state.calls.append(path)
            fault = state.faults[0] if state.faults and state.faults[0].path == path else None
            if fault:
                state.faults.popleft()
        if fault and fault.http_status != 200:
            return Response("injected failure", status_code=fault.http_status)
        if fault:
            return _answer(fault.code, "injected failure")
        return await call_next(request)

    return guard


def _report_routes(api: APIRouter, state: TestServerState) -> None:
    """Status, the schema, and opening a report."""

    @api.get("/status")
    def status(request: Request) -> Response:
        host = request.client.host if request.client else "?"
        return _answer(0, f"Remote User : {state.username}, Remote Ip : {host}")

    @api.get("/xsd")
    def xsd() -> Response:
        return Response(schema_text(), media_type="application/xml")

    @api.post("/submit")
    async def submit(request: Request) -> Response:
        xml = await request.body()
        errors = schema_errors(xml)
        refusal = "; ".join(errors[:3]) if errors else _refusals(xml)
        if refusal:
            return _answer(SCHEMA_VIOLATION, refusal)
        with state.lock:
            report_id = state.next_id
            state.next_id += 1
            state.reports[report_id] = ReceivedReport(report_id, xml)
        return _answer(0, reportId=report_id)


def _file_routes(api: APIRouter, state: TestServerState) -> None:
    """Files and their details on an open report, finishing and retracting it."""

    @api.post("/upload")
    async def upload(id: Annotated[str, Form()], file: Annotated[UploadFile, File()]) -> Response:
        report = _open_report(state, id)
        if report is None:
            return _answer(UNKNOWN_REPORT, f"no open report {id}")
        data = await file.read()
        file_id = secrets.token_hex(16)
        report.files[file_id] = data
        md5 = hashlib.md5(data, usedforsecurity=False).hexdigest()
        return _answer(0, reportId=report.report_id, fileId=file_id, hash=md5)

    @api.post("/fileinfo")
    async def fileinfo(request: Request) -> Response:
        xml = await request.body()
        errors = schema_errors(xml)
        if errors:
            return _answer(SCHEMA_VIOLATION, "; ".join(errors[:3]))
        root = etree.fromstring(xml)
        report = _open_report(state, root.findtext("reportId") or "")
        file_id = root.findtext("fileId") or ""
        if report is None or file_id not in report.files:
            return _answer(UNKNOWN_REPORT, "no such open report or file")
        report.details[file_id] = xml
        return _answer(0, reportId=report.report_id)

    @api.post("/finish")
    def finish(id: Annotated[str, Form()]) -> Response:
        with state.lock:
            report = state.reports.get(int(id)) if id.isdigit() else None
            if report is None or report.retracted:
                return _answer(UNKNOWN_REPORT, f"no open report {id}")
            if report.finished:
                return _done(ALREADY_FINISHED, report)
            report.finished = True
        return _done(0, report)

    @api.post("/retract")
    def retract(id: Annotated[str, Form()]) -> Response:
        report = _open_report(state, id)
        if report is None:
            return _answer(UNKNOWN_REPORT, f"no open report {id}")
        report.retracted = True
        return _answer(0, reportId=report.report_id)


def _open_report(state: TestServerState, report_id: str) -> ReceivedReport | None:
    with state.lock:
        report = state.reports.get(int(report_id)) if report_id.strip().isdigit() else None
    if report is None or report.finished or report.retracted:
        return None
    return report


def _done(code: int, report: ReceivedReport) -> Response:
    root = etree.Element("reportDoneResponse")
    etree.SubElement(root, "responseCode").text = str(code)
    etree.SubElement(root, "reportId").text = str(report.report_id)
    files = etree.SubElement(root, "files")
    for file_id in report.files:
        etree.SubElement(files, "fileId").text = file_id
    body = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return Response(body, media_type="application/xml")

"""A client of NCMEC's CyberTipline Reporting API, and how each failure must be handled.

The documented protocol: `POST /submit` (report XML) opens a report and answers its id;
`POST /upload` (multipart `id`, `file`) answers a file id; `POST /fileinfo` (fileDetails XML)
describes an uploaded file; `POST /finish` (form `id`) completes the report; `POST /retract`
(form `id`) withdraws an unfinished one; `GET /status` checks credentials. Answers are
`reportResponse` (or `reportDoneResponse` for finish) XML with a `responseCode`: 0 is success.

Failure classes, so the worker knows what to do:
- `NcmecUnavailable`: connection errors, timeouts, HTTP 429 and 5xx, and response code 1000
  (server error) - retried with backoff;
- `NcmecRejected`: any other non-zero code, e.g. 4100 (the XML does not follow the schema) -
  never retried, since the same document fails the same way;
- `NcmecAuthFailed`: HTTP 401/403 - never retried; the operator must fix the credentials.
Code 5102 on finish means the report is already finished (a finish whose answer was lost), which
the worker treats as success.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from lxml import etree

from safestream.core.config import Settings
from safestream.core.cybertip import NcmecEnvironment
from safestream.core.errors import ExchangeError, InvalidInput

SUCCESS = 0
SERVER_ERROR = 1000
SCHEMA_VIOLATION = 4100
ALREADY_FINISHED = 5102
TIMEOUT_SECONDS = 30.0


class NcmecError(ExchangeError):
    """A CyberTipline call failed."""

    def __init__(self, message: str, code: int | None = None, http_status: int | None = None):
        super().__init__(message)
        self.code = code
        self.status = http_status


class NcmecUnavailable(NcmecError):
    """The service did not answer or answered with a server error: try again later."""


class NcmecRejected(NcmecError):
    """The service refused the request as it is: retrying cannot help."""


class NcmecAuthFailed(NcmecError):
    """The credentials were refused."""


@dataclass(frozen=True)
class NcmecCredentials:
    """A username and password for one environment, and where that environment is."""

    environment: NcmecEnvironment
    username: str
    password: str
    base_url: str

    @classmethod
    def from_settings(cls, environment: NcmecEnvironment, settings: Settings) -> NcmecCredentials:
        """The credentials of one environment from the `ncmec_<env>_*` settings."""
        name = environment.value.lower()
        prefix = f"SAFESTREAM_NCMEC_{environment.value.upper()}_"
        return cls.from_env(
            environment,
            {
                prefix + "USERNAME": getattr(settings, f"ncmec_{name}_username"),
                prefix + "PASSWORD": settings.secret(f"ncmec_{name}_password"),
                prefix + "URL": getattr(settings, f"ncmec_{name}_url"),
            },
        )

    @classmethod
    def from_env(cls, environment: NcmecEnvironment, environ: dict[str, str]) -> NcmecCredentials:
        """Read `SAFESTREAM_NCMEC_<ENV>_USERNAME`, `_PASSWORD` and `_URL` for one environment.

        Test and production read different variables, so test credentials can never be sent to
        production by mistake, and production needs its own variables set on purpose."""
        env = environ
        prefix = f"SAFESTREAM_NCMEC_{environment.value.upper()}_"
        username = env.get(prefix + "USERNAME", "")
        password = env.get(prefix + "PASSWORD", "")
        if not username or not password:
            raise InvalidInput(f"set {prefix}USERNAME and {prefix}PASSWORD to submit to NCMEC")
        url = env.get(prefix + "URL") or environment.default_url
        if environment is NcmecEnvironment.PRODUCTION and url != environment.default_url:
            raise InvalidInput(f"{prefix}URL may not move production reports off NCMEC")
        return cls(environment, username, password, url.rstrip("/"))


@dataclass(frozen=True)
class NcmecAnswer:
    """The parsed answer of one call."""

    code: int
    description: str = ""
    report_id: int | None = None
    file_id: str | None = None
    md5: str | None = None
    files: tuple[str, ...] = ()


def parse_answer(body: bytes) -> NcmecAnswer:
    """Parse a `reportResponse` or `reportDoneResponse`; raise `NcmecUnavailable` on garbage."""
    try:
        root = etree.fromstring(body, parser=etree.XMLParser(resolve_entities=False))
    except etree.XMLSyntaxError as exc:
        raise NcmecUnavailable(f"CyberTipline answered with unreadable XML: {exc}") from exc
    code_text = root.findtext("responseCode")
    if code_text is None or not code_text.strip().lstrip("-").isdigit():
        raise NcmecUnavailable("CyberTipline answer has no responseCode")
    report_id = root.findtext("reportId")
    return NcmecAnswer(
        code=int(code_text),
        description=(root.findtext("responseDescription") or "").strip(),
        report_id=int(report_id) if report_id and report_id.strip().isdigit() else None,
        file_id=(root.findtext("fileId") or "").strip() or None,
        md5=(root.findtext("hash") or "").strip() or None,
        files=tuple((f.text or "").strip() for f in root.findall("files/fileId")),
    )


class CybertipClient:
    """Calls to one CyberTipline environment with Basic authentication."""

    def __init__(self, credentials: NcmecCredentials, http: httpx.Client | None = None) -> None:
        self.credentials = credentials
        self._http = http or httpx.Client(timeout=TIMEOUT_SECONDS)

    @property
    def environment(self) -> NcmecEnvironment:
        """Which service this client reports to."""
        return self.credentials.environment

    def close(self) -> None:
        """Close the connections."""
        self._http.close()

    def status(self) -> NcmecAnswer:
        """Check that the service answers and accepts the credentials."""
        return self._call("GET", "/status")

    def submit(self, report_xml: str) -> int:
        """Open a report; return NCMEC's report id."""
        answer = self._call("POST", "/submit", content=report_xml.encode("utf-8"), xml=True)
        if answer.report_id is None:
            raise NcmecUnavailable("CyberTipline opened a report but sent no reportId")
        return answer.report_id

    def upload(self, report_id: int, filename: str, data: bytes) -> NcmecAnswer:
        """Upload one file to an open report; the answer carries its file id and MD5."""
        answer = self._call(
            "POST", "/upload", data={"id": str(report_id)}, files={"file": (filename, data)}
        )
        if not answer.file_id:
            raise NcmecUnavailable("CyberTipline took a file but sent no fileId")
        return answer

    def file_info(self, details_xml: str) -> None:
        """Send the details of an uploaded file."""
        self._call("POST", "/fileinfo", content=details_xml.encode("utf-8"), xml=True)

    def finish(self, report_id: int) -> NcmecAnswer:
        """Complete a report; after this it reaches NCMEC's analysts."""
        return self._call("POST", "/finish", data={"id": str(report_id)}, done=True)

    def retract(self, report_id: int) -> None:
        """Withdraw a report that is not finished."""
        self._call("POST", "/retract", data={"id": str(report_id)})

    def _call(
        self,
        method: str,
        path: str,
        *,
        content: bytes | None = None,
        data: dict[str, str] | None = None,
        files: dict[str, tuple[str, bytes]] | None = None,
        xml: bool = False,
        done: bool = False,
    ) -> NcmecAnswer:
        creds = self.credentials
        headers = {"Content-Type": "text/xml; charset=utf-8"} if xml else None
        try:
            response = self._http.request(
                method,
                creds.base_url + path,
                auth=(creds.username, creds.password),
                content=content,
                data=data,
                files=files,
                headers=headers,
            )
        except httpx.HTTPError as exc:
            raise NcmecUnavailable(f"CyberTipline {path}: {type(exc).__name__}: {exc}") from exc
        status = response.status_code
        if status in (401, 403):
            raise NcmecAuthFailed(f"CyberTipline {path}: credentials refused", http_status=status)
        if status == 429 or status >= 500:
            raise NcmecUnavailable(f"CyberTipline {path}: HTTP {status}", http_status=status)
        try:
            answer = parse_answer(response.content)
        except NcmecUnavailable as exc:
            if status >= 400:  # 404, 400...: a wrong URL or request, which a retry cannot fix
                message = f"CyberTipline {path}: HTTP {status}"
                raise NcmecRejected(message, http_status=status) from exc
            raise
        if answer.code == SUCCESS and status < 400:
            return answer
        if done and answer.code == ALREADY_FINISHED:
            return answer
        message = f"CyberTipline {path}: code {answer.code} {answer.description}".strip()
        if answer.code == SERVER_ERROR:
            raise NcmecUnavailable(message, answer.code, status)
        raise NcmecRejected(message, answer.code, status)

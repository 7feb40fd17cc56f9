"""Route-by-role matrix: every console page and API route, for every role of three organisations
(the operator hotline, a platform and an agency) and the anonymous caller.

The installation: the hotline "Example Call Co" (operator) triages; "Acme Video" (platform) sends
reports; "NCA" (agency, routing code UK-NCA) receives referred cases. Case X holds a third
platform's report with a photo; case Y was referred to UK-NCA. A test fails on any outcome the
table does not expect, and on any route the table does not list.

Outcomes: `ok` (2xx, or a 303 that is not to the login page), `login` (303 to the login page),
`hidden` (404: outside the caller's scope, indistinguishable from absent), `forbidden` (403),
`conflict` (409), `unauthorised` (401).

A live worker's own HTTP app (`live serve --http`) has its matrix in
`tests/live/test_worker_http_access.py`: every worker route for the anonymous caller, the
operator's token and key, two platforms on one platform's stream, and an agency.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from safestream.cases.review import record_decision
from safestream.core.config import Settings
from safestream.core.principal import Principal
from safestream.core.reports import ReportIn
from safestream.store.access import (
    add_user,
    create_api_key,
    create_org,
    get_org,
    get_user,
)
from safestream.store.panic_keys import issue_panic_key
from tests.web.conftest import (
    KNOWN_BANK,
    LIGHT_ARGON2,
    ORG,
    PASSWORD,
    Console,
    photo_report,
    serving,
)

ROLES = ("admin", "reviewer", "child_safety_reviewer", "auditor")
REVIEWING = {"admin", "reviewer", "child_safety_reviewer"}
MEDIA = {"admin", "child_safety_reviewer"}
AUDIT = {"admin", "auditor"}
ORGS = {"hotline": ORG, "acme": "Acme Video", "nca": "NCA"}
CONSOLE_CALLERS = ["anonymous"] + [f"{o}:{r}" for o in ORGS for r in ROLES]
API_CALLERS = ["anonymous", "key:hotline", "key:acme", "key:nca"]


@dataclass
class World:
    """The running installation and what the probes refer to."""

    console: Console
    clients: dict[str, TestClient]
    keys: dict[str, str]
    case_x: int
    case_y: int
    evidence_x: str
    acme_report: str
    # Keys and people of "Other Platform", which only the operator's administrators manage.
    other: dict[str, int] = field(default_factory=dict)


def _user_client(console: Console, email: str) -> TestClient:
    client = TestClient(console.client.app)
    page = client.get("/console/login")
    token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    answer = client.post(
        "/console/login",
        data={"email": email, "password": PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    return client


def _file(console: Console, org: str, report: ReportIn) -> tuple[str, int]:
    app = console.client.app
    stored = app.state.intake.receive(get_org(console.db, org), report)  # type: ignore[attr-defined]
    linked = app.state.engine.process([stored.report.id])  # type: ignore[attr-defined]
    return stored.report.id, linked[stored.report.id]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    home = tmp_path_factory.mktemp("matrix") / "home"
    settings = Settings(home=home)
    with serving(settings) as console:
        db = console.db
        create_org(db, "Acme Video")
        create_org(db, "NCA", kind="agency", agency_code="UK-NCA")
        create_org(db, "Other Platform")
        clients = {"anonymous": TestClient(console.client.app)}
        for short, name in ORGS.items():
            for role in ROLES:
                email = f"{short}-{role.replace('_', '-')}@example.org"
                add_user(db, email, org=name, role=role, password=PASSWORD, hasher=LIGHT_ARGON2)
                clients[f"{short}:{role}"] = _user_client(console, email)
        keys = {short: create_api_key(db, name).key for short, name in ORGS.items()}
        _, case_x = _file(console, "Other Platform", photo_report("call-x", account="x-1"))
        _, case_y = _file(console, "Other Platform", photo_report("call-y", account="y-1"))
        acme_report, _ = _file(console, "Acme Video", photo_report("call-a", account="a-1"))
        referrer = get_user(db, 1).principal  # the hotline's admin
        record_decision(db, referrer, case_y, "refer", agency="UK-NCA")
        page = clients["hotline:admin"].get(f"/console/cases/{case_x}")
        evidence_x = page.text.split('id="media-', 1)[1][:36]
        other = _other_platforms_access(db)
        yield World(console, clients, keys, case_x, case_y, evidence_x, acme_report, other)


def _other_platforms_access(db: Any) -> dict[str, int]:
    """Two API keys, two panic keys and two people of "Other Platform" for the access probes
    (each probe that changes one uses its own, so the matrix does not depend on order)."""
    found = {}
    for name in ("revoke", "rotate"):
        found[f"api_{name}"] = create_api_key(db, "Other Platform").id
        panic = issue_panic_key(
            db, "Other Platform", origins=["https://other.example"], stream_prefix=f"other-{name}-"
        )
        found[f"panic_{name}"] = panic.info.id
    for name in ("disable", "enable"):
        email = f"other-{name}@example.org"
        found[f"user_{name}"] = add_user(
            db, email, org="Other Platform", role="reviewer", password=PASSWORD, hasher=LIGHT_ARGON2
        ).id
    return found


def outcome(response: httpx.Response) -> str:
    """The matrix's name for an answer."""
    if response.status_code == 303:
        location = response.headers.get("location", "")
        return "login" if location.startswith("/console/login") else "ok"
    names = {401: "unauthorised", 403: "forbidden", 404: "hidden", 409: "conflict"}
    if response.status_code in names:
        return names[response.status_code]
    return "ok" if 200 <= response.status_code < 300 else str(response.status_code)


Expect = Callable[[str], str]


def console_rule(allowed: Callable[[str, str], str]) -> Expect:
    """Anonymous callers go to the login page; logged-in ones get `allowed(org, role)`."""

    def expect(caller: str) -> str:
        if caller == "anonymous":
            return "login"
        org, role = caller.split(":")
        return allowed(org, role)

    return expect


def reviewing(org: str, role: str, *, operator: str, agency: str = "hidden") -> str:
    if role not in REVIEWING:
        return "forbidden"
    return {"hotline": operator, "nca": agency}.get(org, "hidden")


@dataclass(frozen=True)
class Probe:
    """One request in the matrix and what each caller must get."""

    method: str
    route: str  # the route's path template, as the app lists it
    path: Callable[[World], str]
    expect: Expect
    form: dict[str, str] | None = None
    callers: tuple[str, ...] = tuple(CONSOLE_CALLERS)
    json: dict[str, Any] | None = None


MATRIX_REPORT: dict[str, Any] = {
    "source": "platform",
    "reported_accounts": [{"platform": "acme", "id": "matrix-1"}],
    "incident_type": "child_pornography",
}


def _csrf_form(world: World, caller: str, form: dict[str, str]) -> dict[str, str]:
    client = world.clients[caller] if caller in world.clients else world.clients["anonymous"]
    page = client.get("/console/preferences")
    token = ""
    if 'name="csrf_token" value="' in page.text:
        token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    return {**form, "csrf_token": token}


ANY_USER = console_rule(lambda org, role: "ok")


def operator_admin_only(org: str, role: str) -> str:
    """Only the operator's administrators reach another organisation's keys and people."""
    if role != "admin":
        return "forbidden"
    return "ok" if org == "hotline" else "hidden"


X = "/console/cases/{case_id}"

PROBES = [
    Probe("GET", "/console", lambda w: "/console", ANY_USER),
    Probe(
        "GET",
        "/console/queue",
        lambda w: "/console/queue",
        console_rule(lambda o, r: "ok" if r in REVIEWING else "forbidden"),
    ),
    Probe(
        "POST",
        "/console/queue/claim",
        lambda w: "/console/queue/claim",
        console_rule(lambda o, r: "ok" if r in REVIEWING else "forbidden"),
        form={"queue": "nothing-waits-here"},
    ),
    Probe(
        "POST",
        "/console/queue/bulk",
        lambda w: "/console/queue/bulk",
        # Unconfirmed: a confirmation page, listing only the cases the caller may see.
        console_rule(lambda o, r: "ok" if r in REVIEWING else "forbidden"),
        form={"action": "claim", "case": "1"},
    ),
    Probe(
        "GET",
        X,
        lambda w: f"/console/cases/{w.case_x}",
        console_rule(lambda o, r: reviewing(o, r, operator="ok")),
    ),
    Probe(
        "GET",
        X,
        lambda w: f"/console/cases/{w.case_y}",
        console_rule(lambda o, r: reviewing(o, r, operator="ok", agency="ok")),
    ),
    Probe(
        "POST",
        X + "/notes",
        lambda w: f"/console/cases/{w.case_x}/notes",
        console_rule(lambda o, r: reviewing(o, r, operator="ok")),
        form={"body": "matrix note"},
    ),
    Probe(
        "POST",
        X + "/notes",
        lambda w: f"/console/cases/{w.case_y}/notes",
        console_rule(lambda o, r: reviewing(o, r, operator="ok", agency="forbidden")),
        form={"body": "matrix note"},
    ),
    Probe(
        "POST",
        X + "/decisions",
        lambda w: f"/console/cases/{w.case_x}/decisions",
        console_rule(lambda o, r: reviewing(o, r, operator="ok")),
        form={"decision": "escalate", "reason": "matrix"},
    ),
    Probe(
        "POST",
        X + "/release",
        lambda w: f"/console/cases/{w.case_x}/release",
        console_rule(lambda o, r: "conflict" if o == "hotline" else "hidden"),
    ),
    Probe(
        "POST",
        X + "/cybertip",
        lambda w: f"/console/cases/{w.case_x}/cybertip",
        # Allowed callers are not probed: it starts a submission to NCMEC.
        console_rule(lambda o, r: reviewing(o, r, operator="not probed")),
        callers=tuple(c for c in CONSOLE_CALLERS if not c.startswith("hotline:")),
    ),
    Probe(
        "GET",
        "/console/media/{evidence_id}/preview",
        lambda w: f"/console/media/{w.evidence_x}/preview",
        console_rule(
            lambda o, r: "forbidden" if r not in MEDIA else ("ok" if o == "hotline" else "hidden")
        ),
    ),
    Probe(
        "POST",
        X + "/media/{evidence_id}/open",
        lambda w: f"/console/cases/{w.case_x}/media/{w.evidence_x}/open",
        console_rule(
            lambda o, r: "forbidden" if r not in MEDIA else ("ok" if o == "hotline" else "hidden")
        ),
        form={"reason": "matrix"},
    ),
    Probe(
        "GET",
        "/console/audit",
        lambda w: "/console/audit",
        console_rule(lambda o, r: "ok" if r in AUDIT else "forbidden"),
    ),
    Probe(
        "GET",
        "/console/banks",
        lambda w: "/console/banks",
        console_rule(lambda o, r: "ok" if (o, r) == ("hotline", "admin") else "forbidden"),
    ),
    Probe(
        "POST",
        "/console/banks/{name}/verified",
        lambda w: f"/console/banks/{KNOWN_BANK}/verified",
        console_rule(lambda o, r: "ok" if (o, r) == ("hotline", "admin") else "forbidden"),
        form={"verified": "yes"},
    ),
    Probe(
        "POST",
        "/console/views",
        lambda w: "/console/views",
        console_rule(lambda o, r: "ok" if r in REVIEWING else "forbidden"),
        form={"name": "matrix view", "query": "priority=1"},
    ),
    Probe(
        "POST",
        "/console/views/{view_id}/delete",
        lambda w: "/console/views/999999/delete",
        # Nobody's view has this id: a person's views are theirs alone (tests/web/test_saved_views).
        console_rule(lambda o, r: "hidden" if r in REVIEWING else "forbidden"),
    ),
    Probe(
        "GET",
        "/console/access",
        lambda w: "/console/access",
        console_rule(lambda o, r: "ok" if r == "admin" else "forbidden"),
    ),
    *[
        Probe(
            "POST",
            f"/console/access/{kind}/{{key_id}}/{change}",
            lambda w, kind=kind, change=change, prefix=prefix: (
                f"/console/access/{kind}/{w.other[f'{prefix}_{change}']}/{change}"
            ),
            # Another organisation's admins do not learn that Other Platform's keys exist.
            console_rule(operator_admin_only),
        )
        for kind, prefix in (("api-keys", "api"), ("panic-keys", "panic"))
        for change in ("revoke", "rotate")
    ],
    *[
        Probe(
            "POST",
            f"/console/access/users/{{user_id}}/{change}",
            lambda w, change=change: f"/console/access/users/{w.other[f'user_{change}']}/{change}",
            console_rule(operator_admin_only),
        )
        for change in ("disable", "enable")
    ],
    Probe("GET", "/console/password", lambda w: "/console/password", ANY_USER),
    Probe(
        "POST",
        "/console/password",
        lambda w: "/console/password",
        # A wrong current password changes nothing (each caller is one failure of five).
        console_rule(lambda o, r: "unauthorised"),
        form={"current": "not the password", "new": "n" * 12, "again": "n" * 12},
    ),
    Probe("GET", "/console/preferences", lambda w: "/console/preferences", ANY_USER),
    Probe(
        "POST",
        "/console/preferences",
        lambda w: "/console/preferences",
        ANY_USER,
        form={"exposure_budget": "20"},
    ),
    Probe("GET", "/console/break", lambda w: "/console/break", ANY_USER),
    Probe(
        "POST",
        X + "/claimed-elsewhere",
        lambda w: f"/console/cases/{w.case_x}/claimed-elsewhere",
        console_rule(lambda o, r: reviewing(o, r, operator="ok")),
        form={"claimed_by": "Elsewhere", "reference": "M-1"},
    ),
    Probe(
        "GET",
        "/v1/reports/{report_id}",
        lambda w: f"/v1/reports/{w.acme_report}",
        lambda c: {"anonymous": "unauthorised", "key:acme": "ok", "key:hotline": "ok"}.get(
            c, "hidden"
        ),
        callers=tuple(API_CALLERS),
    ),
    Probe(
        "POST",
        "/v1/claims",
        lambda w: "/v1/claims",
        lambda c: {"anonymous": "unauthorised", "key:acme": "forbidden"}.get(c, "ok"),
        callers=tuple(API_CALLERS),
        json={"kind": "account", "value": "examplecall:x-1"},
    ),
    Probe(
        "POST",
        "/v1/reports",
        lambda w: "/v1/reports",
        lambda c: "unauthorised" if c == "anonymous" else "ok",
        callers=tuple(API_CALLERS),
        json=MATRIX_REPORT,
    ),
]

# Routes every caller may reach, or that authenticate by something other than a login or an
# API key; each is covered by its own tests (named here).
# Hashing, matching and bank routes (SafeStream's own and HMA's): any organisation's API key,
# bank changes only by bank curators (their role tests: tests/api). Banks are the installation's
# own reference data, not an organisation's cases or reports, so they are not tenant-scoped; here
# the matrix checks the anonymous column: every one of them answers 401.
KEYED_ROUTES: list[tuple[str, str]] = [
    ("DELETE", "/c/bank/{bank_name}"),
    ("DELETE", "/c/bank/{bank_name}/content/{content_id}"),
    ("DELETE", "/v1/banks/{name}"),
    ("DELETE", "/v1/banks/{name}/entries/{entry_id}"),
    ("GET", "/c/bank/{bank_name}"),
    ("GET", "/c/bank/{bank_name}/content/{content_id}"),
    ("GET", "/c/banks"),
    ("GET", "/c/content_type"),
    ("GET", "/c/signal_type"),
    ("GET", "/h/hash"),
    ("GET", "/m/index/status"),
    ("GET", "/m/lookup"),
    ("GET", "/m/raw_lookup"),
    ("GET", "/metrics"),  # metrics token or operator key: tests/api/test_metrics_access.py
    ("GET", "/v1/banks"),
    ("GET", "/v1/banks/{name}"),
    ("GET", "/v1/banks/{name}/export"),
    ("GET", "/v1/index/status"),
    ("GET", "/v1/lookup"),
    ("POST", "/c/bank/{bank_name}/content"),
    ("POST", "/c/bank/{bank_name}/signal"),
    ("POST", "/c/banks"),
    ("POST", "/h/hash"),
    ("POST", "/m/compare"),
    ("POST", "/m/lookup"),
    ("POST", "/v1/banks"),
    ("POST", "/v1/banks/{name}/entries"),
    ("POST", "/v1/banks/{name}/media"),
    ("POST", "/v1/hash"),
    ("POST", "/v1/lookup"),
    ("POST", "/v1/match"),
    ("PUT", "/c/bank/{bank_name}"),
]

PUBLIC_OR_ELSEWHERE = {
    ("GET", "/console/login"): "tests/web/test_login.py",
    ("POST", "/console/login"): "tests/web/test_login.py",
    ("POST", "/console/logout"): "tests/web/test_login.py",
    ("POST", "/console/break"): "tests/web/test_wellbeing_pages.py",
    ("GET", "/static/{name}"): "static files",
    ("POST", "/v1/panic"): "panic key bound to origins and namespace: test_panic_key_binding.py",
    ("OPTIONS", "/v1/panic"): "CORS preflight",
    ("GET", "/demo/call"): "404 unless demo_mode: tests/web/test_static_and_demo.py",
    ("GET", "/v1/incident-types"): "public reference list",
    ("GET", "/healthz"): "liveness",
    ("GET", "/readyz"): "readiness",
    ("GET", "/site-map"): "HMA's route list",
    ("GET", "/exchange/v1/identity"): "this installation's public key (public by design)",
    ("GET", "/exchange/v1/changes"): "peer-signed requests only (403 unsigned): tests/exchange",
    ("GET", "/status"): "HMA's liveness",
    ("GET", "/status/live"): "HMA's liveness",
    ("GET", "/openapi.json"): "API description",
    ("GET", "/docs"): "API description",
    ("GET", "/redoc"): "API description",
    ("GET", "/"): "redirect to the console (tests/api/test_docs_pages.py)",
}


def _send(world: World, probe: Probe, caller: str) -> httpx.Response:
    url = probe.path(world)
    if caller.startswith("key:"):
        client = world.clients["anonymous"]
        headers = {"Authorization": f"Bearer {world.keys[caller[4:]]}"}
    else:
        client = world.clients[caller]
        headers = {}
    if probe.json is not None:
        return client.request(probe.method, url, json=probe.json, headers=headers)
    if probe.method == "POST":
        form = _csrf_form(world, caller, probe.form or {})
        return client.post(url, data=form, headers=headers, follow_redirects=False)
    return client.request(probe.method, url, headers=headers, follow_redirects=False)


def app_routes(app: Any) -> set[tuple[str, str]]:
    """(method, path) of every route, including those of included routers."""
    found = set()
    for route in app.routes:
        contexts = getattr(route, "effective_route_contexts", None)
        entries = list(contexts()) if contexts is not None else [route]
        for entry in entries:
            for method in set(getattr(entry, "methods", None) or ()) - {"HEAD"}:
                found.add((method, entry.path))
    return found


def test_every_route_is_in_the_matrix_or_named_as_public(world: World) -> None:
    listed = {(p.method, p.route) for p in PROBES} | set(PUBLIC_OR_ELSEWHERE) | set(KEYED_ROUTES)
    routes = app_routes(world.console.client.app)
    assert len(routes) > 40  # the walk reaches routes of included routers
    assert routes - listed == set(), "add each new route to the matrix"


@pytest.mark.parametrize(
    "probe", PROBES, ids=[f"{i}:{p.method} {p.route}" for i, p in enumerate(PROBES)]
)
def test_route_answers_each_caller_as_the_model_says(world: World, probe: Probe) -> None:
    got = {caller: outcome(_send(world, probe, caller)) for caller in probe.callers}
    expected = {caller: probe.expect(caller) for caller in probe.callers}
    assert got == expected


@pytest.mark.parametrize("method,route", KEYED_ROUTES, ids=[f"{m} {r}" for m, r in KEYED_ROUTES])
def test_keyed_route_refuses_the_anonymous_caller(world: World, method: str, route: str) -> None:
    url = re.sub(r"\{[^}]+\}", "x", route)
    assert world.clients["anonymous"].request(method, url).status_code == 401


def test_exchange_changes_refuse_an_unsigned_caller(world: World) -> None:
    assert world.clients["anonymous"].get("/exchange/v1/changes").status_code == 403


def test_platform_reviewer_queue_lists_no_case(world: World) -> None:
    page = world.clients["acme:reviewer"].get("/console/queue")
    assert page.status_code == 200
    assert "/console/cases/" not in page.text


def test_platform_reviewer_claims_nothing(world: World) -> None:
    form = _csrf_form(world, "acme:reviewer", {"queue": "review"})
    answer = world.clients["acme:reviewer"].post(
        "/console/queue/claim", data=form, follow_redirects=False
    )
    assert answer.headers["location"].endswith("flash=empty")


def test_platform_auditor_reads_only_its_own_people_in_the_audit_log(world: World) -> None:
    page = world.clients["acme:auditor"].get("/console/audit")
    assert "hotline-admin@example.org" not in page.text
    assert "acme-auditor@example.org" in page.text or "No entries" in page.text


def test_operator_auditor_reads_every_organisation_in_the_audit_log(world: World) -> None:
    page = world.clients["hotline:auditor"].get("/console/audit")
    assert "hotline-admin@example.org" in page.text


def test_system_principal_sees_every_case(world: World) -> None:
    from safestream.cases.review import get_case

    system = Principal.system("matrix")
    assert get_case(world.console.db, system, world.case_x).id == world.case_x


def test_agency_claim_shows_on_the_case_page_as_its_word(world: World) -> None:
    claim = {"kind": "account", "value": "examplecall:x-1", "reference": "NCA-77"}
    headers = {"Authorization": f"Bearer {world.keys['nca']}"}
    assert world.clients["anonymous"].post("/v1/claims", json=claim, headers=headers).is_success
    page = world.clients["hotline:reviewer"].get(f"/console/cases/{world.case_x}")
    claims = page.text.split('id="claims"', 1)[1].split("</div>", 1)[0]
    assert "NCA" in claims and "NCA-77" in claims

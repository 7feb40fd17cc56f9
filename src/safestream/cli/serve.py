"""Commands: `safestream serve`, `link`, `org create`, `apikey create`, `user add`, `audit verify`.

`serve` runs the API; by default it also starts `link`, which links stored reports into cases in
its own lower-priority process so that linking never takes the CPU intake needs.
"""

from __future__ import annotations

import getpass
import os
import signal
import subprocess
import sys
import threading
from enum import StrEnum

import typer

from safestream.api.linker import LINKER_NICENESS
from safestream.core.config import Settings
from safestream.core.errors import SafeStreamError
from safestream.store import access, audit
from safestream.store.database import Database

org_app = typer.Typer(help="Organisations.", no_args_is_help=True)
apikey_app = typer.Typer(help="API keys of organisations.", no_args_is_help=True)
user_app = typer.Typer(help="Console users.", no_args_is_help=True)
audit_app = typer.Typer(help="The audit log.", no_args_is_help=True)

PASSWORD_ENV = "SAFESTREAM_PASSWORD"


def _store() -> Database:
    db = Database.from_settings(Settings.from_env())
    db.migrate()
    return db


def _fail(exc: SafeStreamError) -> typer.Exit:
    typer.echo(f"error: {exc}", err=True)
    return typer.Exit(exc.exit_code)


class LinkerMode(StrEnum):
    """Where `serve` links stored reports into cases."""

    PROCESS = "process"  # a separate, lower-priority `safestream link` process (the default)
    THREAD = "thread"  # a thread inside each server process
    OFF = "off"  # a pure intake node: a `safestream link` elsewhere links


def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    workers: int = typer.Option(1, min=1, max=64, help="Server processes."),
    linker: LinkerMode = typer.Option(
        LinkerMode.PROCESS,
        help="Link reports in a separate low-priority process, a thread, or off.",
    ),
) -> None:
    """Serve the API and the review console (migrating the store first)."""
    import uvicorn

    from safestream.api.app import LINKER_ENV

    try:
        _store().dispose()
    except SafeStreamError as exc:
        raise _fail(exc) from exc
    os.environ[LINKER_ENV] = "1" if linker is LinkerMode.THREAD else "0"
    link_process = None
    if linker is LinkerMode.PROCESS:
        link_process = subprocess.Popen([sys.executable, "-m", "safestream.cli", "link"])
    typer.echo(f"SafeStream on http://{host}:{port}  (API docs at /docs)")
    try:
        uvicorn.run(
            "safestream.api.app:app_from_env",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level="warning",
            access_log=False,
        )
    finally:
        if link_process is not None:
            link_process.terminate()
            link_process.wait(timeout=30)


def link(
    nice: int = typer.Option(LINKER_NICENESS, min=0, max=19, help="CPU niceness to run at."),
    idle: bool = typer.Option(
        True, help="Run only on otherwise idle CPU (Linux SCHED_IDLE); else at --nice."
    ),
) -> None:
    """Link stored reports into cases until stopped (what `serve` starts beside intake), and
    send the alerts linking raises to the webhooks in `$SAFESTREAM_HOME/notify.yaml`."""
    from safestream.api.linker import run_linker_process
    from safestream.cases.engine import CaseEngine
    from safestream.cases.outbox import OutboxSender

    settings = Settings.from_env()
    db = Database.from_settings(settings)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        outbox = OutboxSender.for_settings(db, settings)
    except SafeStreamError as exc:
        raise _fail(exc) from exc
    try:
        run_linker_process(
            CaseEngine.for_settings(db, settings),
            niceness=nice,
            idle=idle,
            stop=stop,
            outbox=outbox,
        )
    except KeyboardInterrupt:
        pass
    finally:
        outbox.close()
        db.dispose()


@org_app.command("create")
def org_create(name: str) -> None:
    """Create an organisation."""
    try:
        org = access.create_org(_store(), name)
        audit.record(_store(), actor="cli", action="org.create", subject=f"org:{org.id}")
    except SafeStreamError as exc:
        raise _fail(exc) from exc
    typer.echo(f"created organisation {org.name} (id {org.id})")


@apikey_app.command("create")
def apikey_create(org: str) -> None:
    """Issue an API key for an organisation; it is printed once and stored only hashed."""
    try:
        db = _store()
        issued = access.create_api_key(db, org)
        audit.record(db, actor="cli", action="apikey.create", subject=f"apikey:{issued.id}")
    except SafeStreamError as exc:
        raise _fail(exc) from exc
    typer.echo(issued.key)
    typer.echo(
        f"API key {issued.id} for {issued.org}; it is shown only now. "
        "Send it as 'Authorization: Bearer KEY'.",
        err=True,
    )


@user_app.command("add")
def user_add(
    email: str,
    org: str = typer.Option(..., "--org", help="Organisation name."),
    role: str = typer.Option(
        ..., "--role", help="admin, reviewer, child_safety_reviewer or auditor."
    ),
) -> None:
    """Add a console user; the password is read from SAFESTREAM_PASSWORD or asked for."""
    password = os.environ.get(PASSWORD_ENV) or getpass.getpass("Password: ")
    try:
        db = _store()
        user = access.add_user(db, email, org=org, role=role, password=password)
        audit.record(
            db, actor="cli", action="user.add", subject=f"user:{user.id}", details={"role": role}
        )
    except SafeStreamError as exc:
        raise _fail(exc) from exc
    typer.echo(f"added {user.email} to {user.org} as {user.role.value}")


@audit_app.command("verify")
def audit_verify() -> None:
    """Check the audit log's SHA-256 chain; exit 1 and list breaks if any entry was changed."""
    try:
        problems = audit.verify(_store())
    except SafeStreamError as exc:
        raise _fail(exc) from exc
    if problems:
        for p in problems:
            typer.echo(f"entry {p.seq}: {p.problem}", err=True)
        typer.echo(f"audit log is NOT intact: {len(problems)} problem(s)", err=True)
        raise typer.Exit(1)
    typer.echo("audit log intact")


def register(app: typer.Typer) -> None:
    """Add the reports, access and audit commands to the root `safestream` app."""
    app.command("serve")(serve)
    app.command("link")(link)
    app.add_typer(org_app, name="org")
    app.add_typer(apikey_app, name="apikey")
    app.add_typer(user_app, name="user")
    app.add_typer(audit_app, name="audit")

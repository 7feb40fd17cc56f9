"""`safestream org`, `apikey`, `user` and `audit`: who may use this SafeStream, and its log."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from safestream.cli.context import open_database
from safestream.cli.exit_codes import EXIT_SOME_FAILED
from safestream.cli.output import emit, note

if TYPE_CHECKING:
    from safestream.store.access import ApiKeyInfo

org_app = typer.Typer(
    help="Organisations: platforms send reports, the operator (the hotline running SafeStream) "
    "triages every case, agencies see the cases referred to them.\n\n\b\nExamples:\n"
    '  safestream org create "Example Hotline" --kind operator\n'
    '  safestream org create "Acme Video"\n'
    '  safestream org create "NCA" --kind agency --agency-code UK-NCA',
    no_args_is_help=True,
)
apikey_app = typer.Typer(
    help="API keys of organisations: issue, list, revoke, rotate.\n\n\b\nExamples:\n"
    '  safestream apikey create "Example Hotline"\n'
    "  safestream apikey rotate 3",
    no_args_is_help=True,
)
user_app = typer.Typer(
    help="Console users: add, list, set a password, disable.\n\n\b\nExamples:\n"
    '  safestream user add ana@example.org --org "Example Hotline" --role reviewer\n'
    "  safestream user disable ana@example.org",
    no_args_is_help=True,
)
audit_app = typer.Typer(
    help="The audit log.\n\n\b\nExample:\n  safestream audit verify",
    no_args_is_help=True,
)

PASSWORD_ENV = "SAFESTREAM_PASSWORD"


KIND_HELP = "platform (the default), operator (the hotline running SafeStream) or agency."
AGENCY_CODE_HELP = "An agency's routing code (as in routing.yaml): it sees cases referred to it."


@org_app.command("create")
def org_create(
    name: str = typer.Argument(..., help="Name of the organisation."),
    kind: str = typer.Option("platform", "--kind", help=KIND_HELP),
    agency_code: str | None = typer.Option(None, "--agency-code", help=AGENCY_CODE_HELP),
) -> None:
    """Create an organisation (a platform unless told otherwise).

    \b
    Examples:
      safestream org create "Example Hotline" --kind operator
      safestream org create "NCA" --kind agency --agency-code UK-NCA
    """
    from safestream.store import access, audit

    db = open_database()
    org = access.create_org(db, name, kind=kind, agency_code=agency_code)
    audit.record(
        db, actor="cli", action="org.create", subject=f"org:{org.id}", details={"kind": kind}
    )
    emit({"org": org.name, "id": org.id, "kind": org.kind.value})


@org_app.command("set-kind")
def org_set_kind(
    name: str = typer.Argument(..., help="Name of the organisation."),
    kind: str = typer.Argument(..., help=KIND_HELP),
    agency_code: str | None = typer.Option(None, "--agency-code", help=AGENCY_CODE_HELP),
) -> None:
    """Change what an organisation is, for example mark the hotline that runs SafeStream.

    \b
    Example:
      safestream org set-kind "Example Hotline" operator
    """
    from safestream.store import access, audit

    db = open_database()
    org = access.set_org_kind(db, name, kind, agency_code=agency_code)
    audit.record(
        db, actor="cli", action="org.set_kind", subject=f"org:{org.id}", details={"kind": kind}
    )
    emit({"org": org.name, "id": org.id, "kind": org.kind.value})


@org_app.command("list")
def org_list() -> None:
    """List organisations as JSON lines (name, kind, agency code).

    \b
    Example:
      safestream org list
    """
    from safestream.store import access

    for org in access.list_orgs(open_database()):
        kind = {"kind": org.kind.value, "agency_code": org.agency_code}
        emit({"org": org.name, "id": org.id, **kind})


@apikey_app.command("create")
def apikey_create(org: str = typer.Argument(..., help="The organisation's name.")) -> None:
    """Issue an API key for an organisation; it is printed once and stored only hashed.

    \b
    Example:
      safestream apikey create "Example Hotline" | jq -r .api_key > hotline.key
    """
    from safestream.store import access, audit

    db = open_database()
    issued = access.create_api_key(db, org)
    audit.record(db, actor="cli", action="apikey.create", subject=f"apikey:{issued.id}")
    emit({"api_key": issued.key, "id": issued.id, "org": issued.org})
    note(
        f"API key {issued.id} for {issued.org}; it is shown only now. "
        "Send it as 'Authorization: Bearer KEY'."
    )


def _key_line(info: ApiKeyInfo) -> dict[str, object]:
    return {
        "id": info.id,
        "org": info.org,
        "prefix": info.prefix,
        "created_at": info.created_at.isoformat(),
        "revoked_at": info.revoked_at.isoformat() if info.revoked_at else None,
    }


@apikey_app.command("list")
def apikey_list(
    org: str | None = typer.Argument(None, help="Only this organisation's keys."),
) -> None:
    """List API keys as JSON lines (id, organisation, first characters, revoked or not).

    \b
    Example:
      safestream apikey list "Example Hotline"
    """
    from safestream.store import access

    for info in access.list_api_keys(open_database(), org):
        emit(_key_line(info))


@apikey_app.command("revoke")
def apikey_revoke(
    key_id: int = typer.Argument(..., help="The key's id (from apikey list)."),
) -> None:
    """Revoke an API key: every server refuses it within a second.

    \b
    Example:
      safestream apikey revoke 3
    """
    from safestream.store import access, audit

    db = open_database()
    info = access.revoke_api_key(db, key_id)
    audit.record(db, actor="cli", action="apikey.revoke", subject=f"apikey:{info.id}")
    emit(_key_line(info))


@apikey_app.command("rotate")
def apikey_rotate(
    key_id: int = typer.Argument(..., help="The key's id (from apikey list)."),
) -> None:
    """Revoke an API key and issue its organisation a new one, printed once.

    \b
    Example:
      safestream apikey rotate 3 | jq -r .api_key > hotline.key
    """
    from safestream.store import access, audit

    db = open_database()
    issued = access.rotate_api_key(db, key_id)
    audit.record(
        db,
        actor="cli",
        action="apikey.rotate",
        subject=f"apikey:{key_id}",
        details={"new_key": issued.id},
    )
    emit({"api_key": issued.key, "id": issued.id, "org": issued.org, "revoked": key_id})
    note(f"API key {key_id} revoked; new key {issued.id} for {issued.org} is shown only now.")


@user_app.command("add")
def user_add(
    email: str = typer.Argument(..., help="The user's e-mail address (their login)."),
    org: str = typer.Option(..., "--org", help="Organisation name."),
    role: str = typer.Option(
        ..., "--role", help="admin, reviewer, child_safety_reviewer or auditor."
    ),
    password: str | None = typer.Option(
        None,
        envvar=PASSWORD_ENV,
        show_envvar=True,
        hidden=True,
        help="The password (else asked for without echo).",
    ),
) -> None:
    """Add a console user; the password is read from SAFESTREAM_PASSWORD or asked for.

    \b
    Example:
      safestream user add ana@example.org --org "Example Hotline" --role reviewer
    """
    import getpass

    from safestream.store import access, audit

    password = password or getpass.getpass("Password: ")
    db = open_database()
    user = access.add_user(db, email, org=org, role=role, password=password)
    audit.record(
        db, actor="cli", action="user.add", subject=f"user:{user.id}", details={"role": role}
    )
    emit({"user": user.email, "id": user.id, "org": user.org, "role": user.role.value})


@user_app.command("set-password")
def user_set_password(
    email: str = typer.Argument(..., help="The user's e-mail address (their login)."),
    password: str | None = typer.Option(
        None,
        envvar=PASSWORD_ENV,
        show_envvar=True,
        hidden=True,
        help="The new password (else asked for without echo).",
    ),
) -> None:
    """Set a user's password; every console session they have open ends at once.

    \b
    Example:
      safestream user set-password ana@example.org
    """
    import getpass

    from safestream.store import access, audit

    password = password or getpass.getpass("New password: ")
    db = open_database()
    user, ended = access.set_password(db, email, password)
    audit.record(
        db,
        actor="cli",
        action="user.set_password",
        subject=f"user:{user.id}",
        details={"sessions_ended": ended},
    )
    emit({"user": user.email, "id": user.id, "sessions_ended": ended})


@user_app.command("list")
def user_list() -> None:
    """List console users as JSON lines (e-mail, organisation, role, active or disabled).

    \b
    Example:
      safestream user list
    """
    from safestream.store import access

    for user in access.list_users(open_database()):
        emit(
            {
                "user": user.email,
                "id": user.id,
                "org": user.org,
                "role": user.role.value,
                "active": user.active,
            }
        )


def _set_active(email: str, active: bool) -> None:
    from safestream.store import access, audit

    db = open_database()
    user, ended = access.set_user_active(db, email, active)
    action = "user.enable" if active else "user.disable"
    details: dict[str, object] = {"sessions_ended": ended}
    audit.record(db, actor="cli", action=action, subject=f"user:{user.id}", details=details)
    emit({"user": user.email, "id": user.id, "active": user.active, "sessions_ended": ended})


@user_app.command("disable")
def user_disable(
    email: str = typer.Argument(..., help="The user's e-mail address (their login)."),
) -> None:
    """Disable a user: their open console sessions end at once and they cannot log in.

    \b
    Example:
      safestream user disable ana@example.org
    """
    _set_active(email, False)


@user_app.command("enable")
def user_enable(
    email: str = typer.Argument(..., help="The user's e-mail address (their login)."),
) -> None:
    """Let a disabled user log in again (old sessions stay ended).

    \b
    Example:
      safestream user enable ana@example.org
    """
    _set_active(email, True)


@audit_app.command("verify")
def audit_verify() -> None:
    """Check the audit log's keyed chain and signed checkpoint; exit 1 and list any break.

    Entries written before the home had an audit key are counted as "unkeyed legacy".

    \b
    Example:
      safestream audit verify
    """
    from safestream.store import audit

    found = audit.check(open_database())
    if found.legacy:
        note(f"{found.legacy} unkeyed legacy entries (written before the audit key; SHA-256 only)")
    if found.problems:
        for p in found.problems:
            note(f"entry {p.seq}: {p.problem}")
        note(f"audit log is NOT intact: {len(found.problems)} problem(s)")
        raise typer.Exit(EXIT_SOME_FAILED)
    emit({"audit_log": "intact"})


def register(app: typer.Typer) -> None:
    """Add the organisation, key, user and audit groups to the root `safestream` app."""
    app.add_typer(org_app, name="org")
    app.add_typer(apikey_app, name="apikey")
    app.add_typer(user_app, name="user")
    app.add_typer(audit_app, name="audit")

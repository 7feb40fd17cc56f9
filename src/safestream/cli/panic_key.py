"""`safestream panic-key`: issue, list, revoke and rotate publishable panic-button keys."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from safestream.cli import context
from safestream.cli.output import emit, note

if TYPE_CHECKING:
    from safestream.store.panic_keys import PanicKeyInfo

SCRIPT_TAG = (
    '<script src="{base}/static/panic-button.js" data-stream-id="{prefix}CALL-ID" '
    'data-key="{key}" data-endpoint="{base}/v1/panic"></script>'
)

panic_key_app = typer.Typer(
    help="Publishable panic-button keys: each works only from its origins and for stream ids "
    "in its organisation's namespace.\n\n\b\nExample:\n"
    '  safestream panic-key create "Example Calls" --origin https://calls.example '
    "--stream-prefix examplecalls-",
    no_args_is_help=True,
)


def _line(info: PanicKeyInfo) -> dict[str, object]:
    return {
        "id": info.id,
        "org": info.org.name,
        "prefix": info.prefix,
        "origins": list(info.origins),
        "stream_prefix": info.stream_prefix,
        "created_at": info.created_at.isoformat(),
        "revoked_at": info.revoked_at.isoformat() if info.revoked_at else None,
    }


def _print_tag(key: str, stream_prefix: str, base_url: str) -> None:
    note("Embed in the call page (replace CALL-ID; the stream id must keep the prefix):")
    note(SCRIPT_TAG.format(base=base_url.rstrip("/"), key=key, prefix=stream_prefix))


BASE_URL_HELP = "Where `safestream serve` is reachable from call pages."


@panic_key_app.command("create")
def create(
    org: str = typer.Argument(..., help="Organisation name."),
    origin: list[str] = typer.Option(
        ..., "--origin", help="Origin of the call pages (scheme://host[:port]); repeatable."
    ),
    stream_prefix: str = typer.Option(
        ..., "--stream-prefix", help="The organisation's stream ids all start with this."
    ),
    base_url: str = typer.Option("http://127.0.0.1:8000", help=BASE_URL_HELP),
) -> None:
    """Issue a panic-button key; it is printed once, with the tag to embed it.

    \b
    Example:
      safestream panic-key create "Example Calls" --origin https://calls.example \\
        --stream-prefix examplecalls- --base-url https://safestream.example.org
    """
    from safestream.store import audit
    from safestream.store.panic_keys import issue_panic_key

    db = context.open_database()
    issued = issue_panic_key(db, org, origins=origin, stream_prefix=stream_prefix)
    audit.record(db, actor="cli", action="panic_key.create", subject=f"panic_key:{issued.info.id}")
    emit({"panic_key": issued.key, **_line(issued.info)})
    _print_tag(issued.key, issued.info.stream_prefix, base_url)


@panic_key_app.command("list")
def list_keys(
    org: str | None = typer.Argument(None, help="Only this organisation's keys."),
) -> None:
    """List panic keys as JSON lines (origins, namespace, revoked or not; never the key).

    \b
    Example:
      safestream panic-key list "Example Calls"
    """
    from safestream.store.panic_keys import list_panic_keys

    for info in list_panic_keys(context.open_database(), org):
        emit(_line(info))


@panic_key_app.command("revoke")
def revoke(key_id: int = typer.Argument(..., help="The key's id (from panic-key list).")) -> None:
    """Revoke a panic key: the next press with it is refused.

    \b
    Example:
      safestream panic-key revoke 2
    """
    from safestream.store import audit
    from safestream.store.panic_keys import revoke_panic_key

    db = context.open_database()
    info = revoke_panic_key(db, key_id)
    audit.record(db, actor="cli", action="panic_key.revoke", subject=f"panic_key:{info.id}")
    emit(_line(info))


@panic_key_app.command("rotate")
def rotate(
    key_id: int = typer.Argument(..., help="The key's id (from panic-key list)."),
    base_url: str = typer.Option("http://127.0.0.1:8000", help=BASE_URL_HELP),
) -> None:
    """Revoke a panic key and issue one with the same origins and namespace, printed once.

    \b
    Example:
      safestream panic-key rotate 2
    """
    from safestream.store import audit
    from safestream.store.panic_keys import rotate_panic_key

    db = context.open_database()
    issued = rotate_panic_key(db, key_id)
    audit.record(
        db,
        actor="cli",
        action="panic_key.rotate",
        subject=f"panic_key:{key_id}",
        details={"new_key": issued.info.id},
    )
    emit({"panic_key": issued.key, "revoked": key_id, **_line(issued.info)})
    _print_tag(issued.key, issued.info.stream_prefix, base_url)


def register(app: typer.Typer) -> None:
    """Add the panic-key group to the root CLI."""
    app.add_typer(panic_key_app, name="panic-key")

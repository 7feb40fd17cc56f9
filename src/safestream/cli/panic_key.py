"""`safestream panic-key ORG`: print an organisation's publishable panic-button key and its tag."""

from __future__ import annotations

import typer

from safestream.api.web.panic_keys import PanicKeys
from safestream.api.web.session import load_or_create_secret
from safestream.core.config import Settings
from safestream.core.errors import SafeStreamError
from safestream.store.access import get_org
from safestream.store.database import Database

SCRIPT_TAG = (
    '<script src="{base}/static/panic-button.js" data-stream-id="CALL-ID" data-key="{key}" '
    'data-endpoint="{base}/v1/panic"></script>'
)


def panic_key(
    org: str = typer.Argument(..., help="Organisation name."),
    base_url: str = typer.Option(
        "http://127.0.0.1:8000", help="Where `safestream serve` is reachable from call pages."
    ),
) -> None:
    """Print the publishable panic-button key of an organisation and the tag to embed it."""
    settings = Settings.from_env()
    db = Database.from_settings(settings)
    try:
        db.migrate()
        org_id = get_org(db, org).id
    except SafeStreamError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(exc.exit_code) from exc
    finally:
        db.dispose()
    key = PanicKeys(load_or_create_secret(settings.home)).issue(org_id)
    typer.echo(key)
    typer.echo("Embed in the call page (replace CALL-ID with the call's stream id):", err=True)
    typer.echo(SCRIPT_TAG.format(base=base_url.rstrip("/"), key=key), err=True)


def register(app: typer.Typer) -> None:
    """Add the console's commands to the root CLI."""
    app.command("panic-key")(panic_key)

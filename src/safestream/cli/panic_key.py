"""`safestream panic-key ORG`: print an organisation's publishable panic-button key and its tag."""

from __future__ import annotations

import typer

from safestream.cli import context
from safestream.cli.output import emit, note

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
    """Print the publishable panic-button key of an organisation and the tag to embed it.

    \b
    Example:
      safestream panic-key "Example Calls" --base-url https://safestream.example.org
    """
    from safestream.api.web.panic_keys import PanicKeys
    from safestream.api.web.session import load_or_create_secret
    from safestream.store.access import get_org

    db = context.open_database()
    try:
        org_id = get_org(db, org).id
    finally:
        db.dispose()
    key = PanicKeys(load_or_create_secret(context.settings().home)).issue(org_id)
    emit({"panic_key": key, "org": org})
    note("Embed in the call page (replace CALL-ID with the call's stream id):")
    note(SCRIPT_TAG.format(base=base_url.rstrip("/"), key=key))


def register(app: typer.Typer) -> None:
    """Add the console's commands to the root CLI."""
    app.command("panic-key")(panic_key)

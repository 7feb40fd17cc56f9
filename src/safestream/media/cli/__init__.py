"""Media commands: `safestream hash`, `safestream bank ...`, `safestream match`."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the media commands to the root `safestream` app."""
    from safestream.media.cli.hash import register as register_hash

    register_hash(app)
    from safestream.media.cli.bank import bank_app
    from safestream.media.cli.match import match

    app.add_typer(bank_app, name="bank")
    app.command("match")(match)

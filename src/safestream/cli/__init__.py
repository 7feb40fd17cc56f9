"""The `safestream` command: one package holds every sub-command; this module assembles them."""

from __future__ import annotations

import typer

from safestream import __version__

app = typer.Typer(
    name="safestream",
    help="Detect, report, investigate and share signals of live-streamed child abuse.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.command()
def version() -> None:
    """Print the SafeStream version."""
    typer.echo(__version__)


def _register() -> None:
    # Registration order is help order.
    from safestream.cli import bank, cybertip, finance, hash, live, match, panic_key, serve

    hash.register(app)
    app.add_typer(bank.bank_app, name="bank")
    app.command("match")(match.match)
    serve.register(app)
    finance.register(app)
    live.register(app)
    panic_key.register(app)
    cybertip.register(app)


_register()

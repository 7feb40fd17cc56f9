"""The `safestream` command: each part contributes its commands; this module only assembles them."""

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
    # Each part owns its commands in its own module; registration order is help order.
    from safestream.media.cli import register as register_media

    register_media(app)

    from safestream.reports.cli import register as register_reports

    register_reports(app)

    from safestream.finance.cli import register as register_finance

    register_finance(app)

    from safestream.live.cli import register as register_live

    register_live(app)

    from safestream.api.web.cli import register as register_console

    register_console(app)


_register()

if __name__ == "__main__":
    app()

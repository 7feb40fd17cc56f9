"""The `safestream` command: one package holds every sub-command; this module assembles them.

Command modules are imported only when their command runs (`command_table` lists them), and
each command imports the parts it needs (numba, PyAV, SQLAlchemy, DuckDB, FastAPI) when it
runs, so `--help` is quick.
Results go to stdout as JSON lines; progress, notes and errors go to stderr. Exit statuses are
in `safestream.cli.exit_codes`.
"""

from __future__ import annotations

from pathlib import Path

import typer

from safestream import __version__
from safestream.cli import context
from safestream.cli.command_group import SafeStreamGroup

app = typer.Typer(
    name="safestream",
    cls=SafeStreamGroup,
    help="Detect, report, investigate and share signals of live-streamed child abuse.\n\n"
    "\b\nExamples:\n"
    "  safestream hash photo.jpg\n"
    "  safestream match uploads/ --bank known > hits.jsonl\n"
    "  safestream serve --port 8000",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    add_completion=False,
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(__version__)
        raise typer.Exit()


@app.callback()
def root(
    version: bool = typer.Option(
        False,
        "--version",
        is_eager=True,
        callback=_print_version,
        help="Print the SafeStream version and exit.",
    ),
    config: Path | None = typer.Option(
        None,
        "--config",
        help="TOML settings file (default: $SAFESTREAM_CONFIG, else safestream.toml in the "
        "home); see docs/configuration.md.",
    ),
) -> None:
    """Detect, report, investigate and share signals of live-streamed child abuse."""
    context.use_config_file(config)


@app.command()
def version() -> None:
    """Print the SafeStream version.

    \b
    Example:
      safestream version
    """
    typer.echo(__version__)

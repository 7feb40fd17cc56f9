"""Running a `safestream` command in-process and reading the JSON lines it writes to stdout."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from safestream.cli import app


def run_cli(*args: str) -> tuple[int, list[dict[str, object]], str]:
    """Exit code, the JSON objects on stdout (other lines skipped) and stderr of one command."""
    result = CliRunner().invoke(app, list(args))
    lines = [json.loads(x) for x in result.stdout.splitlines() if x.startswith("{")]
    return result.exit_code, lines, result.stderr

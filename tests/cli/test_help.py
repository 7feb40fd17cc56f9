"""Every command's help is written for people: examples, and no Python type names."""

from __future__ import annotations

import re

import pytest
import typer
from typer._click import Command
from typer.testing import CliRunner

from safestream import __version__
from safestream.cli import app
from tests.cli.loaded_modules import packages_loaded_by

PYTHON_TYPES = re.compile(r"<[a-z]+[\[\] a-z|,]*>|\b(?:list|dict|tuple)\[|NoneType|\bbool\b")


def _commands(command: Command, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [path]
    for name, sub in getattr(command, "commands", {}).items():
        found += _commands(sub, (*path, name))
    return found


ALL = _commands(typer.main.get_command(app))


@pytest.mark.parametrize("path", ALL, ids=lambda p: " ".join(p) or "safestream")
def test_help_shows_examples_and_no_python_types(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(app, [*path, "--help"], terminal_width=100)
    assert result.exit_code == 0
    assert "Example" in result.stdout, "give an example of use"
    assert not PYTHON_TYPES.findall(result.stdout)


def test_version_option_prints_the_version() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert (result.exit_code, result.stdout.strip()) == (0, __version__)


def test_a_usage_error_exits_2_and_a_failed_command_exits_1(home: object) -> None:
    assert CliRunner().invoke(app, ["bank", "create"]).exit_code == 2
    result = CliRunner().invoke(app, ["bank", "remove", "no-such-bank", "1"])
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ")
    assert result.stdout == ""


def test_a_malformed_setting_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAFESTREAM_SWITCH_INTERVAL", "fast")
    result = CliRunner().invoke(app, ["bank", "list"])
    assert result.exit_code == 2
    assert "switch_interval" in result.stderr


def test_help_starts_without_the_heavy_parts() -> None:
    # numba kernels, PyAV, DuckDB, FastAPI, SQLAlchemy and scikit-learn load only in commands.
    heavy = {"numba", "av", "duckdb", "fastapi", "sqlalchemy", "sklearn", "numpy"}
    assert heavy & packages_loaded_by("--help") == set()

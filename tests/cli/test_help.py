"""Every command's help is written for people: examples, and no Python type names."""

from __future__ import annotations

import re

import pytest
import typer
from typer._click import Command, Context
from typer.testing import CliRunner

from safestream import __version__
from safestream.cli import app
from safestream.cli.command_group import SafeStreamGroup
from safestream.cli.command_table import COMMANDS
from tests.cli.loaded_modules import modules_loaded_by, packages_loaded_by

PYTHON_TYPES = re.compile(r"<[a-z]+[\[\] a-z|,]*>|\b(?:list|dict|tuple)\[|NoneType|\bbool\b")


def _root() -> tuple[SafeStreamGroup, Context]:
    root = typer.main.get_command(app)
    assert isinstance(root, SafeStreamGroup)
    return root, root.make_context("safestream", [], resilient_parsing=True)


def _commands(command: Command, ctx: Context, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [path]
    if isinstance(command, typer.core.TyperGroup):
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            assert sub is not None, name
            found += _commands(sub, ctx, (*path, name))
    return found


ALL = _commands(*_root())


@pytest.mark.parametrize("path", ALL, ids=lambda p: " ".join(p) or "safestream")
def test_help_shows_examples_and_no_python_types(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(app, [*path, "--help"], terminal_width=100)
    assert result.exit_code == 0
    assert "Example" in result.stdout, "give an example of use"
    assert not PYTHON_TYPES.findall(result.stdout)


@pytest.mark.parametrize("name", COMMANDS)
def test_the_command_table_summary_is_the_first_paragraph_of_the_command_help(name: str) -> None:
    root, ctx = _root()
    command = root.get_command(ctx, name)
    assert command is not None
    assert command.get_short_help_str(limit=10_000) == COMMANDS[name].summary


def test_root_help_lists_the_same_lines_before_and_after_the_commands_load() -> None:
    root, ctx = _root()
    before = root.get_help(ctx)
    root.load_all(ctx)
    assert root.get_help(ctx) == before


COMMAND_MODULES = {entry.module for entry in COMMANDS.values()}


def test_root_help_imports_no_command_module() -> None:
    assert modules_loaded_by("--help") & COMMAND_MODULES == set()


def test_a_command_imports_only_its_own_command_module() -> None:
    assert modules_loaded_by("hash", "--help") & COMMAND_MODULES == {"safestream.cli.hash"}


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

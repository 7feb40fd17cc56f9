"""The root command group: the one place errors become exit statuses, and help stays plain.

Commands raise `SafeStreamError` subclasses; this group prints `error: MESSAGE` on stderr and
exits with the status from `exit_codes`. Usage errors are click's (status 2). Top-level
commands are loaded from `command_table` when first asked for, so a run imports (and builds the
help of) only the command it runs.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Any, get_args

import typer
from typer._click import Command, Context, HelpFormatter, Parameter
from typer._click.utils import make_default_short_help
from typer.core import TyperArgument, TyperGroup, TyperOption

from safestream.cli.command_table import COMMANDS
from safestream.cli.exit_codes import exit_code_for
from safestream.cli.plain_values import plain_values
from safestream.cli.store_errors import as_command_error, one_line


class SafeStreamGroup(TyperGroup):
    """Typer's group with one error-to-exit-status mapping and help without Python types."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        _tidy_help(self)

    def parse_args(self, ctx: Context, args: list[str]) -> list[str]:
        # Help options are made on first use, after __init__ tidied the declared parameters.
        _plain_help_options(self, ctx)
        return super().parse_args(ctx, args)

    def list_commands(self, ctx: Context) -> list[str]:
        unlisted = [name for name in self.commands if name not in COMMANDS]
        return [*unlisted, *COMMANDS]

    def get_command(self, ctx: Context, cmd_name: str) -> Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            self._load(COMMANDS[cmd_name].module, ctx)
        return super().get_command(ctx, cmd_name)

    def load_all(self, ctx: Context) -> None:
        """Load every command (what the help tests compare the table with)."""
        for name in COMMANDS:
            self.get_command(ctx, name)

    def _load(self, module_name: str, ctx: Context) -> None:
        holder = typer.Typer(rich_markup_mode=None, add_completion=False)
        importlib.import_module(module_name).register(holder)
        for name, command in typer.main.get_group(holder).commands.items():
            _tidy_help(command)
            _plain_help_options(command, ctx)
            self.commands.setdefault(name, command)

    def format_commands(self, ctx: Context, formatter: HelpFormatter) -> None:
        # The root help lists summaries from the table rather than importing every command.
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = []
        for name in names:
            loaded = self.commands.get(name)
            if loaded is None:
                rows.append((name, make_default_short_help(COMMANDS[name].summary, limit)))
            elif not loaded.hidden:
                rows.append((name, loaded.get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def invoke(self, ctx: Context) -> Any:
        try:
            return super().invoke(ctx)
        except typer.Exit:
            # Every command ends this way; mapping it would import the store's fault
            # classifier (and SQLAlchemy) on each run, a quarter second of start-up for `hash`.
            raise
        except Exception as error:  # database drivers raise their own trees too
            report = as_command_error(error)
            if report is None:
                raise
            sys.stdout.flush()
            sys.stderr.write(f"error: {one_line(report)}\n")
            raise typer.Exit(exit_code_for(report)) from error


class _PlainArgument(TyperArgument):
    """An argument whose help line shows its name only (its meaning is in its help text)."""

    def display_type_rich(self, ctx: Context) -> str | None:
        return None


# Typer would show annotations such as `<list[Path]>`; users read these words instead.
_METAVARS: dict[object, str] = {int: "N", float: "NUMBER", str: "TEXT", Path: "PATH"}


def _tidy_help(command: Command) -> None:
    for param in command.params:
        _tidy_param(param)
    for sub in getattr(command, "commands", {}).values():
        _tidy_help(sub)


def _tidy_param(param: Parameter) -> None:
    _use_plain_values(param)
    if isinstance(param, TyperArgument):
        if param.metavar is None:
            param.metavar = (param.name or "value").upper()
        param.__class__ = _PlainArgument
    elif isinstance(param, TyperOption) and param.metavar is None and not param.is_flag:
        param.metavar = _metavar(param)


def _plain_help_options(command: Command, ctx: Context) -> None:
    _use_plain_values(command.get_help_option(ctx))
    for sub in getattr(command, "commands", {}).values():
        _plain_help_options(sub, ctx)


def _use_plain_values(param: Parameter | None) -> None:
    if isinstance(param, (TyperArgument, TyperOption)) and param._runtime_param is None:
        # Set before first use, so Typer never builds (nor imports) its pydantic conversion.
        param._runtime_param = plain_values(param.type_descriptor)


def _metavar(param: TyperOption) -> str:
    described = param.type_descriptor
    if described.is_choice:
        return "[" + "|".join(str(getattr(c, "value", c)) for c in described.choices or ()) + "]"
    annotation = described.annotation
    if described.is_list and get_args(annotation):
        annotation = get_args(annotation)[0]
    return _METAVARS.get(annotation, "PATH" if described.is_path else "VALUE")

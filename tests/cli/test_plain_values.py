"""Command-line values are converted without pydantic, with Typer's rules and clear messages."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from safestream.cli.command_group import SafeStreamGroup
from tests.cli.loaded_modules import packages_loaded_by


class Colour(StrEnum):
    RED = "red"
    BLUE = "blue"


def _app() -> typer.Typer:
    app = typer.Typer(cls=SafeStreamGroup)

    @app.command()
    def show(
        paths: list[Path] = typer.Argument(..., help="Files."),
        count: int = typer.Option(1, "--count", min=1, max=9, help="How many."),
        ratio: float = typer.Option(0.5, "--ratio", help="A share."),
        colour: Colour = typer.Option(Colour.RED, "--colour", help="A colour."),
        tags: list[str] = typer.Option([], "--tag", help="Tags."),
        loud: bool = typer.Option(False, "--loud", help="Shout."),
    ) -> None:
        """Print what arrived."""
        print(repr((paths, count, ratio, colour, tags, loud)))

    @app.command()
    def other() -> None:
        """A second command, so the app is a group."""

    return app


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(_app(), ["show", *args])
    return result.exit_code, result.output


def test_values_arrive_as_their_annotated_types() -> None:
    code, output = _run(
        "a.jpg",
        "b",
        "--count",
        "3",
        "--ratio",
        "0.25",
        "--colour",
        "blue",
        "--tag",
        "x",
        "--tag",
        "y",
        "--loud",
    )
    assert code == 0
    assert output.strip() == repr(
        ([Path("a.jpg"), Path("b")], 3, 0.25, Colour.BLUE, ["x", "y"], True)
    )


def test_defaults_keep_their_types() -> None:
    code, output = _run("a.jpg")
    assert (code, output.strip()) == (0, repr(([Path("a.jpg")], 1, 0.5, Colour.RED, [], False)))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--count", "x"), "'x' is not an integer"),
        (("--count", "2.5"), "'2.5' is not an integer"),
        (("--count", "0"), "0 is below the minimum, 1"),
        (("--count", "10"), "10 is above the maximum, 9"),
        (("--ratio", "half"), "'half' is not a number"),
        (("--colour", "green"), "'green' is not one of 'red', 'blue'"),
    ],
)
def test_a_bad_value_is_a_usage_error_naming_the_option(
    args: tuple[str, ...], message: str
) -> None:
    code, output = _run("a.jpg", *args)
    assert code == 2
    assert f"Invalid value for '{args[0]}'" in output
    assert message in output


def test_a_command_runs_without_importing_pydantic(tmp_path: Path) -> None:
    # Typer's own conversion imports pydantic: 70-100 ms of start-up for every command.
    loaded = packages_loaded_by("hash", "--jobs", "1", str(tmp_path / "none.jpg"))
    assert "safestream" in loaded and "pydantic" not in loaded

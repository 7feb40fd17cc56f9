"""Media commands: `safestream hash`, `safestream bank ...`, `safestream match`."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the media commands to the root `safestream` app."""

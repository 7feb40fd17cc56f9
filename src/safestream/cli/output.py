"""How commands write: results as JSON lines on stdout, everything else on stderr."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def emit(obj: dict[str, Any]) -> None:
    """Write one JSON object as a line on stdout."""
    sys.stdout.write(json.dumps(obj, separators=(",", ":"), default=str) + "\n")
    sys.stdout.flush()


def error_line(path: Path | str | None, message: str) -> None:
    """Write one error line on stderr, naming the file when there is one."""
    prefix = f"{path}: " if path is not None else ""
    sys.stderr.write(f"error: {prefix}{message}\n")
    sys.stderr.flush()


def note(message: str) -> None:
    """Write a human-readable line on stderr (stdout is for results)."""
    sys.stderr.write(message + "\n")
    sys.stderr.flush()

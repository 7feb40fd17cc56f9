"""Access and error logs of `safestream serve`: one line per request and per error, on stderr.

Operators ship stderr to a log store, so the default off a terminal is JSON lines (one object
per record, stable keys); on a terminal the same records are plain text for a person.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

LEVELS = ("debug", "info", "warning", "error")

# uvicorn's access records carry (client, method, path, http version, status) as args.
_ACCESS_FIELDS = ("client", "method", "path", "http_version", "status")


class JsonLineFormatter(logging.Formatter):
    """A log record as one JSON object: time, level, logger, message and request fields."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
        }
        if record.name == "uvicorn.access" and isinstance(record.args, tuple):
            line.update(zip(_ACCESS_FIELDS, record.args, strict=False))
        else:
            line["message"] = record.getMessage()
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def log_config(level: str, *, json_lines: bool, access_log: bool) -> dict[str, Any]:
    """A `logging.config.dictConfig` for uvicorn and SafeStream's own loggers."""
    formatter: dict[str, Any] = (
        {"()": f"{__name__}.JsonLineFormatter"}
        if json_lines
        else {"format": "%(asctime)s %(levelname)-7s %(name)s: %(message)s"}
    )
    handler = {"class": "logging.StreamHandler", "formatter": "line", "stream": "ext://sys.stderr"}
    upper = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"line": formatter},
        "handlers": {"stderr": handler},
        "loggers": {
            "uvicorn": {"handlers": ["stderr"], "level": upper, "propagate": False},
            "uvicorn.error": {"level": upper},
            "uvicorn.access": {
                "handlers": ["stderr"] if access_log else [],
                "level": "INFO" if access_log else "CRITICAL",
                "propagate": False,
            },
            "safestream": {"handlers": ["stderr"], "level": upper, "propagate": False},
        },
    }

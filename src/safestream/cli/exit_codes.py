"""The exit status of every `safestream` command, in one table.

| status | meaning |
|---|---|
| 0 | every input was handled |
| 1 | some inputs failed (each named on stderr), or the command could not do its work |
| 2 | usage error: a missing or malformed argument, option or setting |
| 130 | interrupted (Ctrl-C) |
"""

from __future__ import annotations

from safestream.core.errors import SafeStreamError

EXIT_OK = 0
EXIT_SOME_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def exit_code_for(error: SafeStreamError) -> int:
    """The exit status for an error that stops a command (each error class names its own)."""
    return error.exit_code

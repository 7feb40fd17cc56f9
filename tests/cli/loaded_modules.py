"""Which modules a `safestream` command loads: what its start-up pays for."""

from __future__ import annotations

import json
import subprocess
import sys


def modules_loaded_by(*args: str) -> set[str]:
    """Modules imported by running `safestream ARGS` in a fresh interpreter."""
    code = (
        f"import json, sys, runpy; sys.argv = ['safestream', *{list(args)!r}]\n"
        "try:\n    runpy.run_module('safestream.cli', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        "print(json.dumps(sorted(sys.modules)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    return set(json.loads(result.stdout.strip().splitlines()[-1]))


def packages_loaded_by(*args: str) -> set[str]:
    """Top-level packages imported by running `safestream ARGS` in a fresh interpreter."""
    return {module.split(".")[0] for module in modules_loaded_by(*args)}

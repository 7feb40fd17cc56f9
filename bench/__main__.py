"""Run every benchmark module (`bench/bench_*.py`) in turn: `python -m bench [--quick]`."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path


def bench_modules() -> list[str]:
    """Names of the benchmark modules in this package, sorted."""
    folder = Path(__file__).parent
    return sorted(
        f"bench.{info.name}"
        for info in pkgutil.iter_modules([str(folder)])
        if info.name.startswith("bench_")
    )


def main(argv: list[str] | None = None) -> int:
    """Run each benchmark's `main` with the given arguments; return the worst exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    worst = 0
    for name in bench_modules():
        print(f"\n=== {name} {' '.join(args)}".rstrip(), flush=True)
        module = importlib.import_module(name)
        code = int(module.main(list(args)))
        worst = max(worst, code)
    return worst


if __name__ == "__main__":
    raise SystemExit(main())

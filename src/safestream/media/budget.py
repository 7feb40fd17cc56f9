"""Per-file CPU and memory budgets, enforced by the kernel in the process that decodes.

A hostile file can make FFmpeg or Pillow loop for minutes inside C code or allocate gigabytes
before any Python check runs, so the limits are rlimits of the worker process, not timers:

* memory: `RLIMIT_DATA` (heap and private anonymous mappings) is capped so that what the
  worker holds resident when it starts plus what it may still allocate stays within
  `memory_bytes` (at least `MIN_HEADROOM` more); an allocation past it fails, which surfaces as
  `MemoryError` or a decoder error for that file, and the worker lives on;
* CPU: before each file the soft `RLIMIT_CPU` is set `cpu_seconds` past the CPU time used so far,
  and every second of video decoded earns `cpu_seconds_per_media_second` more, so a long
  genuine video is never cut short while a file that makes no progress is stopped. Past the
  limit the kernel sends SIGXCPU, whose default action ends the worker even inside C code; the
  batch runner sees that exit and blames the file.

Outside a worker that called `enter_worker` every function here does nothing.
"""

from __future__ import annotations

import math
import resource
from dataclasses import dataclass

MIB = 1024 * 1024
MIN_HEADROOM = 256 * MIB


@dataclass(frozen=True)
class FileBudget:
    """What one file may cost the process that decodes it."""

    cpu_seconds: float = 10.0
    cpu_seconds_per_media_second: float = 1.0
    memory_bytes: int = 1024 * MIB

    def describe_cpu(self) -> str:
        """The CPU budget in words, for error lines."""
        return (
            f"{self.cpu_seconds:g} s of CPU plus {self.cpu_seconds_per_media_second:g} s "
            "per second of video"
        )


DEFAULT_FILE_BUDGET = FileBudget()

_active: FileBudget | None = None
_cpu_limit = 0


def enter_worker(budget: FileBudget) -> None:
    """Make this process a budgeted decoder: cap its memory and remember the CPU budget."""
    global _active
    _active = budget
    data_now, resident_now = _status_bytes("VmData:"), _status_bytes("VmRSS:")
    _, hard = resource.getrlimit(resource.RLIMIT_DATA)
    limit = data_now + max(MIN_HEADROOM, budget.memory_bytes - resident_now)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_DATA, (limit, hard))


def start_file() -> None:
    """Give the next file its own CPU allowance, counted from now."""
    if _active is not None:
        _set_cpu_limit(_cpu_used() + _active.cpu_seconds)


def credit_media_seconds(seconds: float) -> None:
    """Extend the CPU allowance for `seconds` of video decoded since the last credit."""
    if _active is not None and seconds > 0:
        _set_cpu_limit(_cpu_limit + seconds * _active.cpu_seconds_per_media_second)


def active_budget() -> FileBudget | None:
    """The budget this process decodes under, or None outside a budgeted worker."""
    return _active


def memory_error_message() -> str:
    """The error line for a file that ran out of its memory budget."""
    limit = f" of {_active.memory_bytes // MIB} MiB" if _active is not None else ""
    return f"needs more memory to decode than the limit{limit}"


def _set_cpu_limit(seconds: float) -> None:
    global _cpu_limit
    _cpu_limit = math.ceil(seconds)
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    soft = _cpu_limit if hard == resource.RLIM_INFINITY else min(_cpu_limit, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def _cpu_used() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _status_bytes(field: str) -> int:
    # VmData is what RLIMIT_DATA is compared against (Linux >= 4.7); VmRSS what is resident.
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(field):
                return int(line.split()[1]) * 1024
    return 0

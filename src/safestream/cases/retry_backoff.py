"""When to try linking a report again after it failed: soon at first, then less and less often.

A fixed 300 s hold-back fit a report the rules cannot handle, but most failures are faults that
pass (a database restart, a lock timeout): after one of those, held-back reports waited five
minutes although the store was back in a second. Doubling from 2 s (2, 4, 8, ... capped) links
them within seconds of a short fault and still keeps a report that always fails from being
retried in front of the others.
"""

from __future__ import annotations

from dataclasses import dataclass, field

FIRST_RETRY_SECONDS = 2.0
MAX_RETRY_SECONDS = 300.0


@dataclass
class RetryBackoff:
    """Per-report retry delays: `first`, doubled after each further failure, at most `cap`."""

    first: float = FIRST_RETRY_SECONDS
    factor: float = 2.0
    _failures: dict[str, int] = field(default_factory=dict, repr=False)

    def next_delay(self, key: str, cap: float = MAX_RETRY_SECONDS) -> float:
        """Record one more failure of `key`; return how long to wait before its next try."""
        failures = self._failures.get(key, 0)
        self._failures[key] = failures + 1
        return min(cap, self.first * self.factor ** min(failures, 30))

    def forget(self, key: str) -> None:
        """`key` succeeded: its next failure starts from `first` again."""
        self._failures.pop(key, None)

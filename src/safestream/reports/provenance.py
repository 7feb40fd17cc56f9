"""Provenance at intake: what a client asserts is stored as its claim, not as SafeStream's finding.

A platform's report may say it matched a bank entry (`matches[].verified`) or came from a
detector (`source: detector`, `detector: live`). Neither is taken on trust:
- a match counts as verified only when SafeStream's own bank holds that entry, in that bank, of
  that signal type, within the bank's distance threshold of the asserted hash (an allowlist bank
  never verifies); anything else is stored with `verified: false`;
- a detector name from a client is stored as `claimed:<name>`, so rules that look for
  SafeStream's own detectors (`finance`, `live`) never fire on it, and reviewers see whose word
  it is.
SafeStream's own detectors submit through `DetectorSink`, which is trusted (the system).
"""

from __future__ import annotations

from safestream.core.banks import Bank, BankEntry
from safestream.core.reports import MatchedEntry, ReportIn
from safestream.store.banks import BankRepository

CLAIMED_PREFIX = "claimed:"
DETECTOR_NAME_MAX = 64
EXACT_SIGNAL_TYPES = frozenset({"md5", "sha256"})


def _bits_apart(a: str, b: str) -> int | None:
    try:
        return (int(a, 16) ^ int(b, 16)).bit_count()
    except ValueError:
        return None


def holds(match: MatchedEntry, found: tuple[BankEntry, Bank] | None) -> bool:
    """Whether SafeStream's banks back this asserted match."""
    if found is None:
        return False
    entry, bank = found
    if bank.name != match.bank or bank.negative or entry.signal_type != match.signal_type:
        return False
    if entry.signal_type in EXACT_SIGNAL_TYPES:
        return entry.value.lower() == match.value.lower()
    apart = _bits_apart(entry.value, match.value)
    return apart is not None and apart <= bank.threshold


def as_claims(banks: BankRepository, report: ReportIn) -> ReportIn:
    """The report with its asserted matches checked against the banks and its detector marked
    as claimed; unchanged when it asserts neither."""
    update: dict[str, object] = {}
    if report.matches:
        found = banks.entries_by_id(sorted({m.entry_id for m in report.matches}))
        update["matches"] = [
            m.model_copy(update={"verified": holds(m, found.get(m.entry_id))})
            for m in report.matches
        ]
    if report.detector and not report.detector.startswith(CLAIMED_PREFIX):
        update["detector"] = (CLAIMED_PREFIX + report.detector)[:DETECTOR_NAME_MAX]
    return report.model_copy(update=update) if update else report

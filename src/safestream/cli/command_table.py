"""Where each top-level command lives and what its help line says, so `--help` imports none.

A command module is imported when its command runs (or its own help is asked for). The summary
is the first paragraph of the command's help; `tests/cli/test_help.py` checks the two agree.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CommandEntry:
    """A top-level command not yet loaded: its module (with a `register(app)`) and summary."""

    module: str
    summary: str


# Help order.
COMMANDS: dict[str, CommandEntry] = {
    "hash": CommandEntry(
        "safestream.cli.hash",
        "Hash images and videos: one JSON line per image or per sampled video frame.",
    ),
    "match": CommandEntry(
        "safestream.cli.match",
        "Match media or hashes against the banks; one JSON line per match.",
    ),
    "watch": CommandEntry(
        "safestream.cli.live",
        "Watch streams and print each alert as a JSON line; returns when the sources end.",
    ),
    "serve": CommandEntry(
        "safestream.cli.serve",
        "Serve the API and the review console (migrating the store first).",
    ),
    "link": CommandEntry(
        "safestream.cli.serve",
        "Link stored reports into cases until stopped (what `serve` starts beside intake), and "
        "send the alerts linking raises to the webhooks in `notify.yaml` in the home.",
    ),
    "bank": CommandEntry("safestream.cli.bank", "Hash banks: named lists of known hashes."),
    "live": CommandEntry(
        "safestream.cli.live", "Watch live streams across workers (NATS JetStream)."
    ),
    "org": CommandEntry(
        "safestream.cli.access",
        "Organisations: platforms send reports, the operator (the hotline running SafeStream) "
        "triages every case, agencies see the cases referred to them.",
    ),
    "apikey": CommandEntry(
        "safestream.cli.access", "API keys of organisations: issue, list, revoke, rotate."
    ),
    "user": CommandEntry(
        "safestream.cli.access", "Console users: add, list, set a password, disable."
    ),
    "audit": CommandEntry("safestream.cli.access", "The audit log."),
    "panic-key": CommandEntry(
        "safestream.cli.panic_key",
        "Publishable panic-button keys: each works only from its origins and for stream ids "
        "in its organisation's namespace.",
    ),
    "cybertip": CommandEntry(
        "safestream.cli.cybertip", "NCMEC CyberTipline reports: export, submit, status."
    ),
    "exchange": CommandEntry(
        "safestream.cli.exchange",
        "Share hashes, accounts, URLs and keywords with other installations.",
    ),
    "evidence": CommandEntry(
        "safestream.cli.evidence",
        "Encrypted evidence: decrypt a file for an authorised person (audited); rotate the key.",
    ),
    "finance": CommandEntry(
        "safestream.cli.finance",
        "Find payers and payees of live-streamed abuse in transaction records.",
    ),
}

"""Safety for signals from others: negative entries win, floods are quarantined, people decide.

- A value that any negative entry or negative bank holds (known benign: a test card, a stock
  photo, a meme) never matches, whoever else lists it.
- A peer's entry that matches more distinct items within an hour than its peer's flood limit is
  quarantined for review instead of raising more matches (HMA roadmap: flood prevention).
- Reviewers confirm or de-confirm a peer's entry (feedback the list owner can be sent), and may
  disable one entry with a reason; a disabled or quarantined entry matches nothing until enabled
  or confirmed. The same rules reach near matches through the banks (`exchange.entry_screen`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import or_, select

from safestream.core.errors import InvalidInput, NotFound
from safestream.core.exchange_peers import DEFAULT_FLOOD_LIMIT
from safestream.core.shared_signals import SignalKind, canonical_value
from safestream.exchange.entry_screen import confirmed_ids, count_hits
from safestream.store import audit
from safestream.store.banks import BankRepository
from safestream.store.database import Database
from safestream.store.exchange.peers import PeerRegistry
from safestream.store.models.exchange import (
    LOCAL,
    SharedSignalRow,
    SignalFeedbackRow,
)

VERDICTS = ("confirm", "deconfirm")


@dataclass(frozen=True)
class SignalMatch:
    """An active entry that matched, with whose word it is."""

    signal_id: int
    publisher: str
    collection: str
    kind: str
    value: str
    label: str
    source: str


@dataclass(frozen=True)
class Screened:
    """The outcome of one lookup."""

    matches: list[SignalMatch]
    suppressed_by_negative: bool = False
    quarantined: tuple[int, ...] = ()


class SignalScreen:
    """Looks values up in shared signals with the safety rules applied."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.peers = PeerRegistry(db)
        self.banks = BankRepository(db)

    def lookup(self, kind: str, value: str, item: str, *, now: datetime | None = None) -> Screened:
        """Entries matching `value`, for the item (its id or hash) that carried it."""
        moment = now or datetime.now(UTC)
        k = SignalKind(kind)
        canonical = canonical_value(k, value)
        with self.db.session() as s:
            rows = s.scalars(
                select(SharedSignalRow).where(
                    SharedSignalRow.kind == k.value,
                    SharedSignalRow.value == canonical,
                    SharedSignalRow.deleted.is_(False),
                    or_(SharedSignalRow.expires_at.is_(None), SharedSignalRow.expires_at > moment),
                )
            ).all()
            s.expunge_all()
        if any(r.negative or r.label == "benign" for r in rows) or self._negative_bank(
            k, canonical
        ):
            return Screened([], suppressed_by_negative=True)
        found, tripped = [], []
        for row in rows:
            if row.state != "active":
                continue
            if row.publisher != LOCAL and self._floods(row, item, moment):
                tripped.append(row.id)
                continue
            found.append(
                SignalMatch(row.id, row.publisher, row.collection, row.kind, row.value,
                            row.label, row.source)
            )  # fmt: skip
        return Screened(found, quarantined=tuple(tripped))

    def _negative_bank(self, kind: SignalKind, value: str) -> bool:
        if not kind.is_hash:
            return False
        return any(bank.negative for _, bank in self.banks.find_exact(kind.value, value))

    def _floods(self, row: SharedSignalRow, item: str, moment: datetime) -> bool:
        peer = self.peers.by_key(row.publisher)
        limit = peer.flood_limit if peer else DEFAULT_FLOOD_LIMIT
        with self.db.session() as s:
            if confirmed_ids(s, [row.id]):
                return False  # a reviewer vouched for it: not counted
            stored = s.get(SharedSignalRow, row.id)
            return stored is not None and not count_hits(s, stored, [item], limit, moment)

    def give_feedback(self, signal_id: int, verdict: str, *, actor: str, reason: str = "") -> None:
        """Confirm or de-confirm a peer's entry.

        Confirming releases a quarantined entry, and a confirmed entry is no longer flood
        counted; de-confirming disables the entry here (its matches were wrong) with the reason.
        Either is kept as feedback for the list owner."""
        if verdict not in VERDICTS:
            raise InvalidInput(f"verdict must be one of {', '.join(VERDICTS)}")
        with self.db.session() as s:
            row = s.get(SharedSignalRow, signal_id)
            if row is None:
                raise NotFound(f"no shared signal {signal_id}")
            if verdict == "confirm" and row.state == "quarantined":
                row.state, row.state_reason = "active", f"confirmed by {actor}"
            elif verdict == "deconfirm" and row.state == "active":
                row.state = "disabled"
                row.state_reason = f"de-confirmed by {actor}" + (f": {reason}" if reason else "")
            s.add(
                SignalFeedbackRow(signal_id=signal_id, verdict=verdict, reason=reason, actor=actor)
            )
            audit.append(
                s, actor=actor, action=f"exchange.{verdict}", subject=f"signal:{signal_id}",
                details={"reason": reason},
            )  # fmt: skip

    def set_state(self, signal_id: int, state: str, *, actor: str, reason: str) -> None:
        """Disable an entry (reason required), or make a disabled or quarantined one active."""
        if state not in ("active", "disabled"):
            raise InvalidInput("state must be active or disabled")
        if state == "disabled" and not reason.strip():
            raise InvalidInput("say why the entry is disabled")
        with self.db.session() as s:
            row = s.get(SharedSignalRow, signal_id)
            if row is None:
                raise NotFound(f"no shared signal {signal_id}")
            row.state, row.state_reason = state, reason
            audit.append(
                s, actor=actor, action=f"exchange.{state}", subject=f"signal:{signal_id}",
                details={"reason": reason},
            )  # fmt: skip

    def feedback_export(self, publisher: str) -> str:
        """Feedback on one publisher's entries as JSON lines, to send to the list owner."""
        with self.db.session() as s:
            rows = s.execute(
                select(SignalFeedbackRow, SharedSignalRow)
                .join(SharedSignalRow, SharedSignalRow.id == SignalFeedbackRow.signal_id)
                .where(SharedSignalRow.publisher == publisher)
                .order_by(SignalFeedbackRow.id)
            ).all()
            lines = [
                json.dumps({
                    "collection": sig.collection, "kind": sig.kind, "value": sig.value,
                    "verdict": fb.verdict, "reason": fb.reason, "at": fb.at.isoformat(),
                    "entry_state": sig.state,
                }, separators=(",", ":"))
                for fb, sig in rows
            ]  # fmt: skip
        return "\n".join(lines) + ("\n" if lines else "")

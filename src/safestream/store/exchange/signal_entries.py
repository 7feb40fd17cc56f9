"""Shared entries as held here, by id and state: what a value matches, and reviewers' decisions.

Reviewers confirm or de-confirm a peer's entry (kept as feedback for the list owner) and disable
or enable one entry with a reason; each decision is audited in its own transaction. The rules
these decisions feed are `exchange.safety` and `exchange.entry_screen`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select

from safestream.core.errors import InvalidInput, NotFound
from safestream.core.peer_banks import PeerHash
from safestream.core.shared_signals import EntryFeedback, SignalEntry, SignalKind
from safestream.store import audit
from safestream.store.database import Database
from safestream.store.models.exchange import SharedSignalRow, SignalFeedbackRow

VERDICTS = ("confirm", "deconfirm")
_HASH_KINDS = [k.value for k in SignalKind if k.is_hash]


def _entry(row: SharedSignalRow) -> SignalEntry:
    return SignalEntry(
        row.id, row.publisher, row.collection, row.kind, row.value, row.label, row.source,
        row.negative, row.deleted, row.state, row.state_reason,
    )  # fmt: skip


class SignalEntries:
    """Entries of every publisher with their states, and the reviews that change them."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def matching(self, kind: SignalKind, value: str, moment: datetime) -> list[SignalEntry]:
        """Entries holding this canonical value, in any state, neither withdrawn nor expired."""
        with self.db.session() as s:
            rows = s.scalars(
                select(SharedSignalRow).where(
                    SharedSignalRow.kind == kind.value,
                    SharedSignalRow.value == value,
                    SharedSignalRow.deleted.is_(False),
                    or_(SharedSignalRow.expires_at.is_(None), SharedSignalRow.expires_at > moment),
                )
            ).all()
            return [_entry(r) for r in rows]

    def of_publisher(self, publisher: str, *, state: str = "", limit: int) -> list[SignalEntry]:
        """A publisher's entries (only those in `state`, if given), oldest first."""
        query = select(SharedSignalRow).where(SharedSignalRow.publisher == publisher)
        if state:
            query = query.where(SharedSignalRow.state == state)
        with self.db.session() as s:
            return [_entry(r) for r in s.scalars(query.order_by(SharedSignalRow.id).limit(limit))]

    def publisher_of(self, signal_id: int) -> str | None:
        """Whose entry this is (None when there is no such entry)."""
        with self.db.session() as s:
            row = s.get(SharedSignalRow, signal_id)
            return row.publisher if row else None

    def active_hashes(self, publisher: str, moment: datetime) -> list[PeerHash]:
        """A publisher's hash entries that may match here: live, active and unexpired."""
        with self.db.session() as s:
            rows = s.execute(
                select(
                    SharedSignalRow.collection, SharedSignalRow.kind, SharedSignalRow.value,
                    SharedSignalRow.label, SharedSignalRow.negative,
                ).where(
                    SharedSignalRow.publisher == publisher,
                    SharedSignalRow.kind.in_(_HASH_KINDS),
                    SharedSignalRow.deleted.is_(False),
                    SharedSignalRow.state == "active",
                    or_(SharedSignalRow.expires_at.is_(None), SharedSignalRow.expires_at > moment),
                )
            ).all()  # fmt: skip
        return [PeerHash._make(r) for r in rows]

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

    def feedback(self, publisher: str) -> list[EntryFeedback]:
        """Reviewers' verdicts on one publisher's entries, oldest first."""
        with self.db.session() as s:
            rows = s.execute(
                select(SignalFeedbackRow, SharedSignalRow)
                .join(SharedSignalRow, SharedSignalRow.id == SignalFeedbackRow.signal_id)
                .where(SharedSignalRow.publisher == publisher)
                .order_by(SignalFeedbackRow.id)
            ).all()
            return [
                EntryFeedback(
                    sig.collection, sig.kind, sig.value, fb.verdict, fb.reason, fb.at, sig.state
                )
                for fb, sig in rows
            ]

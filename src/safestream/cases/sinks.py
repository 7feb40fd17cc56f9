"""Sinks: one per effect type, each applying all effects of its type inside the caller's
transaction (the case engine's), so a batch costs a few statements per effect type.

Linking (`OpenOrJoinCase`) runs first, in `cases.linking`: the other sinks need the case each
report joined, and are handed it as `case_of` (report id -> case id).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from typing import Any

from safestream.core.effects import (
    AttachMatch,
    Effect,
    KeepLiveBuffer,
    Notify,
    PreserveEvidence,
    Route,
    SetPriority,
)
from safestream.core.records import encode
from safestream.store import case_effects as store
from safestream.store.base import utcnow
from safestream.store.database import Transaction

# REPORT Act (2024): a completed CyberTip is a request to preserve data for one year.
HOLD_PERIOD = timedelta(days=365)
KEEP_LIVE_BUFFER_CHANNEL = "live.keep_buffer"


def _report_rows(
    effects: Sequence[AttachMatch | PreserveEvidence | KeepLiveBuffer], case_of: Mapping[str, int]
) -> list[tuple[int, AttachMatch | PreserveEvidence | KeepLiveBuffer]]:
    """Effects with the case of their report; those of reports left unlinked are dropped."""
    return [(case_of[e.report_id], e) for e in effects if e.report_id in case_of]


def attach_matches(
    s: Transaction, effects: Sequence[AttachMatch], case_of: Mapping[str, int]
) -> None:
    """Sink of `AttachMatch`: one bulk insert of match rows on the reports' cases."""
    rows: list[dict[str, object]] = [
        {
            "case_id": case_id,
            "report_id": e.report_id,
            "bank": e.bank,
            "entry_id": e.entry_id,
            "signal_type": e.signal_type.value,
            "value": e.entry_hash,
            "distance": e.distance,
            "label": e.label.value,
            "verified": e.verified,
            "t": e.t,
        }
        for case_id, e in _report_rows(effects, case_of)
        if isinstance(e, AttachMatch)
    ]
    store.insert_case_matches(s, rows)


def hold_evidence(
    s: Transaction, effects: Sequence[PreserveEvidence], case_of: Mapping[str, int]
) -> None:
    """Sink of `PreserveEvidence`: one hold per case and stream, for the legal period."""
    now = utcnow()
    rows = [
        {
            "case_id": case_id,
            "report_id": e.report_id,
            "stream_id": e.stream_id,
            "reason": e.reason,
            "rule": e.rule,
            "hold_until": now + HOLD_PERIOD,
        }
        for case_id, e in _report_rows(effects, case_of)
        if isinstance(e, PreserveEvidence)
    ]
    store.add_evidence_holds(s, rows, now)


def queue_keep_buffer(
    s: Transaction, effects: Sequence[KeepLiveBuffer], case_of: Mapping[str, int]
) -> None:
    """Sink of `KeepLiveBuffer`: an outbox message for the live workers, sent after commit."""
    rows = [
        {
            "case_id": case_id,
            "channel": KEEP_LIVE_BUFFER_CHANNEL,
            "message": json.dumps(encode(e)),
            "rule": e.rule,
        }
        for case_id, e in _report_rows(effects, case_of)
    ]
    store.add_outbox_messages(s, rows)


def set_priorities(
    s: Transaction, effects: Sequence[SetPriority], case_of: Mapping[str, int]
) -> None:
    """Sink of `SetPriority`: the priorities of many cases in one bulk update."""
    store.update_cases(s, [{"id": e.case_id, **_priority(e)} for e in effects])


def set_routes(s: Transaction, effects: Sequence[Route], case_of: Mapping[str, int]) -> None:
    """Sink of `Route`: the routing of many cases in one bulk update."""
    store.update_cases(s, [{"id": e.case_id, **_routing(e)} for e in effects])


def queue_notifications(
    s: Transaction, effects: Sequence[Notify], case_of: Mapping[str, int]
) -> None:
    """Sink of `Notify`: an outbox message per notification, sent after commit."""
    rows = [
        {"case_id": e.case_id, "channel": e.channel, "message": e.message, "rule": e.rule}
        for e in effects
    ]
    store.add_outbox_messages(s, rows)


def _priority(effect: SetPriority) -> dict[str, object]:
    return {
        "priority": int(effect.priority),
        "score": effect.score,
        "queue": effect.queue,
        "fired": json.dumps([encode(f) for f in effect.fired]),
    }


def _routing(effect: Route) -> dict[str, object]:
    return {"routing": json.dumps([encode(a) for a in effect.authorities])}


Sink = Callable[[Transaction, Sequence[Any], Mapping[str, int]], None]
# One sink per effect type, applied in this order (linking, `OpenOrJoinCase`, runs before all of
# them: the others need the case each report joined).
SINKS: dict[type[Effect], Sink] = {
    AttachMatch: attach_matches,
    PreserveEvidence: hold_evidence,
    KeepLiveBuffer: queue_keep_buffer,
    SetPriority: set_priorities,
    Route: set_routes,
    Notify: queue_notifications,
}


def apply_all(s: Transaction, effects: Sequence[Effect], case_of: Mapping[str, int]) -> None:
    """Apply effects inside the caller's transaction, each type by its own sink."""
    by_type: dict[type[Effect], list[Effect]] = defaultdict(list)
    for effect in effects:
        if type(effect) not in SINKS:
            raise TypeError(f"no sink applies {type(effect).__name__}")
        by_type[type(effect)].append(effect)
    for effect_type, sink in SINKS.items():
        if by_type.get(effect_type):
            sink(s, by_type[effect_type], case_of)

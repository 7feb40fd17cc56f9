"""Sinks: apply effects to the store inside the caller's transaction.

Linking keeps one open case per subject: a report joins the open case that already holds any of
its identifiers; when its identifiers sit in several open cases, those cases merge into the oldest.
"""

from __future__ import annotations

import ipaddress
import json
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, distinct, func, insert, or_, select, update
from sqlalchemy.orm import Session, aliased

from safestream.core.cases import CaseStatus
from safestream.core.effects import (
    AttachMatch,
    Effect,
    KeepLiveBuffer,
    Notify,
    OpenOrJoinCase,
    PreserveEvidence,
    Route,
    SetPriority,
)
from safestream.core.entities import Entity, EntityKind
from safestream.core.records import encode
from safestream.store.base import utcnow
from safestream.store.models.cases import (
    CaseDecisionRow,
    CaseEntityRow,
    CaseMatchRow,
    CaseNoteRow,
    CaseRow,
    OutboxRow,
)
from safestream.store.models.reports import EvidenceHoldRow, ReportEntityRow, ReportRow

# REPORT Act (2024): a completed CyberTip is a request to preserve data for one year.
HOLD_PERIOD = timedelta(days=365)
NO_SUBJECT = "report"
# A subject is chosen in this order, so a case is "about" an account when it names one.
SUBJECT_ORDER = (
    EntityKind.ACCOUNT,
    EntityKind.STREAM,
    EntityKind.PAYMENT_ACCOUNT,
    EntityKind.EMAIL,
    EntityKind.DEVICE,
    EntityKind.IP,
    EntityKind.MEDIA_HASH,
)


def _subject(entities: tuple[Entity, ...], report_id: str) -> tuple[str, str]:
    for kind in SUBJECT_ORDER:
        for e in entities:
            if e.kind is kind:
                return e.kind.value, e.value
    return NO_SUBJECT, report_id


def open_cases_holding(s: Session, entities: tuple[Entity, ...]) -> list[int]:
    """Ids of open cases holding any of these identifiers, oldest first."""
    if not entities:
        return []
    pairs = [
        and_(CaseEntityRow.kind == e.kind.value, CaseEntityRow.value == e.value) for e in entities
    ]
    return sorted(
        set(
            s.scalars(
                select(CaseEntityRow.case_id)
                .join(CaseRow, CaseRow.id == CaseEntityRow.case_id)
                .where(CaseRow.status == CaseStatus.OPEN.value, or_(*pairs))
            )
        )
    )


def _merge(s: Session, keep: int, others: list[int]) -> None:
    held = {
        (k, v)
        for k, v in s.execute(
            select(CaseEntityRow.kind, CaseEntityRow.value).where(CaseEntityRow.case_id == keep)
        )
    }
    for row in s.scalars(select(CaseEntityRow).where(CaseEntityRow.case_id.in_(others))):
        if (row.kind, row.value) in held:
            s.delete(row)
        else:
            held.add((row.kind, row.value))
            row.case_id = keep
    s.flush()
    for table in (CaseMatchRow, CaseNoteRow, CaseDecisionRow):
        s.execute(update(table).where(table.case_id.in_(others)).values(case_id=keep))
    s.execute(update(ReportRow).where(ReportRow.case_id.in_(others)).values(case_id=keep))
    s.execute(
        update(CaseRow)
        .where(CaseRow.id.in_(others))
        .values(status=CaseStatus.MERGED.value, merged_into=keep, claimed_by_user=None)
    )


# Beyond this many distinct reported accounts, an IP is taken for a shared one (a carrier's NAT, a
# VPN exit, a café) and stops joining cases: linking on it would pull unrelated reports together.
MAX_ACCOUNTS_PER_LINKING_IP = 5
# Ranges that many unrelated users share by design: private networks, carrier-grade NAT, loopback,
# link-local, and IPv6 unique-local addresses.
SHARED_BY_DESIGN = tuple(
    ipaddress.ip_network(n)
    for n in (
        "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "127.0.0.0/8",
        "169.254.0.0/16", "0.0.0.0/8", "::1/128", "fe80::/10", "fc00::/7", "::/128",
    )
)  # fmt: skip


def linkable_ip(value: str) -> bool:
    """Whether an IP may join reports into one case: not from a range shared by design."""
    address = ipaddress.ip_address(value)
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return not any(address in net for net in SHARED_BY_DESIGN if net.version == address.version)


def _age(case_id: int) -> tuple[bool, int]:
    """Sort key, oldest first: stored cases by id, then cases opened in this batch in order."""
    return (case_id < 0, abs(case_id))


class BatchLinker:
    """Links a whole batch of reports, in order, with a handful of statements.

    One query finds the open cases holding any identifier of the batch. Each report then joins the
    oldest of them, opens a case, or merges cases, in memory: cases opened in the batch get
    provisional (negative) ids and are inserted together at the end, so a case opened and merged
    within the batch is never written. Merging stored cases moves stored rows, so it writes the
    pending rows of stored cases first. Entities, matches and report links are written in bulk.
    """

    def __init__(self, s: Session, items: Sequence[OpenOrJoinCase]) -> None:
        self.s = s
        self.items = items
        self.now = utcnow()
        self.holding: dict[tuple[str, str], set[int]] = defaultdict(set)
        self.merged_into: dict[int, int] = {}
        self.opened: list[dict[str, object]] = []  # rows of cases opened here; id -(index + 1)
        self.stored_id: dict[int, int] = {}  # provisional id -> id once inserted
        self.entity_rows: list[dict[str, object]] = []
        self.report_cases: list[dict[str, object]] = []
        self.touched: set[int] = set()
        self.shared_ips: set[str] = set()
        self.written: set[tuple[int, str, str]] = set()  # case entities in the store

    def run(self) -> list[int]:
        """Link every item; return the case of each, in order (after any merge in the batch)."""
        self._load_holders()
        self._find_shared_ips()
        cases = [self._link(effect) for effect in self.items]
        self._insert_opened()
        self._write_pending(final=True)
        touched = sorted({self._final(c) for c in self.touched if self._final(c) > 0})
        if touched:
            self.s.execute(update(CaseRow), [{"id": c, "updated_at": self.now} for c in touched])
        return [self._final(c) for c in cases]

    def _load_holders(self) -> None:
        pairs = {(e.kind.value, e.value) for effect in self.items for e in effect.entities}
        kinds = sorted({k for k, _ in pairs})
        values = sorted({v for _, v in pairs})
        for start in range(0, len(values), 1000):
            rows = self.s.execute(
                select(CaseEntityRow.case_id, CaseEntityRow.kind, CaseEntityRow.value)
                .join(CaseRow, CaseRow.id == CaseEntityRow.case_id)
                .where(
                    CaseRow.status == CaseStatus.OPEN.value,
                    CaseEntityRow.kind.in_(kinds),
                    CaseEntityRow.value.in_(values[start : start + 1000]),
                )
            )
            for case_id, kind, value in rows:
                if (kind, value) in pairs:
                    self.holding[(kind, value)].add(case_id)
                    self.written.add((case_id, kind, value))

    def _find_shared_ips(self) -> None:
        """IPs of the batch that many unrelated users share: they are kept on cases but never
        join or merge them (`linkable_ip`, `MAX_ACCOUNTS_PER_LINKING_IP`)."""
        ips = sorted(
            {e.value for effect in self.items for e in effect.entities if e.kind is EntityKind.IP}
        )
        self.shared_ips = {ip for ip in ips if not linkable_ip(ip)}
        candidates = sorted(set(ips) - self.shared_ips)
        if not candidates:
            return
        ip, account = aliased(ReportEntityRow), aliased(ReportEntityRow)
        for start in range(0, len(candidates), 500):
            rows = self.s.execute(
                select(ip.value, func.count(distinct(account.value)))
                .join(
                    account,
                    and_(
                        account.report_id == ip.report_id, account.kind == EntityKind.ACCOUNT.value
                    ),
                )
                .where(
                    ip.kind == EntityKind.IP.value, ip.value.in_(candidates[start : start + 500])
                )
                .group_by(ip.value)
            )
            self.shared_ips.update(v for v, n in rows if n > MAX_ACCOUNTS_PER_LINKING_IP)

    def _current(self, case_id: int) -> int:
        while case_id in self.merged_into:
            case_id = self.merged_into[case_id]
        return case_id

    def _final(self, case_id: int) -> int:
        """The case's id in the store (positive), or still provisional (negative) before
        `_insert_opened`."""
        current = self._current(case_id)
        return self.stored_id.get(current, current)

    def _link(self, effect: OpenOrJoinCase) -> int:
        keys = [(e.kind.value, e.value) for e in effect.entities]
        joining = [k for k in keys if not (k[0] == EntityKind.IP.value and k[1] in self.shared_ips)]
        found = sorted(
            {self._current(c) for k in joining for c in self.holding.get(k, ())}, key=_age
        )
        if found:
            case_id, others = found[0], found[1:]
            stored_others = [c for c in others if c > 0]
            if stored_others:
                self._write_pending(final=False)
                _merge(self.s, case_id, stored_others)
            for other in others:
                self.merged_into[other] = case_id
        else:
            kind, value = _subject(effect.entities, effect.report_id)
            self.opened.append(
                {
                    "subject_kind": kind,
                    "subject_value": value,
                    "created_at": self.now,
                    "updated_at": self.now,
                }
            )
            case_id = -len(self.opened)
        for key in keys:
            holders = self.holding[key]
            if not any(self._current(c) == case_id for c in holders):
                self.entity_rows.append(
                    {
                        "case_id": case_id,
                        "kind": key[0],
                        "value": key[1],
                        "first_report_id": effect.report_id,
                    }
                )
            holders.add(case_id)
        self.report_cases.append({"id": effect.report_id, "case_id": case_id})
        self.touched.add(case_id)
        return case_id

    def _insert_opened(self) -> None:
        """Insert the cases opened in this batch that were not merged away, in one statement."""
        keep = [i for i in range(len(self.opened)) if -(i + 1) not in self.merged_into]
        if not keep:
            return
        ids = self.s.scalars(
            insert(CaseRow).returning(CaseRow.id, sort_by_parameter_order=True),
            [self.opened[i] for i in keep],
        ).all()
        self.stored_id.update({-(i + 1): case_id for i, case_id in zip(keep, ids, strict=True)})

    def _write_pending(self, *, final: bool) -> None:
        """Write pending rows of stored cases (all of them when `final`), with merged and
        provisional ids resolved; a merge may make two entity rows the same, so keep one."""
        rows: dict[str, list[dict[str, object]]] = {"entity": [], "report": []}
        waiting: dict[str, list[dict[str, object]]] = {"entity": [], "report": []}
        pending = {"entity": self.entity_rows, "report": self.report_cases}
        for name, items in pending.items():
            for row in items:
                case_id = self._final(int(str(row["case_id"])))
                if case_id < 0 and not final:
                    waiting[name].append(row)
                    continue
                resolved = {**row, "case_id": case_id}
                if name == "entity":
                    key = (case_id, str(row["kind"]), str(row["value"]))
                    if key in self.written:
                        continue
                    self.written.add(key)
                rows[name].append(resolved)
        self.entity_rows, self.report_cases = waiting["entity"], waiting["report"]
        if rows["entity"]:
            self.s.execute(insert(CaseEntityRow), rows["entity"])
        if rows["report"]:
            self.s.execute(update(ReportRow), rows["report"])


def _report_rows(
    effects: Sequence[AttachMatch | PreserveEvidence | KeepLiveBuffer], case_of: Mapping[str, int]
) -> list[tuple[int, AttachMatch | PreserveEvidence | KeepLiveBuffer]]:
    """Effects with the case of their report; those of reports left unlinked are dropped."""
    return [(case_of[e.report_id], e) for e in effects if e.report_id in case_of]


def attach_matches(s: Session, effects: Sequence[AttachMatch], case_of: Mapping[str, int]) -> None:
    """Sink of `AttachMatch`: one bulk insert of match rows on the reports' cases."""
    rows = [
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
        }
        for case_id, e in _report_rows(effects, case_of)
        if isinstance(e, AttachMatch)
    ]
    if rows:
        s.execute(insert(CaseMatchRow), rows)


def hold_evidence(
    s: Session, effects: Sequence[PreserveEvidence], case_of: Mapping[str, int]
) -> None:
    """Sink of `PreserveEvidence`: one hold per case and stream, for the legal period."""
    now = utcnow()
    for case_id, e in _report_rows(effects, case_of):
        assert isinstance(e, PreserveEvidence)
        already = s.scalar(
            select(EvidenceHoldRow.id).where(
                EvidenceHoldRow.case_id == case_id, EvidenceHoldRow.stream_id == e.stream_id
            )
        )
        if already is None:
            s.add(
                EvidenceHoldRow(
                    case_id=case_id,
                    report_id=e.report_id,
                    stream_id=e.stream_id,
                    reason=e.reason,
                    rule=e.rule,
                    created_at=now,
                    hold_until=now + HOLD_PERIOD,
                )
            )
    s.flush()


KEEP_LIVE_BUFFER_CHANNEL = "live.keep_buffer"


def queue_keep_buffer(
    s: Session, effects: Sequence[KeepLiveBuffer], case_of: Mapping[str, int]
) -> None:
    """Sink of `KeepLiveBuffer`: an outbox message for the live workers, sent after commit."""
    for case_id, e in _report_rows(effects, case_of):
        assert isinstance(e, KeepLiveBuffer)
        s.add(
            OutboxRow(
                case_id=case_id,
                channel=KEEP_LIVE_BUFFER_CHANNEL,
                message=json.dumps(encode(e)),
                rule=e.rule,
            )
        )


def set_priorities(s: Session, effects: Sequence[SetPriority], case_of: Mapping[str, int]) -> None:
    """Sink of `SetPriority`: the priorities of many cases in one bulk update."""
    if effects:
        s.execute(update(CaseRow), [{"id": e.case_id, **_priority(e)} for e in effects])


def set_routes(s: Session, effects: Sequence[Route], case_of: Mapping[str, int]) -> None:
    """Sink of `Route`: the routing of many cases in one bulk update."""
    if effects:
        s.execute(update(CaseRow), [{"id": e.case_id, **_routing(e)} for e in effects])


def queue_notifications(s: Session, effects: Sequence[Notify], case_of: Mapping[str, int]) -> None:
    """Sink of `Notify`: an outbox message per notification, sent after commit."""
    for e in effects:
        s.add(OutboxRow(case_id=e.case_id, channel=e.channel, message=e.message, rule=e.rule))


def _priority(effect: SetPriority) -> dict[str, object]:
    return {
        "priority": int(effect.priority),
        "score": effect.score,
        "queue": effect.queue,
        "fired": json.dumps([asdict(f) for f in effect.fired]),
    }


def _routing(effect: Route) -> dict[str, object]:
    return {"routing": json.dumps([asdict(a) for a in effect.authorities])}


Sink = Callable[[Session, Sequence[Any], Mapping[str, int]], None]
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


def apply_all(s: Session, effects: Sequence[Effect], case_of: Mapping[str, int]) -> None:
    """Apply effects inside the caller's transaction, each type by its own sink."""
    by_type: dict[type[Effect], list[Effect]] = defaultdict(list)
    for effect in effects:
        if type(effect) not in SINKS:
            raise TypeError(f"no sink applies {type(effect).__name__}")
        by_type[type(effect)].append(effect)
    for effect_type, sink in SINKS.items():
        if by_type.get(effect_type):
            sink(s, by_type[effect_type], case_of)

"""Sinks: apply effects to the store inside the caller's transaction.

Linking keeps one open case per subject: a report joins the open case that already holds any of
its identifiers; when its identifiers sit in several open cases, those cases merge into the oldest.
"""

from __future__ import annotations

import ipaddress
import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict
from datetime import timedelta

from sqlalchemy import and_, distinct, func, insert, or_, select, tuple_, update
from sqlalchemy.orm import Session, aliased

from safestream.core.cases import CaseStatus
from safestream.core.effects import (
    Effect,
    Notify,
    OpenOrJoinCase,
    PreserveEvidence,
    Route,
    SetPriority,
)
from safestream.core.entities import Entity, EntityKind
from safestream.core.reports import ReportIn
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


class BatchLinker:
    """`open_or_join` for a whole batch of reports, in order, with a handful of statements.

    One query finds the open cases holding any identifier of the batch; each report then joins
    (or opens, or merges) cases in memory, exactly as `open_or_join` would one by one, and the new
    case entities, matches and report links are written together. Merges, which read and move
    stored rows, write what is pending first.
    """

    def __init__(self, s: Session, items: Sequence[tuple[OpenOrJoinCase, ReportIn]]) -> None:
        self.s = s
        self.items = items
        self.now = utcnow()
        self.holding: dict[tuple[str, str], set[int]] = defaultdict(set)
        self.merged_into: dict[int, int] = {}
        self.entity_rows: list[dict[str, object]] = []
        self.match_rows: list[dict[str, object]] = []
        self.report_cases: list[dict[str, object]] = []
        self.touched: set[int] = set()
        self.shared_ips: set[str] = set()

    def run(self) -> list[int]:
        """Link every item; return the case of each, in order (after any merge in the batch)."""
        self._load_holders()
        self._find_shared_ips()
        cases = [self._link(effect, report) for effect, report in self.items]
        self._write_pending()
        if self.touched:
            self.s.execute(
                update(CaseRow),
                [{"id": c, "updated_at": self.now} for c in sorted(self.touched)],
            )
        return [self._current(c) for c in cases]

    def _load_holders(self) -> None:
        pairs = sorted(
            {(e.kind.value, e.value) for effect, _ in self.items for e in effect.entities}
        )
        for start in range(0, len(pairs), 500):
            chunk = pairs[start : start + 500]
            rows = self.s.execute(
                select(CaseEntityRow.case_id, CaseEntityRow.kind, CaseEntityRow.value)
                .join(CaseRow, CaseRow.id == CaseEntityRow.case_id)
                .where(
                    CaseRow.status == CaseStatus.OPEN.value,
                    tuple_(CaseEntityRow.kind, CaseEntityRow.value).in_(chunk),
                )
            )
            for case_id, kind, value in rows:
                self.holding[(kind, value)].add(case_id)

    def _find_shared_ips(self) -> None:
        """IPs of the batch that many unrelated users share: they are kept on cases but never
        join or merge them (`linkable_ip`, `MAX_ACCOUNTS_PER_LINKING_IP`)."""
        ips = sorted(
            {
                e.value
                for effect, _ in self.items
                for e in effect.entities
                if e.kind is EntityKind.IP
            }
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

    def _link(self, effect: OpenOrJoinCase, report: ReportIn) -> int:
        keys = [(e.kind.value, e.value) for e in effect.entities]
        joining = [k for k in keys if not (k[0] == EntityKind.IP.value and k[1] in self.shared_ips)]
        found = sorted({self._current(c) for k in joining for c in self.holding.get(k, ())})
        if found:
            case_id = found[0]
            if len(found) > 1:
                self._write_pending()
                _merge(self.s, case_id, found[1:])
                for other in found[1:]:
                    self.merged_into[other] = case_id
                    self.touched.discard(other)
        else:
            kind, value = _subject(effect.entities, effect.report_id)
            case = CaseRow(
                subject_kind=kind, subject_value=value, created_at=self.now, updated_at=self.now
            )
            self.s.add(case)
            self.s.flush()
            case_id = case.id
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
        self.match_rows += [
            {
                "case_id": case_id,
                "report_id": effect.report_id,
                "bank": m.bank,
                "entry_id": m.entry_id,
                "signal_type": m.signal_type.value,
                "value": m.value,
                "distance": m.distance,
                "label": m.label,
                "verified": m.verified,
            }
            for m in report.matches
        ]
        self.report_cases.append({"id": effect.report_id, "case_id": case_id})
        self.touched.add(case_id)
        return case_id

    def _write_pending(self) -> None:
        if self.entity_rows:
            self.s.execute(insert(CaseEntityRow), self.entity_rows)
        if self.match_rows:
            self.s.execute(insert(CaseMatchRow), self.match_rows)
        if self.report_cases:
            self.s.execute(update(ReportRow), self.report_cases)
        self.entity_rows, self.match_rows, self.report_cases = [], [], []


def apply_all(s: Session, effects: Sequence[Effect]) -> None:
    """Apply many case-level effects: priorities and routes of many cases in one bulk update."""
    by_case: dict[int, dict[str, object]] = {}
    for effect in effects:
        if isinstance(effect, SetPriority):
            by_case.setdefault(effect.case_id, {"id": effect.case_id}).update(_priority(effect))
        elif isinstance(effect, Route):
            by_case.setdefault(effect.case_id, {"id": effect.case_id}).update(_routing(effect))
        else:
            apply(s, effect)
    # Bulk updates by primary key need the same columns in every row.
    groups: dict[frozenset[str], list[dict[str, object]]] = defaultdict(list)
    for row in by_case.values():
        groups[frozenset(row)].append(row)
    for rows in groups.values():
        s.execute(update(CaseRow), rows)


def _priority(effect: SetPriority) -> dict[str, object]:
    return {
        "priority": int(effect.priority),
        "score": effect.score,
        "queue": effect.queue,
        "fired": json.dumps([asdict(f) for f in effect.fired]),
    }


def _routing(effect: Route) -> dict[str, object]:
    return {"routing": json.dumps([asdict(a) for a in effect.authorities])}


def apply(s: Session, effect: Effect) -> None:
    """Apply one case-level effect (everything but linking)."""
    if isinstance(effect, SetPriority):
        s.execute(update(CaseRow).where(CaseRow.id == effect.case_id).values(_priority(effect)))
    elif isinstance(effect, Route):
        s.execute(update(CaseRow).where(CaseRow.id == effect.case_id).values(_routing(effect)))
    elif isinstance(effect, PreserveEvidence):
        already = s.scalar(
            select(EvidenceHoldRow.id).where(
                EvidenceHoldRow.case_id == effect.case_id,
                EvidenceHoldRow.stream_id == effect.stream_id,
            )
        )
        if already is None:
            now = utcnow()
            s.add(
                EvidenceHoldRow(
                    case_id=effect.case_id,
                    report_id=effect.report_id or None,
                    stream_id=effect.stream_id,
                    reason=effect.reason,
                    rule=effect.rule,
                    created_at=now,
                    hold_until=now + HOLD_PERIOD,
                )
            )
    elif isinstance(effect, Notify):
        s.add(
            OutboxRow(
                case_id=effect.case_id,
                channel=effect.channel,
                message=effect.message,
                rule=effect.rule,
            )
        )
    else:
        raise TypeError(f"no sink applies {type(effect).__name__}")

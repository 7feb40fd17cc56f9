"""Linking a batch of reports into cases, planned in memory and written in a few statements.

One open case per subject: a report joins the open case holding any identifier it names; when
its identifiers sit in several open cases, they merge into the oldest. For a whole batch that is
a union-find over reports, identifiers and the stored cases holding them: each connected group
becomes one case (the oldest stored case among them, or a new one opened by its first report), and
every other stored case in the group merges into it. `plan_links` is pure; `link_reports` reads
the holders, writes the plan with `store.linking` and returns each report's case.

IPs shared by design (private ranges, carrier NAT) or named with many accounts are kept on cases
but never join or merge them: linking on them would pull unrelated reports together.
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field

from safestream.core.effects import OpenOrJoinCase
from safestream.core.entities import Entity, EntityKind
from safestream.store import linking as store
from safestream.store.base import utcnow
from safestream.store.database import Transaction

Key = tuple[str, str]
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
# Beyond this many distinct reported accounts, an IP is taken for a shared one (a carrier's NAT, a
# VPN exit, a café) and stops joining cases.
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


# (version, network address, netmask) as integers: a linking batch tests thousands of IPs, and
# `address in network` builds objects per test.
_SHARED_MASKS = tuple(
    (net.version, int(net.network_address), int(net.netmask)) for net in SHARED_BY_DESIGN
)


def linkable_ip(value: str) -> bool:
    """Whether an IP may join reports into one case: not from a range shared by design."""
    address = ipaddress.ip_address(value)
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    number, version = int(address), address.version
    return not any(v == version and number & mask == net for v, net, mask in _SHARED_MASKS)


def subject_of(entities: Sequence[Entity], report_id: str) -> tuple[str, str]:
    """What a case opened by this report is about."""
    for kind in SUBJECT_ORDER:
        for e in entities:
            if e.kind is kind:
                return e.kind.value, e.value
    return NO_SUBJECT, report_id


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[Hashable, Hashable] = {}

    def find(self, node: Hashable) -> Hashable:
        parent = self.parent.setdefault(node, node)
        if parent == node:
            return node
        root = self.find(parent)
        self.parent[node] = root
        return root

    def union(self, a: Hashable, b: Hashable) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[ra] = rb


@dataclass(frozen=True)
class Target:
    """The case a report ends in: a stored one (`stored` id) or the n-th opened by this batch."""

    stored: int | None = None
    opened: int | None = None


@dataclass
class LinkPlan:
    """What a batch writes: cases to open (subject kind and value), stored cases to merge
    (merged -> kept), each report's case, and the identifiers new to their cases."""

    opened: list[tuple[str, str]] = field(default_factory=list)
    merges: dict[int, int] = field(default_factory=dict)
    report_cases: dict[str, Target] = field(default_factory=dict)
    entities: list[tuple[Target, str, str, str]] = field(default_factory=list)  # + first report


def plan_links(
    joins: Sequence[OpenOrJoinCase], holders: Mapping[Key, set[int]], shared_ips: set[str]
) -> LinkPlan:
    """The cases of a batch of reports (pure): connected groups of reports and stored cases
    over the identifiers that may join, each group one case."""
    groups = _UnionFind()
    for index, join in enumerate(joins):
        groups.find(("report", index))
        for e in join.entities:
            if e.kind is EntityKind.IP and e.value in shared_ips:
                continue
            key = (e.kind.value, e.value)
            groups.union(("report", index), ("key", key))
            for case_id in holders.get(key, ()):
                groups.union(("key", key), ("case", case_id))
    stored: dict[Hashable, list[int]] = defaultdict(list)
    for node in list(groups.parent):
        if isinstance(node, tuple) and node[0] == "case":
            stored[groups.find(node)].append(int(node[1]))
    plan, targets = LinkPlan(), {}
    for index, join in enumerate(joins):
        root = groups.find(("report", index))
        if root not in targets:
            cases = sorted(stored.get(root, []))
            if cases:
                targets[root] = Target(stored=cases[0])
                plan.merges.update({other: cases[0] for other in cases[1:]})
            else:
                targets[root] = Target(opened=len(plan.opened))
                plan.opened.append(subject_of(join.entities, join.report_id))
        plan.report_cases[join.report_id] = targets[root]
    _new_entities(plan, joins, holders, groups, stored)
    return plan


def _new_entities(
    plan: LinkPlan,
    joins: Sequence[OpenOrJoinCase],
    holders: Mapping[Key, set[int]],
    groups: _UnionFind,
    stored: Mapping[Hashable, list[int]],
) -> None:
    """Identifiers each case gains: those no case of its group holds yet, once each."""
    added: set[tuple[Target, Key]] = set()
    for index, join in enumerate(joins):
        root = groups.find(("report", index))
        target = plan.report_cases[join.report_id]
        group_cases = set(stored.get(root, []))
        for e in join.entities:
            key = (e.kind.value, e.value)
            if holders.get(key, set()) & group_cases or (target, key) in added:
                continue
            added.add((target, key))
            plan.entities.append((target, key[0], key[1], join.report_id))


def _shared_ips(s: Transaction, joins: Sequence[OpenOrJoinCase]) -> set[str]:
    ips = {e.value for j in joins for e in j.entities if e.kind is EntityKind.IP}
    shared = {ip for ip in ips if not linkable_ip(ip)}
    crowded = {
        e.value
        for j in joins
        if len({e.value for e in j.entities if e.kind is EntityKind.ACCOUNT})
        > MAX_ACCOUNTS_PER_LINKING_IP
        for e in j.entities
        if e.kind is EntityKind.IP
    }
    candidates = sorted(ips - shared)
    return shared | store.ips_with_many_accounts(
        s, candidates, MAX_ACCOUNTS_PER_LINKING_IP, crowded
    )


def link_reports(s: Transaction, joins: Sequence[OpenOrJoinCase]) -> dict[str, int]:
    """Sink of `OpenOrJoinCase`: link a batch of reports in the caller's transaction; return
    each report's case (the caller records it on the reports: `store.events.finish_reports`)."""
    if not joins:
        return {}
    keys = {(e.kind.value, e.value) for j in joins for e in j.entities}
    holders = store.open_case_holders(s, keys)
    plan = plan_links(joins, holders, _shared_ips(s, joins))
    now = utcnow()
    store.merge_cases(s, plan.merges)
    opened = store.insert_cases(
        s,
        [
            {"subject_kind": kind, "subject_value": value, "created_at": now, "updated_at": now}
            for kind, value in plan.opened
        ],
    )

    def case_of(target: Target) -> int:
        if target.stored is not None:
            return target.stored
        assert target.opened is not None
        return opened[target.opened]

    store.insert_case_entities(
        s,
        [
            {"case_id": case_of(t), "kind": kind, "value": value, "first_report_id": report}
            for t, kind, value, report in plan.entities
        ],
    )
    cases = {report: case_of(t) for report, t in plan.report_cases.items()}
    store.touch_cases(s, sorted({t.stored for t in plan.report_cases.values() if t.stored}), now)
    return cases

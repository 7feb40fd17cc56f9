"""Claims repository: deconfliction as each organisation's recorded word, never a hidden case.

Only organisations that may hold cases (the operator and agencies) may claim. A claim is stored
against the identifier, whether or not any case holds it, and the answer is the same either way,
so claiming cannot be used to learn whether someone reported an identifier. Claims are shown on
the cases that hold the identifier; they never take a case out of its owner's queues (only the
operator's own reviewer can mark a case as held elsewhere, `store.cases`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, tuple_

from safestream.core.entities import Entity
from safestream.core.errors import PermissionDenied
from safestream.core.principal import OrgKind, Principal
from safestream.store import audit
from safestream.store.base import utcnow
from safestream.store.database import Database
from safestream.store.models.access import OrganisationRow
from safestream.store.models.cases import EntityClaimRow
from safestream.store.times import aware

CLAIMING_KINDS = frozenset({OrgKind.OPERATOR, OrgKind.AGENCY})


@dataclass(frozen=True)
class EntityClaim:
    """One organisation's claim on an identifier."""

    entity: Entity
    claimed_by: str
    reference: str
    claimed_at: datetime


class ClaimRepository:
    """Claims on identifiers in one store."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def record(self, principal: Principal, entity: Entity, reference: str) -> EntityClaim:
        """Store the principal's organisation's claim on `entity` (audited)."""
        if principal.org is None or principal.kind not in CLAIMING_KINDS:
            raise PermissionDenied(
                "only organisations that hold cases (the operator and agencies) may claim"
            )
        now = utcnow()
        with self.db.session() as s:
            s.add(
                EntityClaimRow(
                    org_id=principal.org.id,
                    kind=entity.kind.value,
                    value=entity.value,
                    reference=reference,
                    created_at=now,
                )
            )
            audit.append(
                s,
                actor=principal.actor,
                action="entity.claim",
                subject=f"entity:{entity.kind.value}:{entity.value}",
                details={"reference": reference},
            )
        return EntityClaim(entity, principal.org.name, reference, now)

    def on_entities(self, entities: Sequence[Entity]) -> list[EntityClaim]:
        """Claims on any of these identifiers, oldest first (the caller has checked scope)."""
        if not entities:
            return []
        keys = [(e.kind.value, e.value) for e in entities]
        with self.db.session() as s:
            rows = s.execute(
                select(EntityClaimRow, OrganisationRow.name)
                .join(OrganisationRow, OrganisationRow.id == EntityClaimRow.org_id)
                .where(tuple_(EntityClaimRow.kind, EntityClaimRow.value).in_(keys))
                .order_by(EntityClaimRow.id)
            ).all()
            by_key = {(e.kind.value, e.value): e for e in entities}
            return [
                EntityClaim(by_key[(r.kind, r.value)], name, r.reference, aware(r.created_at))
                for r, name in rows
            ]

"""Who is acting: every store call names its principal, and scope is decided from it once.

    Principal(org=OrgRef(...), user="ana@hotline.example", roles=frozenset({Role.REVIEWER}))
    Principal.system("case-engine")

An organisation has a kind, which decides what its people and keys may see (`docs/security.md`):
- `platform`: sends reports and panic presses; sees its own reports and their status;
- `operator`: the hotline running the installation; links and triages every case;
- `agency`: receives cases referred to it (by its `agency_code`, the routing code);
the system principal (SafeStream's own detectors and workers) sees everything.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class OrgKind(StrEnum):
    """What an organisation is to this installation."""

    PLATFORM = "platform"
    OPERATOR = "operator"
    AGENCY = "agency"


class Permission(StrEnum):
    """Things a role may do."""

    REVIEW = "review"
    VIEW_CHILD_SAFETY_MEDIA = "view_child_safety_media"
    READ_AUDIT = "read_audit"
    ADMINISTER = "administer"


class Role(StrEnum):
    """Console roles; a child-safety reviewer may open media, a plain reviewer sees hashes only.

    `API_CLIENT` is the role of a request authenticated by an organisation's API key.
    """

    ADMIN = "admin"
    REVIEWER = "reviewer"
    CHILD_SAFETY_REVIEWER = "child_safety_reviewer"
    AUDITOR = "auditor"
    API_CLIENT = "api_client"

    def allows(self, permission: Permission) -> bool:
        """Whether this role grants `permission`."""
        return permission in ROLE_PERMISSIONS[self]


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.REVIEWER: frozenset({Permission.REVIEW}),
    Role.CHILD_SAFETY_REVIEWER: frozenset({Permission.REVIEW, Permission.VIEW_CHILD_SAFETY_MEDIA}),
    Role.AUDITOR: frozenset({Permission.READ_AUDIT}),
    Role.API_CLIENT: frozenset(),
}


@dataclass(frozen=True, kw_only=True)
class OrgRef:
    """The organisation a principal acts for."""

    id: int
    name: str
    kind: OrgKind
    agency_code: str | None = None


@dataclass(frozen=True, kw_only=True)
class Principal:
    """Who is acting: an organisation's user or API key, or SafeStream itself."""

    org: OrgRef | None
    user: str
    roles: frozenset[Role]
    user_id: int | None = None
    component: str | None = None

    @classmethod
    def system(cls, component: str) -> Principal:
        """SafeStream's own code (`component` names it in the audit log); sees everything."""
        if not component.strip():
            raise ValueError("name the component acting as the system")
        return cls(org=None, user=f"system:{component}", roles=frozenset(), component=component)

    @property
    def is_system(self) -> bool:
        """Whether SafeStream itself is acting."""
        return self.component is not None

    @property
    def kind(self) -> OrgKind | None:
        """The kind of the principal's organisation (None for the system)."""
        return self.org.kind if self.org else None

    @property
    def links_and_triages(self) -> bool:
        """Whether this principal may see and work every case (system or operator)."""
        return self.is_system or self.kind is OrgKind.OPERATOR

    def allows(self, permission: Permission) -> bool:
        """Whether any of the principal's roles grants `permission` (the system: all)."""
        return self.is_system or any(r.allows(permission) for r in self.roles)

    @property
    def actor(self) -> str:
        """How the audit log names this principal."""
        return self.user

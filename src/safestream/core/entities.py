"""Entities: the identifiers cases link on (accounts, payment accounts, emails, IPs, streams...)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from enum import StrEnum

from safestream.core.errors import InvalidInput


class EntityKind(StrEnum):
    """Kinds of identifier; the values are storage keys and must never be renamed."""

    ACCOUNT = "account"
    PAYMENT_ACCOUNT = "payment_account"
    EMAIL = "email"
    IP = "ip"
    STREAM = "stream"
    MEDIA_HASH = "media_hash"
    DEVICE = "device"


MAX_ENTITY_VALUE = 512


def has_control_character(text: str) -> bool:
    """Whether `text` holds a C0/C1 control character (NUL, line breaks, escapes, ...).

    No identifier holds one, and PostgreSQL text refuses NUL outright."""
    return any(ord(c) < 32 or 127 <= ord(c) < 160 for c in text)


def normalize_entity_value(kind: EntityKind, value: str) -> str:
    """Canonical text of an identifier, so two spellings of one thing link; raise `InvalidInput`."""
    text = value.strip()
    if not text:
        raise InvalidInput(f"{kind.value}: empty identifier")
    if len(text) > MAX_ENTITY_VALUE:
        raise InvalidInput(f"{kind.value}: identifier longer than {MAX_ENTITY_VALUE} characters")
    if has_control_character(text):
        raise InvalidInput(f"{kind.value}: identifier contains a control character: {value!r}")
    if kind is EntityKind.EMAIL:
        if text.count("@") != 1 or text.startswith("@") or text.endswith("@"):
            raise InvalidInput(f"email: not an address: {value!r}")
        return text.lower()
    if kind is EntityKind.IP:
        try:
            return ipaddress.ip_address(text).compressed
        except ValueError as exc:
            raise InvalidInput(f"ip: not an IP address: {value!r}") from exc
    if kind is EntityKind.MEDIA_HASH:
        # "<signal type>:<hex>"; hex case never matters.
        return text.lower()
    return text


@dataclass(frozen=True, order=True)
class Entity:
    """One identifier of a known kind, in canonical form."""

    kind: EntityKind
    value: str

    @classmethod
    def of(cls, kind: EntityKind | str, value: str) -> Entity:
        """Validate and normalise an identifier."""
        try:
            k = EntityKind(kind)
        except ValueError as exc:
            raise InvalidInput(f"unknown entity kind {kind!r}") from exc
        return cls(k, normalize_entity_value(k, value))

    def __str__(self) -> str:
        return f"{self.kind.value}:{self.value}"

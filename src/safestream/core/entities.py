"""Entities: the identifiers cases link on (accounts, payment accounts, emails, IPs, streams...)."""

from __future__ import annotations

import ipaddress
import re
import unicodedata
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


_ASCII_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def has_control_character(text: str) -> bool:
    """Whether `text` holds a C0/C1 control character (NUL, line breaks, escapes, ...).

    No identifier holds one, and PostgreSQL text refuses NUL outright."""
    return any(ord(c) < 32 or 127 <= ord(c) < 160 for c in text)


def invisible_characters(text: str) -> list[str]:
    """Code points of Unicode category Cf in `text` (zero-width, bidi controls, BOM, soft hyphen).

    They render as nothing, so "payer" and "pay\u200ber" would look like one account and be two."""
    return [f"U+{ord(c):04X}" for c in text if unicodedata.category(c) == "Cf"]


def normalize_identifier_text(value: str) -> str:
    """NFKC form of an identifier, stripped; raise `InvalidInput` on control or invisible text.

    NFKC folds compatibility look-alikes (fullwidth letters, ligatures) into one spelling. Format
    characters are refused rather than stripped: a sender that adds them is hiding something, and
    the caller should hear so. The one function used at intake and wherever identifiers compare."""
    if value.isascii():
        # Most identifiers: ASCII holds no format character and NFKC leaves it as it is, so one
        # scan for control characters replaces three passes per character at intake.
        if _ASCII_CONTROL.search(value):
            raise InvalidInput("contains a control character")
        return value.strip()
    if has_control_character(value):
        raise InvalidInput("contains a control character")
    hidden = invisible_characters(value)
    if hidden:
        raise InvalidInput(f"contains invisible format characters ({', '.join(hidden)})")
    text = unicodedata.normalize("NFKC", value).strip()
    # NFKC can map to a control character (none today); refuse rather than store one.
    if has_control_character(text) or invisible_characters(text):
        raise InvalidInput("contains a control or invisible character after NFKC normalisation")
    return text


def normalize_entity_value(kind: EntityKind, value: str) -> str:
    """Canonical text of an identifier, so two spellings of one thing link; raise `InvalidInput`."""
    try:
        text = normalize_identifier_text(value)
    except InvalidInput as exc:
        raise InvalidInput(f"{kind.value}: identifier {exc}: {value!r}") from None
    if not text:
        raise InvalidInput(f"{kind.value}: empty identifier")
    if len(text) > MAX_ENTITY_VALUE:
        raise InvalidInput(f"{kind.value}: identifier longer than {MAX_ENTITY_VALUE} characters")
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

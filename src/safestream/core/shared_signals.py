"""Signals shared between installations: hashes, account identifiers, URLs and keywords.

Every value is kept in one canonical text form per kind, so two installations that spell the same
thing differently (upper-case hex, `HTTP://Example.COM/a#frag`, a keyword in another Unicode
normal form) exchange and match one entry. Beside the signal as it travels: a signal to publish,
an entry as held here with its review state, a reviewer's feedback on one, and the signed header
of a bundle.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from urllib.parse import urlsplit, urlunsplit

from safestream.core.errors import InvalidInput
from safestream.core.signals import SignalType, normalize_hash

MAX_VALUE = 512
LOCAL = "local"  # the publisher name of this installation's own signals
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")  # C0, DEL and C1, as core.entities refuses


class SignalKind(StrEnum):
    """Kinds of shared signal; values are storage and wire keys and must never be renamed."""

    PDQ = "pdq"
    MD5 = "md5"
    SHA256 = "sha256"
    ACCOUNT = "account"  # "<platform>:<account id>"
    URL = "url"
    KEYWORD = "keyword"

    @property
    def is_hash(self) -> bool:
        """Whether this kind is a media hash (and so can go into a hash bank)."""
        return self in (SignalKind.PDQ, SignalKind.MD5, SignalKind.SHA256)


def canonical_value(kind: SignalKind | str, value: str) -> str:
    """The canonical text of a signal; raise `InvalidInput` when it is not one of its kind."""
    try:
        k = SignalKind(kind)
    except ValueError as exc:
        raise InvalidInput(f"unknown signal kind {kind!r}") from exc
    text = value.strip()
    if k.is_hash:  # hex only, so no control character can pass
        return normalize_hash(SignalType(k.value), text)
    if not text or len(text) > MAX_VALUE or _CONTROL.search(text):
        raise InvalidInput(f"{k.value}: empty, too long or holds control characters: {value!r}")
    if k is SignalKind.ACCOUNT:
        platform, sep, account = text.partition(":")
        if not sep or not platform.strip() or not account.strip():
            raise InvalidInput(f"account: use <platform>:<account id>, not {value!r}")
        return f"{platform.strip().lower()}:{account.strip()}"
    if k is SignalKind.URL:
        parts = urlsplit(text if "://" in text else "http://" + text)
        if not parts.netloc:
            raise InvalidInput(f"url: no host in {value!r}")
        path = parts.path or "/"
        return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, parts.query, ""))
    return unicodedata.normalize("NFKC", text).casefold()


@dataclass(frozen=True)
class SharedSignal:
    """One entry of a shared collection, as it travels between installations."""

    kind: SignalKind
    value: str
    label: str = "unclassified"  # the internal classification label (core.classification)
    tags: tuple[str, ...] = ()
    source: str = ""  # provenance: who found it and how
    added_at: datetime | None = None
    expires_at: datetime | None = None
    deleted: bool = False  # a tombstone: the publisher withdrew this entry
    seq: int = 0  # the publisher's change number
    collection: str = ""
    negative: bool = False  # a known-benign signal: suppresses matches, never raises one
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SignalEntry:
    """A shared signal as held here (ours or a peer's), with its id and review state."""

    id: int
    publisher: str
    collection: str
    kind: str
    value: str
    label: str
    source: str
    negative: bool
    deleted: bool
    state: str  # active, quarantined (a flood) or disabled (by a reviewer)
    state_reason: str


@dataclass(frozen=True)
class EntryFeedback:
    """A reviewer's confirm or de-confirm of a peer's entry, to send to the list owner."""

    collection: str
    kind: str
    value: str
    verdict: str
    reason: str
    at: datetime  # as stored (naive on SQLite), so exported times read as they always did
    entry_state: str


@dataclass(frozen=True)
class NewSignal:
    """A signal to publish in one of our collections."""

    kind: str
    value: str
    label: str = "unclassified"
    tags: tuple[str, ...] = ()
    source: str = ""
    expires_at: datetime | None = None
    negative: bool = False


@dataclass(frozen=True)
class BundleHeader:
    """What a bundle says about itself (covered by the signature: `exchange.bundle`)."""

    publisher: str
    after: int
    checkpoint: int
    count: int
    more: bool
    created_at: str
    body_sha256: str

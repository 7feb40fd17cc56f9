"""The signed bundle: how one installation hands signals to another.

    line 1  header JSON: format, publisher key id, `after` and `checkpoint` change numbers,
            entry count, whether more follow, SHA-256 of the body
    line 2  {"signature": base64 Ed25519 signature of line 1's bytes}
    line 3+ one entry per line (JSON): s=change number, k=kind, v=value, l=label, t=tags,
            src=provenance, a=added, x=expires, c=collection, d=withdrawn (tombstone),
            n=negative (known benign)

One signature covers the header, and the header carries the body's hash, so a bundle of any size
costs one Ed25519 operation and any altered byte fails verification. Entries hold change numbers
in (after, checkpoint]; a puller stores `checkpoint` once the bundle is applied and asks for
`after=checkpoint` next, so a fetch interrupted anywhere resumes without gaps or repeats.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from safestream.core.errors import ExchangeError
from safestream.core.shared_signals import BundleHeader, SharedSignal, SignalKind
from safestream.exchange.identity import Identity, verify

FORMAT = "safestream-signals/1"
MEDIA_TYPE = "application/vnd.safestream.signals+jsonl"


@dataclass(frozen=True)
class Bundle:
    """A verified bundle."""

    header: BundleHeader
    signals: list[SharedSignal]


def _time(value: datetime | None) -> str | None:
    if value is None:
        return None
    aware = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return aware.isoformat()


def entry_line(s: SharedSignal) -> str:
    """One entry as its wire line (defaults left out)."""
    obj: dict[str, object] = {"s": s.seq, "k": s.kind.value, "v": s.value, "c": s.collection}
    if s.label != "unclassified":
        obj["l"] = s.label
    if s.tags:
        obj["t"] = list(s.tags)
    if s.source:
        obj["src"] = s.source
    if s.added_at:
        obj["a"] = _time(s.added_at)
    if s.expires_at:
        obj["x"] = _time(s.expires_at)
    if s.deleted:
        obj["d"] = True
    if s.negative:
        obj["n"] = True
    return orjson.dumps(obj).decode("utf-8")


_KINDS = {k.value: k for k in SignalKind}


def _entry(obj: Mapping[str, object]) -> SharedSignal:
    added, expires = obj.get("a"), obj.get("x")
    tags = obj.get("t") or []
    return SharedSignal(
        kind=_KINDS[str(obj["k"])],
        value=str(obj["v"]),
        label=str(obj.get("l") or "unclassified"),
        tags=tuple(str(t) for t in tags) if isinstance(tags, list) else (),
        source=str(obj.get("src") or ""),
        added_at=datetime.fromisoformat(str(added)) if added else None,
        expires_at=datetime.fromisoformat(str(expires)) if expires else None,
        deleted=bool(obj.get("d")),
        seq=int(str(obj["s"])),
        collection=str(obj.get("c") or ""),
        negative=bool(obj.get("n")),
    )


def write_bundle(
    identity: Identity,
    signals: Iterable[SharedSignal],
    *,
    after: int,
    checkpoint: int,
    more: bool = False,
) -> bytes:
    """A signed bundle of `signals` (change numbers in (after, checkpoint])."""
    lines = [entry_line(s).encode("utf-8") for s in signals]
    return sign_lines(identity, lines, after=after, checkpoint=checkpoint, more=more)


def sign_lines(
    identity: Identity,
    lines: list[bytes],
    *,
    after: int,
    checkpoint: int,
    more: bool = False,
) -> bytes:
    """A signed bundle of lines already in wire form (`entry_line`, `store.exchange.wire_rows`)."""
    body = b"\n".join(lines) + b"\n" if lines else b""
    header = {
        "format": FORMAT,
        "publisher": identity.key_id,
        "after": after,
        "checkpoint": checkpoint,
        "count": len(lines),
        "more": more,
        "created_at": datetime.now(UTC).isoformat(),
        "body_sha256": hashlib.sha256(body).hexdigest(),
    }
    head = json.dumps(header, separators=(",", ":")).encode("utf-8")
    signature = json.dumps({"signature": base64.b64encode(identity.sign(head)).decode()})
    return head + b"\n" + signature.encode() + b"\n" + body


def read_bundle(data: bytes, publishers: Mapping[str, Ed25519PublicKey]) -> Bundle:
    """Verify and parse a bundle from one of `publishers`; raise `ExchangeError` otherwise."""
    meta, body = verify_bundle(data, publishers)
    try:
        signals = [_entry(orjson.loads(line)) for line in body.splitlines() if line.strip()]
    except (orjson.JSONDecodeError, ValueError, KeyError, TypeError) as exc:
        raise ExchangeError(f"bundle entry unreadable: {exc}") from exc
    if len(signals) != meta.count:
        raise ExchangeError(f"bundle says {meta.count} entries, holds {len(signals)}")
    if any(not meta.after < s.seq <= meta.checkpoint for s in signals):
        raise ExchangeError("bundle entry outside the bundle's change range: refused")
    return Bundle(meta, signals)


def verify_bundle(
    data: bytes, publishers: Mapping[str, Ed25519PublicKey]
) -> tuple[BundleHeader, bytes]:
    """The verified header and the body (entry lines) of a bundle from one of `publishers`.

    The body is covered by the signature through its hash; its entries are still to be read
    (`read_bundle`, or `store.exchange.wire_rows.rows_of` straight into store rows)."""
    head, sep1, rest = data.partition(b"\n")
    sig_line, sep2, body = rest.partition(b"\n")
    if not (sep1 and sep2):
        raise ExchangeError("not a SafeStream signal bundle (no header and signature lines)")
    try:
        header = json.loads(head)
        signature = base64.b64decode(json.loads(sig_line)["signature"], validate=True)
    except (ValueError, KeyError, TypeError) as exc:
        raise ExchangeError(f"bundle header or signature unreadable: {exc}") from exc
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ExchangeError(f"not a {FORMAT} bundle")
    key = publishers.get(str(header.get("publisher")))
    if key is None:
        raise ExchangeError(f"bundle from unknown publisher {header.get('publisher')!r}")
    if not verify(key, signature, head):
        raise ExchangeError("bundle signature does not verify: refused")
    if hashlib.sha256(body).hexdigest() != header.get("body_sha256"):
        raise ExchangeError("bundle body does not match its signed hash: refused")
    try:
        meta = BundleHeader(
            publisher=str(header["publisher"]),
            after=int(header["after"]),
            checkpoint=int(header["checkpoint"]),
            count=int(header["count"]),
            more=bool(header.get("more")),
            created_at=str(header.get("created_at", "")),
            body_sha256=str(header["body_sha256"]),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise ExchangeError(f"bundle header unreadable: {exc}") from exc
    return meta, body

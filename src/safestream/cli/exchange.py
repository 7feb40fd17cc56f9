"""`safestream exchange ...`: share signals with other SafeStream installations.

safestream exchange identity                          # this installation's key, for peers
safestream exchange peer-add hotline URL PUBLIC_KEY   # register a peer
safestream exchange grant ph-hotline platform         # let a peer pull a collection
safestream exchange collection-create finds --org ORG # a collection an organisation owns
safestream exchange revoke ph-hotline platform        # stop a peer pulling it
safestream exchange publish ph-hotline signals.txt    # lines "kind value" (pytx local_file)
safestream exchange withdraw ph-hotline url http://...
safestream exchange serve --port 8100                 # the exchange API on its own
safestream exchange pull hotline [--every 300]        # fetch a peer's changes
safestream exchange export ph-hotline --format ncmec-xml|vics-json|bundle --out FILE
safestream exchange import FILE --format ncmec-xml|vics-json --collection NAME
safestream exchange feedback PEER --out FILE          # confirm/de-confirm for the owner

Each command writes its result as JSON lines on stdout; messages go to stderr.
"""

from __future__ import annotations

import contextlib
import sys
import time
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from safestream.cli import context
from safestream.cli.output import emit, error_line

if TYPE_CHECKING:
    from safestream.core.principal import Principal
    from safestream.exchange.identity import Identity
    from safestream.store.database import Database

exchange_app = typer.Typer(
    help="Share hashes, accounts, URLs and keywords with other installations."
    "\n\n\b\nExamples:\n"
    "  safestream exchange identity\n"
    "  safestream exchange pull hotline-b\n",
    no_args_is_help=True,
)


class Format(StrEnum):
    """File formats of `export` and `import`."""

    NCMEC_XML = "ncmec-xml"
    VICS_JSON = "vics-json"
    BUNDLE = "bundle"


def _identity() -> Identity:
    from safestream.exchange.identity import Identity

    return Identity.load_or_create(context.settings().home)


@exchange_app.command("identity")
def identity() -> None:
    """Print this installation's key id and public key (give both to peers).

    \b
    Example:
      safestream exchange identity
    """
    me = _identity()
    emit({"key_id": me.key_id, "public_key": me.public_text})


@exchange_app.command("peer-add")
def peer_add(
    name: str = typer.Argument(..., help="A name for the peer."),
    url: str = typer.Argument(..., help="Where the peer serves /exchange/v1."),
    public_key: str = typer.Argument(..., help="The peer's public key (base64)."),
    flood_limit: int = typer.Option(50, min=1, help="Distinct items per hour before quarantine."),
) -> None:
    """Register another installation by its public key.

    \b
    Example:
      safestream exchange identity
    """
    from safestream.store.exchange.peers import PeerRegistry

    peer = PeerRegistry(context.open_database()).add(name, url, public_key, flood_limit=flood_limit)
    emit({"peer": peer.name, "key_id": peer.key_id, "url": peer.url})


_ORG_HELP = "Act as this organisation's administrator (default: the installation)."


def _acting(db: Database, org: str | None) -> Principal:
    """Who a command acts as: an organisation's administrator, or the installation itself."""
    from safestream.core.principal import Principal, Role
    from safestream.store.access import get_org

    if org is None:
        return Principal.system("cli")
    return Principal(org=get_org(db, org).ref, user=f"cli:{org}", roles=frozenset({Role.ADMIN}))


@exchange_app.command("collection-create")
def collection_create(
    name: str = typer.Argument(..., help="The new collection's name."),
    org: str = typer.Option(..., "--org", help="The organisation that owns it."),
) -> None:
    """Create a collection an organisation owns: only it publishes into and grants it.

    \b
    Example:
      safestream exchange collection-create platform-finds --org "Example Platform"
    """
    from safestream.store.exchange_grants import SharingGrants

    db = context.open_database()
    SharingGrants(db).create_collection(_acting(db, org), name)
    emit({"collection": name, "owner": org})


@exchange_app.command("grant")
def grant(
    collection: str = typer.Argument(..., help="One of our collections."),
    peer: str = typer.Argument(..., help="Peer name."),
    org: str | None = typer.Option(None, "--org", help=_ORG_HELP),
) -> None:
    """Let a peer pull one of our collections (as the organisation that owns it).

    \b
    Example:
      safestream exchange grant known-csam hotline-b
    """
    from safestream.store.exchange_grants import SharingGrants

    db = context.open_database()
    SharingGrants(db).grant(_acting(db, org), collection, peer)
    emit({"collection": collection, "peer": peer, "granted": True})


@exchange_app.command("revoke")
def revoke(
    collection: str = typer.Argument(..., help="One of our collections."),
    peer: str = typer.Argument(..., help="Peer name."),
    org: str | None = typer.Option(None, "--org", help=_ORG_HELP),
) -> None:
    """Stop a peer pulling a collection (what it has already pulled stays with it).

    \b
    Example:
      safestream exchange revoke known-csam hotline-b
    """
    from safestream.store.exchange_grants import SharingGrants

    db = context.open_database()
    SharingGrants(db).revoke(_acting(db, org), collection, peer)
    emit({"collection": collection, "peer": peer, "granted": False})


@exchange_app.command("publish")
def publish(
    collection: str = typer.Argument(..., help="Collection to add to."),
    file: Path = typer.Argument(
        ..., help="Lines 'kind value' (kinds: pdq md5 sha256 account url keyword)."
    ),
    label: str = typer.Option("unclassified", help="Internal label of every entry."),
    source: str = typer.Option("", help="Provenance: who found these and how."),
    negative: bool = typer.Option(False, help="Known-benign entries (they suppress matches)."),
    org: str | None = typer.Option(None, "--org", help=_ORG_HELP),
) -> None:
    """Add entries to one of our collections (pytx `local_file` lines are accepted).

    \b
    Example:
      safestream exchange publish known-csam hashes.txt --source "hotline review"
    """
    from safestream.core.shared_signals import NewSignal
    from safestream.store.exchange.shared_signals import SignalStore

    rows = []
    for line in file.read_text(encoding="utf-8").splitlines():
        kind, _, value = line.strip().partition(" ")
        if kind and value:
            rows.append(NewSignal(kind, value, label=label, source=source, negative=negative))
    db = context.open_database()
    changed = SignalStore(db).publish(collection, rows, principal=_acting(db, org))
    emit({"collection": collection, "published": changed})


@exchange_app.command("withdraw")
def withdraw(
    collection: str = typer.Argument(...),
    kind: str = typer.Argument(...),
    value: str = typer.Argument(...),
    org: str | None = typer.Option(None, "--org", help=_ORG_HELP),
) -> None:
    """Withdraw one of our entries (peers receive a tombstone).

    \b
    Example:
      safestream exchange withdraw known-csam pdq f8f8f0cee0f4...9c9b22
    """
    from safestream.store.exchange.shared_signals import SignalStore

    db = context.open_database()
    SignalStore(db).withdraw(collection, kind, value, principal=_acting(db, org))
    emit({"collection": collection, "kind": kind, "value": value, "withdrawn": True})


@exchange_app.command("serve")
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8100, help="Port to listen on."),
) -> None:
    """Serve only the exchange API (`safestream serve` serves it too, under /exchange/v1).

    \b
    Example:
      safestream exchange serve --port 8100
    """
    import uvicorn

    from safestream.exchange.api import exchange_app as build

    app = build(context.open_database(), _identity())
    typer.echo(f"exchange on http://{host}:{port}/exchange/v1", err=True)
    uvicorn.run(app, host=host, port=port, log_level="warning")


@exchange_app.command("pull")
def pull(
    peer: str = typer.Argument(..., help="Peer name."),
    every: float = typer.Option(0, min=0, help="Repeat every N seconds (0: once)."),
    page: int = typer.Option(50_000, min=1, max=100_000, help="Entries per request."),
    banks: bool = typer.Option(True, help="Load the peer's hashes into match banks."),
) -> None:
    """Fetch and apply a peer's changes since the last checkpoint.

    \b
    Examples:
      safestream exchange pull hotline-b
      safestream exchange pull hotline-b --every 300
    """
    from safestream.cli.retro import entries_of, retro_matcher
    from safestream.core.errors import ExchangeError
    from safestream.exchange.bank_sync import sync_peer_banks
    from safestream.exchange.pull import pull as run
    from safestream.store.exchange.peers import PeerRegistry

    db, me = context.open_database(), _identity()
    # Held across runs: with --every, only hashes seen since the last run are loaded.
    matcher = retro_matcher(db) if banks else None
    while True:
        started = time.perf_counter()
        try:
            result = run(db, me, peer, page=page)
            pulled: dict[str, object] = {
                "peer": peer,
                "entries": result.entries,
                "pages": result.pages,
                "checkpoint": result.checkpoint,
                "seconds": round(time.perf_counter() - started, 3),
            }
            if banks and result.entries:
                synced = sync_peer_banks(db, peer, PeerRegistry(db).get(peer).key_id)
                pulled["banks"] = {"names": list(synced.banks), "added": synced.added,
                                   "removed": synced.removed}  # fmt: skip
                if matcher is not None and synced.new_pdq:
                    retro = matcher.match(entries_of(db, [e.id for e in synced.new_pdq]))
                    pulled["retroactive_matches"] = len(retro)
            emit(pulled)
        except ExchangeError:
            if not every:
                raise
            error_line(None, f"{peer}: pull failed: {sys.exc_info()[1]}")
        if not every:
            return
        time.sleep(every)


@exchange_app.command("export")
def export(
    collection: str = typer.Argument(..., help="One of our collections."),
    out: Path = typer.Option(..., help="File to write."),
    format: Format = typer.Option(Format.BUNDLE, "--format", help="File format."),
    member_id: int = typer.Option(0, help="NCMEC member id (ncmec-xml)."),
) -> None:
    """Write one of our collections as a signed bundle, NCMEC entries XML or VICS JSON.

    \b
    Example:
      safestream exchange export known-csam --format vics-json --out case.json
    """
    from safestream.core.shared_signals import LOCAL
    from safestream.exchange.bundle import write_bundle
    from safestream.exchange.ncmec_entries import write_ncmec_entries
    from safestream.store.exchange.shared_signals import SignalStore

    signals = SignalStore(context.open_database()).entries(LOCAL, collection)
    skipped: dict[str, int] = {}
    if format is Format.NCMEC_XML:
        name = context.settings().home.name
        data, skipped = write_ncmec_entries(signals, member_id=member_id, member_name=name)
    elif format is Format.VICS_JSON:
        from safestream.exchange.vics import write_vics

        data, skipped = write_vics(signals)
    else:
        last = max((s.seq for s in signals), default=0)
        data = write_bundle(_identity(), signals, after=0, checkpoint=last)
    out.write_bytes(data)
    emit({"collection": collection, "file": str(out), "entries": len(signals),
          "not_carried": skipped})  # fmt: skip


@exchange_app.command("import")
def import_(
    file: Path = typer.Argument(..., help="NCMEC entries XML or VICS JSON."),
    format: Format = typer.Option(..., "--format", help="File format."),
    collection: str = typer.Option(..., help="Our collection to publish the entries in."),
    org: str | None = typer.Option(None, "--org", help=_ORG_HELP),
) -> None:
    """Publish the hashes of an NCMEC entries document or a VICS case in one of our collections.

    \b
    Example:
      safestream exchange import entries.xml --format ncmec-xml --collection ncmec
    """
    from safestream.core.errors import NotFound
    from safestream.core.shared_signals import NewSignal
    from safestream.exchange.ncmec_entries import read_ncmec_entries
    from safestream.exchange.vics import read_vics
    from safestream.store.exchange.shared_signals import SignalStore

    data = file.read_bytes()
    read = read_vics(data) if format is Format.VICS_JSON else read_ncmec_entries(data)
    db = context.open_database()
    store, principal = SignalStore(db), _acting(db, org)
    live = [s for s in read.signals if not s.deleted]
    store.publish(
        collection,
        [NewSignal(s.kind.value, s.value, s.label, s.tags, s.source, s.expires_at) for s in live],
        principal=principal,
    )
    for s in read.signals:
        if s.deleted:
            with contextlib.suppress(NotFound):  # withdrawing what we never had: nothing to do
                store.withdraw(collection, s.kind.value, s.value, principal=principal)
    emit({"collection": collection, "published": len(live), "not_read": read.skipped or {}})


@exchange_app.command("feedback")
def feedback(
    peer: str = typer.Argument(..., help="Peer whose entries the feedback is about."),
    out: Path = typer.Option(..., help="JSON lines file to send to the list owner."),
) -> None:
    """Export confirm / de-confirm feedback on a peer's entries.

    \b
    Example:
      safestream exchange feedback hotline-b --out feedback.jsonl
    """
    from safestream.exchange.safety import SignalScreen
    from safestream.store.exchange.peers import PeerRegistry

    db = context.open_database()
    text = SignalScreen(db).feedback_export(PeerRegistry(db).get(peer).key_id)
    out.write_text(text, encoding="utf-8")
    emit({"peer": peer, "file": str(out), "feedback_lines": len(text.splitlines())})


@exchange_app.command("entries")
def entries(
    peer: str = typer.Argument(..., help="Peer name."),
    state: str = typer.Option(
        "", help="Only entries in this state (active, quarantined, disabled)."
    ),
) -> None:
    """List a peer's entries with their ids and states (to review quarantined ones).

    \b
    Example:
      safestream exchange entries hotline-b --state quarantined
    """
    from safestream.store.exchange.peers import PeerRegistry
    from safestream.store.exchange.signal_entries import SignalEntries

    db = context.open_database()
    publisher = PeerRegistry(db).get(peer).key_id
    for entry in SignalEntries(db).of_publisher(publisher, state=state, limit=10_000):
        emit({"id": entry.id, "state": entry.state, "withdrawn": entry.deleted,
              "kind": entry.kind, "value": entry.value, "label": entry.label,
              "reason": entry.state_reason or None})  # fmt: skip


@exchange_app.command("review")
def review(
    entry_id: int = typer.Argument(..., help="Entry id (from `entries`)."),
    action: str = typer.Argument(..., help="confirm, deconfirm, disable or enable."),
    reason: str = typer.Option("", help="Why (required to disable)."),
) -> None:
    """Confirm, de-confirm, disable (with a reason) or enable one of a peer's entries.

    Confirming releases a quarantined entry (and stops flood counting for it); de-confirming
    disables it here. The peer's banks follow at once.

    \b
    Examples:
      safestream exchange review 4711 confirm
      safestream exchange review 4712 disable --reason "benign: stock photo"
    """
    from safestream.exchange.bank_sync import sync_peer_banks
    from safestream.store.exchange.peers import PeerRegistry
    from safestream.store.exchange.signal_entries import SignalEntries

    db = context.open_database()
    signals = SignalEntries(db)
    if action in ("confirm", "deconfirm"):
        signals.give_feedback(entry_id, action, actor="cli", reason=reason)
    else:
        signals.set_state(entry_id, "disabled" if action == "disable" else "active",
                          actor="cli", reason=reason)  # fmt: skip
    publisher = signals.publisher_of(entry_id)
    peer = PeerRegistry(db).by_key(publisher) if publisher is not None else None
    if peer is not None:
        sync_peer_banks(db, peer.name, peer.key_id)
    emit({"id": entry_id, "action": action})


def register(app: typer.Typer) -> None:
    """Add the `exchange` commands."""
    app.add_typer(exchange_app, name="exchange")

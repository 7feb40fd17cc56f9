"""`safestream exchange`: every command answers with JSON lines on stdout."""

from __future__ import annotations

import json
from pathlib import Path

from safestream.core.config import Settings
from safestream.core.exchange_peers import public_key_from_text
from safestream.core.shared_signals import SharedSignal, SignalKind
from safestream.exchange.bundle import read_bundle
from safestream.exchange.identity import Identity
from safestream.store.database import Database
from safestream.store.exchange.shared_signals import SignalStore
from tests.cli.json_lines import run_cli

PDQ = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"
ORG = "Example Platform"


def test_identity_gives_the_key_id_and_public_key(home: Path) -> None:
    code, lines, _ = run_cli("exchange", "identity")
    assert code == 0
    [me] = lines
    assert me["key_id"] and me["public_key"]


def test_an_organisations_collection_is_published_and_exported_as_a_signed_bundle(
    home: Path, tmp_path: Path
) -> None:
    assert run_cli("org", "create", ORG)[0] == 0
    code, lines, _ = run_cli("exchange", "collection-create", "finds", "--org", ORG)
    assert (code, lines) == (0, [{"collection": "finds", "owner": ORG}])
    signals = tmp_path / "signals.txt"
    signals.write_text(f"pdq {PDQ}\nurl https://example.org/a\n", encoding="utf-8")
    code, lines, _ = run_cli("exchange", "publish", "finds", str(signals), "--org", ORG)
    assert (code, lines) == (0, [{"collection": "finds", "published": 2}])
    out = tmp_path / "finds.bundle"
    code, lines, _ = run_cli("exchange", "export", "finds", "--out", str(out))
    assert code == 0
    assert lines == [{"collection": "finds", "file": str(out), "entries": 2, "not_carried": {}}]
    [me] = run_cli("exchange", "identity")[1]
    publishers = {str(me["key_id"]): public_key_from_text(str(me["public_key"]))}
    bundle = read_bundle(out.read_bytes(), publishers)
    assert {(s.kind.value, s.value) for s in bundle.signals} == {
        ("pdq", PDQ),
        ("url", "https://example.org/a"),
    }


def test_a_collection_of_another_organisation_is_refused_with_a_message(
    home: Path, tmp_path: Path
) -> None:
    assert run_cli("org", "create", ORG)[0] == 0
    assert run_cli("org", "create", "Other Platform")[0] == 0
    assert run_cli("exchange", "collection-create", "finds", "--org", ORG)[0] == 0
    signals = tmp_path / "signals.txt"
    signals.write_text(f"pdq {PDQ}\n", encoding="utf-8")
    code, lines, stderr = run_cli(
        "exchange", "publish", "finds", str(signals), "--org", "Other Platform"
    )
    assert code != 0 and lines == []
    assert "error" in stderr


def test_a_peers_entries_are_listed_reviewed_and_their_feedback_exported(
    settings: Settings, tmp_path: Path
) -> None:
    peer = Identity.generate()
    code, [added], _ = run_cli("exchange", "peer-add", "hotline", "http://h.test", peer.public_text)
    assert code == 0 and added["key_id"] == peer.key_id
    received = [
        SharedSignal(SignalKind.PDQ, PDQ, seq=1, collection="known"),
        SharedSignal(SignalKind.KEYWORD, "word", seq=2, collection="known", deleted=True),
    ]
    SignalStore(Database.from_settings(settings)).apply(peer.key_id, received, 2)
    code, listed, _ = run_cli("exchange", "entries", "hotline")
    assert code == 0
    assert [(e["kind"], e["state"], e["withdrawn"], e["reason"]) for e in listed] == [
        ("pdq", "active", False, None),
        ("keyword", "active", True, None),
    ]
    pdq_id = int(str(listed[0]["id"]))
    code, lines, _ = run_cli("exchange", "review", str(pdq_id), "disable", "--reason", "too broad")
    assert (code, lines) == (0, [{"id": pdq_id, "action": "disable"}])
    code, disabled, _ = run_cli("exchange", "entries", "hotline", "--state", "disabled")
    assert [(e["id"], e["reason"]) for e in disabled] == [(pdq_id, "too broad")]
    assert run_cli("exchange", "review", str(pdq_id), "confirm")[0] == 0
    out = tmp_path / "feedback.jsonl"
    code, lines, _ = run_cli("exchange", "feedback", "hotline", "--out", str(out))
    assert (code, lines[0]["feedback_lines"]) == (0, 1)
    [sent] = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert (sent["kind"], sent["verdict"], sent["entry_state"]) == ("pdq", "confirm", "disabled")

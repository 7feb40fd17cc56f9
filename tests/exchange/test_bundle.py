"""Signed bundles: verified before anything is read, and every field survives the trip."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from safestream.core.errors import ExchangeError, InvalidInput
from safestream.core.shared_signals import SharedSignal, SignalKind, canonical_value
from safestream.exchange.bundle import read_bundle, write_bundle
from safestream.exchange.identity import Identity

ALICE = Identity.generate()
SIGNALS = [
    SharedSignal(SignalKind.PDQ, "f" * 64, "pubescent_exhibition", ("a", "b"), "analyst 4",
                 datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC), False, 5,
                 "list-1"),
    SharedSignal(SignalKind.URL, "http://x.example/", deleted=True, seq=6, collection="list-1"),
    SharedSignal(SignalKind.KEYWORD, "ünïcode wörd", negative=True, seq=7, collection="benign"),
]  # fmt: skip


def test_every_field_round_trips() -> None:
    data = write_bundle(ALICE, SIGNALS, after=4, checkpoint=7)
    bundle = read_bundle(data, {ALICE.key_id: ALICE.private_key.public_key()})
    assert bundle.signals == SIGNALS
    assert (bundle.header.after, bundle.header.checkpoint, bundle.header.count) == (4, 7, 3)


def test_one_changed_byte_is_refused() -> None:
    data = bytearray(write_bundle(ALICE, SIGNALS, after=4, checkpoint=7))
    data[-5] ^= 1
    with pytest.raises(ExchangeError, match="does not match its signed hash"):
        read_bundle(bytes(data), {ALICE.key_id: ALICE.private_key.public_key()})


def test_a_bundle_signed_by_another_key_is_refused() -> None:
    mallory = Identity.generate()
    data = write_bundle(mallory, SIGNALS, after=4, checkpoint=7)
    forged = data.replace(mallory.key_id.encode(), ALICE.key_id.encode(), 1)
    with pytest.raises(ExchangeError, match="signature does not verify"):
        read_bundle(forged, {ALICE.key_id: ALICE.private_key.public_key()})


def test_an_entry_outside_the_signed_range_is_refused() -> None:
    data = write_bundle(ALICE, SIGNALS, after=5, checkpoint=7)
    with pytest.raises(ExchangeError, match="outside"):
        read_bundle(data, {ALICE.key_id: ALICE.private_key.public_key()})


@pytest.mark.parametrize(
    ("kind", "given", "canonical"),
    [
        ("pdq", "F" * 64, "f" * 64),
        ("account", " DemoCall : u-1 ", "democall:u-1"),
        ("url", "Example.COM/a?b=1#frag", "http://example.com/a?b=1"),
        ("keyword", "ＣＡＭ", "cam"),
    ],
)
def test_values_are_kept_in_one_canonical_form(kind: str, given: str, canonical: str) -> None:
    assert canonical_value(kind, given) == canonical


def test_a_value_with_control_characters_is_refused() -> None:
    with pytest.raises(InvalidInput):
        canonical_value("keyword", "bad\x00word")

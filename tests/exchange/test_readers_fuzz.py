"""Whatever arrives from another installation, readers answer with entries or an ExchangeError."""

from __future__ import annotations

import contextlib
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from safestream.core.errors import ExchangeError
from safestream.core.shared_signals import SharedSignal, SignalKind
from safestream.exchange.bundle import read_bundle, write_bundle
from safestream.exchange.identity import Identity
from safestream.exchange.ncmec_entries import read_ncmec_entries
from safestream.exchange.vics import read_vics

ME = Identity.generate()
KEYS = {ME.key_id: ME.private_key.public_key()}
GOOD = write_bundle(ME, [SharedSignal(SignalKind.MD5, "a" * 32, seq=1, collection="c")],
                    after=0, checkpoint=1)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=2000))
def test_garbage_bytes_are_refused_cleanly_by_every_reader(data: bytes) -> None:
    for read in (lambda d: read_bundle(d, KEYS), read_ncmec_entries, read_vics):
        with contextlib.suppress(ExchangeError):
            read(data)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=70),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
FIELDS = st.sampled_from(["MD5", "SafeStreamPDQ", "SafeStreamSHA256", "Category", "Tags",
                          "Comments", "DateUpdated", "Media"])  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(records=st.lists(st.dictionaries(FIELDS, JSON, max_size=6), max_size=5))
def test_vics_records_of_any_shape_are_read_or_refused_cleanly(records: list[object]) -> None:
    with contextlib.suppress(ExchangeError):
        read_vics(json.dumps({"value": records}).encode())


@settings(max_examples=300, deadline=None)
@given(position=st.integers(0, len(GOOD) - 1), byte=st.integers(0, 255))
def test_any_changed_byte_of_a_signed_bundle_is_refused(position: int, byte: int) -> None:
    changed = bytearray(GOOD)
    if changed[position] == byte:
        return
    changed[position] = byte
    try:
        bundle = read_bundle(bytes(changed), KEYS)
    except ExchangeError:
        return
    # Only bytes outside header and body can change without notice: the trailing newline.
    assert bundle.signals == read_bundle(GOOD, KEYS).signals

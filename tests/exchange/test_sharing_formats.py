"""NCMEC hash-sharing XML entries and Project VIC VICS JSON: written, and read by the peers."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

from threatexchange.exchanges.clients.ncmec.hash_api import GetEntriesResponse, _XMLWrapper

from safestream.core.shared_signals import SharedSignal, SignalKind
from safestream.exchange.ncmec_entries import read_ncmec_entries, write_ncmec_entries
from safestream.exchange.vics import read_vics, write_vics

AT = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
SIGNALS = [
    SharedSignal(SignalKind.PDQ, "f" * 64, "prepubescent_exhibition", added_at=AT, collection="c"),
    SharedSignal(SignalKind.MD5, "a" * 32, "b1", added_at=AT, collection="c"),
    SharedSignal(SignalKind.MD5, "b" * 32, deleted=True, added_at=AT, collection="c"),
    SharedSignal(SignalKind.URL, "http://x.example/", collection="c"),
]


def _pytx_parse(document: bytes) -> GetEntriesResponse:
    # As pytx's NCMECHashAPI._get does: parse, then drop the namespace from every tag.
    parsed = ET.iterparse(io.BytesIO(document))
    for _, el in parsed:
        el.tag = el.tag.rpartition("}")[2]
    return GetEntriesResponse.from_xml(_XMLWrapper(parsed.root), 0)  # type: ignore[attr-defined]


def test_ncmec_entries_are_read_by_python_threatexchanges_parser() -> None:
    document, skipped = write_ncmec_entries(SIGNALS, member_id=42, member_name="PH Hotline")
    assert skipped == {"url": 1}
    response = _pytx_parse(document)
    by_print = {next(iter(u.fingerprints.items())): u for u in response.updates}
    pdq = by_print[("pdq", "f" * 64)]
    assert (pdq.member_id, pdq.classification, pdq.deleted) == (42, "A2", False)
    assert by_print[("md5", "a" * 32)].classification == "B1"
    assert by_print[("md5", "b" * 32)].deleted
    assert response.max_timestamp == int(AT.timestamp())


def test_ncmec_entries_round_trip_hashes_grades_and_withdrawals() -> None:
    document, _ = write_ncmec_entries(SIGNALS, member_id=42, member_name="PH Hotline")
    back = read_ncmec_entries(document, collection="c").signals
    assert [(s.kind, s.value, s.deleted) for s in back] == [
        (s.kind, s.value, s.deleted) for s in SIGNALS if s.kind is not SignalKind.URL
    ]
    assert [s.label for s in back[:2]] == ["prepubescent_exhibition", "pubescent_sexual_activity"]
    assert back[0].source == "NCMEC member 42 PH Hotline" and back[0].added_at == AT


def test_vics_records_round_trip_with_the_exact_label_and_derived_category() -> None:
    document, skipped = write_vics(SIGNALS)
    assert skipped == {"withdrawn": 1, "url": 1}
    back = read_vics(document, collection="c").signals
    assert [(s.kind, s.value, s.label) for s in back] == [
        (SignalKind.PDQ, "f" * 64, "prepubescent_exhibition"),
        (SignalKind.MD5, "a" * 32, "pubescent_sexual_activity"),
    ]


def test_a_vics_case_from_another_tool_is_read_by_its_category() -> None:
    case = (
        b'{"odata.metadata":"http://github.com/ICMEC/ProjectVic/DataModels/1.3.xml#Cases",'
        b'"value":[{"CaseID":"1","Media":[{"MediaID":7,"Category":2,"MD5":"'
        + b"C" * 32
        + b'","Tags":"series-x"},{"MediaID":8,"Category":1,"SHA1":"abc"}]}]}'
    )
    read = read_vics(case)
    (signal,) = read.signals
    assert (signal.value, signal.label, signal.tags) == ("c" * 32, "exploitative", ("series-x",))
    assert read.skipped == {"no_supported_hash": 1}

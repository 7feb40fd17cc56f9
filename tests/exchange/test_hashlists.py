"""Hash-list files round-trip and bad rows are reported, not dropped silently."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from safestream.core.banks import Bank, BankEntry, Classification
from safestream.core.errors import InvalidInput
from safestream.exchange.hashlists import detect_format, dumps, read_hash_list

CAT = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"
ROCKET = "0" * 32 + "f" * 32
MD5 = "d41d8cd98f00b204e9800998ecf8427e"
BANK = Bank(id=1, name="known", source="hotline")
ENTRIES = [
    BankEntry(1, "known", "pdq", CAT, Classification.A1, source="ncmec", quality=100),
    BankEntry(2, "known", "md5", MD5, Classification.UNCLASSIFIED),
    BankEntry(3, "known", "pdq", ROCKET, Classification.B2, content_id="ab" * 32, t=3.0),
]


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_export_then_import_keeps_hashes_and_labels(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / ("list.json" if fmt == "json" else "list.csv")
    path.write_text(dumps(BANK, ENTRIES, fmt))  # type: ignore[arg-type]
    parsed = read_hash_list(path)
    assert parsed.errors == []
    got = [(e.signal_type, e.value, e.label) for e in parsed.entries]
    assert got == [("pdq", CAT, "A1"), ("md5", MD5, "unclassified"), ("pdq", ROCKET, "B2")]


def test_safestream_csv_keeps_video_grouping(tmp_path: Path) -> None:
    path = tmp_path / "list.csv"
    path.write_text(dumps(BANK, ENTRIES, "csv"))
    last = read_hash_list(path).entries[-1]
    assert (last.content_id, last.t) == ("ab" * 32, 3.0)


def test_hma_hash_tags_csv_is_detected() -> None:
    assert detect_format(Path(__file__).parent / "data" / "hma.csv") == "hma"


def test_headerless_hash_tags_rows_are_read(tmp_path: Path) -> None:
    path = tmp_path / "list.csv"
    path.write_text(f"{CAT},A1 source:iwf\n{ROCKET},\n")
    entries = read_hash_list(path).entries
    assert [(e.value, e.label, e.source) for e in entries] == [
        (CAT, "A1", "iwf"),
        (ROCKET, "unclassified", ""),
    ]


def test_pytx_local_file_lines_are_read(tmp_path: Path) -> None:
    path = tmp_path / "signals.txt"
    path.write_text(f"pdq {CAT}\n# comment\n{ROCKET}\nmd5 {MD5}\n")
    parsed = read_hash_list(path)
    assert [e.signal_type for e in parsed.entries] == ["pdq", "pdq", "md5"]


def test_bad_rows_are_reported_by_number_and_good_rows_kept(tmp_path: Path) -> None:
    path = tmp_path / "list.csv"
    path.write_text(f"hash,tags\n{CAT},A1\nnot-a-hash,A1\n{ROCKET},XX\n")
    parsed = read_hash_list(path)
    assert [e.value for e in parsed.entries] == [CAT, ROCKET]
    assert [err.row for err in parsed.errors] == [3]
    assert "not a pdq hash" in parsed.errors[0].message


def test_json_of_another_format_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "list.json"
    path.write_text(json.dumps({"format": "something.else", "entries": []}))
    with pytest.raises(InvalidInput, match=r"something\.else"):
        read_hash_list(path)


def test_binary_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "list.csv"
    path.write_bytes(b"hash,tags\n\xff\xfe\x00\x01")
    with pytest.raises(InvalidInput, match="UTF-8"):
        read_hash_list(path, "hma")

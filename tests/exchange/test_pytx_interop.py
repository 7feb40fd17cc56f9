"""Lists round-trip with the real python-threatexchange package, in both directions."""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import io
from collections.abc import Sequence
from pathlib import Path

import pytest
from threatexchange.cli.dataset_cmd import DatasetCommand
from threatexchange.exchanges.fetch_state import (
    FetchedSignalMetadata,
    SignalOpinion,
    SignalOpinionCategory,
)
from threatexchange.exchanges.impl.file_api import (
    FileCollaborationConfig,
    LocalFileSignalExchangeAPI,
)
from threatexchange.extensions.vpdq.vpdq_util import VpdqCompactFeature, vpdq_to_json
from threatexchange.signal_type.md5 import VideoMD5Signal
from threatexchange.signal_type.pdq.signal import PdqSignal

from safestream.core.banks import Bank, BankEntry, Classification
from safestream.exchange.hashlists import detect_format, dumps, read_hash_list

CAT = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"
ROCKET = "0" * 32 + "f" * 32
MD5 = "d41d8cd98f00b204e9800998ecf8427e"
BANK = Bank(id=1, name="KNOWN", source="hotline")
ENTRIES = [
    BankEntry(1, "KNOWN", "pdq", CAT, Classification.A1, source="ncmec"),
    BankEntry(2, "KNOWN", "md5", MD5, Classification.UNCLASSIFIED),
    BankEntry(3, "KNOWN", "pdq", ROCKET, Classification.B2),
]


def pytx_reads(path: Path) -> set[tuple[str, str]]:
    """The (signal type, value) pairs pytx's local_file collaboration fetches from a file."""
    config = FileCollaborationConfig(filename=str(path), name="c", api="local_file", enabled=True)
    api = LocalFileSignalExchangeAPI.for_collab(config)
    found: set[tuple[str, str]] = set()
    for delta in api.fetch_iter([PdqSignal, VideoMD5Signal], None):
        found.update(delta.updates)
    return found


def test_pytx_local_file_reads_every_signal_of_a_safestream_export(tmp_path: Path) -> None:
    path = tmp_path / "bank.txt"
    path.write_text(dumps(BANK, ENTRIES, "pytx"))
    assert pytx_reads(path) == {("pdq", CAT), ("video_md5", MD5), ("pdq", ROCKET)}
    for kind, value in pytx_reads(path):
        signal_type = PdqSignal if kind == "pdq" else VideoMD5Signal
        assert signal_type.validate_signal_str(value) == value


def test_a_list_pytx_printed_imports_into_safestream(tmp_path: Path) -> None:
    # `threatexchange dataset -P -s` prints `TYPE VALUE` lines; its local_file report_opinion
    # would append the same layout but opens the file with mode "wta", which Python refuses.
    command = DatasetCommand(print_signals=True, print_signals_only=True)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        command._print_stdout("c", PdqSignal, CAT, None)  # type: ignore[arg-type]
        command._print_stdout("c", VideoMD5Signal, MD5, None)  # type: ignore[arg-type]
    path = tmp_path / "from_pytx.txt"
    path.write_text(out.getvalue())
    parsed = read_hash_list(path)
    assert parsed.errors == []
    assert [(e.signal_type, e.value) for e in parsed.entries] == [("pdq", CAT), ("md5", MD5)]


@dataclasses.dataclass
class _Opinions(FetchedSignalMetadata):
    category: SignalOpinionCategory = SignalOpinionCategory.POSITIVE_CLASS
    tags: tuple[str, ...] = ()

    def get_as_opinions(self) -> Sequence[SignalOpinion]:
        return [SignalOpinion(False, self.category, set(self.tags))]


def pytx_dataset_csv(rows: list[tuple[str, _Opinions]]) -> str:
    """pytx's own `dataset --csv` writer run over PDQ signals."""
    out = io.StringIO()
    writer = csv.DictWriter(out, ["signal_type", "signal_str", "collab", "category", "tags"])
    writer.writeheader()
    command = DatasetCommand(print_signals=True, csv=True)
    for value, metadata in rows:
        command._print_csv(writer, "NCMEC", PdqSignal, value, metadata)  # type: ignore[arg-type]
    return out.getvalue()


def test_pytx_negative_class_opinion_never_becomes_a_positive_entry(tmp_path: Path) -> None:
    path = tmp_path / "dataset.csv"
    path.write_text(
        pytx_dataset_csv(
            [
                (CAT, _Opinions(SignalOpinionCategory.POSITIVE_CLASS, ("A1",))),
                (ROCKET, _Opinions(SignalOpinionCategory.NEGATIVE_CLASS)),
            ]
        )
    )
    assert detect_format(path) == "pytx-csv"
    parsed = read_hash_list(path)
    assert [(e.value, e.label) for e in parsed.entries] == [(CAT, "A1")]
    assert [e.value for e in parsed.negatives] == [ROCKET]
    assert "NEGATIVE_CLASS" in parsed.negatives[0].note


def test_safestream_pytx_csv_export_is_read_by_pytx_csv_reader(tmp_path: Path) -> None:
    rows = list(csv.DictReader(io.StringIO(dumps(BANK, ENTRIES, "pytx-csv"))))
    assert {(r["signal_type"], r["signal_str"], r["category"]) for r in rows} == {
        ("pdq", CAT, "POSITIVE_CLASS"),
        ("video_md5", MD5, "POSITIVE_CLASS"),
        ("pdq", ROCKET, "POSITIVE_CLASS"),
    }


def test_hma1_export_is_headerless_five_columns_with_space_separated_tags() -> None:
    rows = list(csv.reader(io.StringIO(dumps(BANK, ENTRIES, "hma"))))
    assert [len(r) for r in rows] == [5, 5]  # PDQ only: HMA 1.0 read PDQ lists
    assert rows[0][0] == CAT and rows[0][1] == "1" and rows[0][4] == "A1 source:ncmec"


def test_hma1_file_imports_with_its_tags(tmp_path: Path) -> None:
    path = tmp_path / "hma1.csv"
    path.write_text(
        f"{CAT},1234,5678,2020-07-31T18:47:45+00:00,A1 media_type_photo reviewed\n"
        f"{ROCKET},99,100,1596221265,\n"
    )
    assert detect_format(path) == "hma"
    parsed = read_hash_list(path)
    first, second = parsed.entries
    assert first.label == "A1" and "media_type_photo reviewed" in first.note
    assert "indicator:1234" in first.note and first.added_at is not None
    assert second.value == ROCKET and second.added_at is not None


def test_md5_list_imports(tmp_path: Path) -> None:
    path = tmp_path / "md5s.txt"
    path.write_text(f"{MD5}\n{'a' * 32}\n")
    parsed = read_hash_list(path)
    assert [(e.signal_type, e.value) for e in parsed.entries] == [("md5", MD5), ("md5", "a" * 32)]


def test_vpdq_feature_file_imports_distinct_good_frames(tmp_path: Path) -> None:
    path = tmp_path / "clip.txt"
    path.write_text(
        f"0,100,{CAT},0.000\n1,100,{CAT},0.033\n2,12,{ROCKET},0.067\n3,90,{ROCKET[::-1]},0.100\n"
    )
    assert detect_format(path) == "vpdq"
    parsed = read_hash_list(path)
    assert [(e.value, e.t) for e in parsed.entries] == [(CAT, 0.0), (ROCKET[::-1], 0.1)]
    assert len({e.content_id for e in parsed.entries}) == 1


def test_pytx_vpdq_signal_line_imports(tmp_path: Path) -> None:
    features = [VpdqCompactFeature(CAT, 100, 0.0), VpdqCompactFeature(ROCKET[::-1], 80, 1.0)]
    path = tmp_path / "signals.txt"
    path.write_text(f"vpdq {vpdq_to_json(features)}\n")
    parsed = read_hash_list(path)
    assert [e.value for e in parsed.entries] == [CAT, ROCKET[::-1]]


@pytest.mark.parametrize("fmt", ["csv", "json", "pytx-csv"])
def test_labelled_formats_round_trip_labels(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / ("list.json" if fmt == "json" else "list.csv")
    path.write_text(dumps(BANK, ENTRIES, fmt))  # type: ignore[arg-type]
    got = [(e.signal_type, e.value, e.label) for e in read_hash_list(path).entries]
    assert got == [("pdq", CAT, "A1"), ("md5", MD5, "unclassified"), ("pdq", ROCKET, "B2")]

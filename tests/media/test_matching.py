"""Matching rules: thresholds, variants, negative banks, quality, persistence, video overlap."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageOps

from safestream.core.errors import BankNotFound
from safestream.media.bank_index import BankIndex
from safestream.media.file_hashes import entries_from_media
from safestream.media.hashing import hash_image
from safestream.media.matching import Matcher
from safestream.media.synthetic import write_clip
from safestream.store import Database
from safestream.store.banks import BankRepository, NewEntry
from tests.media.hash_samples import photo

CAT = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"


def flipped(hex_hash: str, bits: int) -> str:
    """The hash with its first `bits` bits inverted: exactly `bits` away."""
    value = int(hex_hash, 16) ^ (((1 << bits) - 1) << (256 - bits))
    return f"{value:064x}"


def jpeg(pixels: np.ndarray | Image.Image, quality: int = 90) -> bytes:
    img = pixels if isinstance(pixels, Image.Image) else Image.fromarray(pixels)
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def matcher_for(banks: BankRepository, tmp_path: Path, **kwargs: object) -> Matcher:
    index = BankIndex.open(banks, tmp_path / "index")
    return Matcher(banks, index, **kwargs)  # type: ignore[arg-type]


def test_hash_within_31_bits_matches_and_32_does_not(banks: BankRepository, tmp_path: Path) -> None:
    banks.create("known")
    banks.add_entries("known", [NewEntry("pdq", CAT, label="A1")])
    matcher = matcher_for(banks, tmp_path)
    (match,) = matcher.match_hash(flipped(CAT, 31))
    assert (match.bank, match.distance, match.label.value) == ("known", 31, "A1")
    assert matcher.match_hash(flipped(CAT, 32)) == []


def test_bank_threshold_applies_per_bank(banks: BankRepository, tmp_path: Path) -> None:
    banks.create("strict", threshold=10)
    banks.create("loose", threshold=40)
    banks.add_entries("strict", [NewEntry("pdq", CAT)])
    banks.add_entries("loose", [NewEntry("pdq", CAT)])
    found = matcher_for(banks, tmp_path).match_hash(flipped(CAT, 36))
    assert [m.bank for m in found] == ["loose"]


def test_threshold_override_replaces_bank_thresholds(banks: BankRepository, tmp_path: Path) -> None:
    banks.create("known")
    banks.add_entries("known", [NewEntry("pdq", CAT)])
    assert matcher_for(banks, tmp_path, threshold=8).match_hash(flipped(CAT, 10)) == []


def test_negative_bank_silences_a_frame(banks: BankRepository, tmp_path: Path) -> None:
    banks.create("known")
    banks.create("testcards", negative=True)
    banks.add_entries("known", [NewEntry("pdq", CAT)])
    banks.add_entries("testcards", [NewEntry("pdq", flipped(CAT, 4), label="benign")])
    matcher = matcher_for(banks, tmp_path, bank_names=["known"])
    assert matcher.match_hash(CAT) == []


def test_low_quality_hash_never_matches(banks: BankRepository, tmp_path: Path) -> None:
    banks.create("known")
    banks.add_entries("known", [NewEntry("pdq", CAT)])
    assert matcher_for(banks, tmp_path).match_hash(CAT, quality=49) == []


def test_bank_filter_limits_the_banks_searched(banks: BankRepository, tmp_path: Path) -> None:
    banks.create("a")
    banks.create("b")
    banks.add_entries("a", [NewEntry("pdq", CAT)])
    banks.add_entries("b", [NewEntry("pdq", CAT)])
    assert [m.bank for m in matcher_for(banks, tmp_path, bank_names=["b"]).match_hash(CAT)] == ["b"]


def test_unknown_bank_filter_is_an_error(banks: BankRepository, tmp_path: Path) -> None:
    with pytest.raises(BankNotFound):
        matcher_for(banks, tmp_path, bank_names=["missing"])


def test_mirrored_photo_matches_through_a_dihedral_variant(
    banks: BankRepository, tmp_path: Path
) -> None:
    banks.create("known")
    original = hash_image(jpeg(photo("chelsea")), mode="exact")
    banks.add_entries("known", [NewEntry("pdq", original.pdq)])
    mirrored = jpeg(ImageOps.mirror(Image.fromarray(photo("chelsea"))), 70)
    _, matches = matcher_for(banks, tmp_path).match_image(mirrored)
    assert len(matches) == 1
    assert matches[0].variant != "original"
    assert matches[0].distance <= 31


def test_pillarboxed_photo_matches_through_the_trimmed_variant(
    banks: BankRepository, tmp_path: Path
) -> None:
    banks.create("known")
    rocket = Image.fromarray(photo("rocket"))
    banks.add_entries("known", [NewEntry("pdq", hash_image(jpeg(rocket), mode="exact").pdq)])
    framed = Image.new("RGB", (rocket.width * 2, rocket.height))
    framed.paste(rocket, (rocket.width // 2, 0))
    _, matches = matcher_for(banks, tmp_path).match_image(jpeg(framed))
    assert [m.variant for m in matches] == ["trimmed"]


def test_unrelated_photo_does_not_match(banks: BankRepository, tmp_path: Path) -> None:
    banks.create("known")
    banks.add_entries("known", [NewEntry("pdq", hash_image(jpeg(photo("chelsea"))).pdq)])
    assert matcher_for(banks, tmp_path).match_image(jpeg(photo("coffee")))[1] == []


def test_identical_file_matches_by_md5_too(banks: BankRepository, tmp_path: Path) -> None:
    banks.create("known")
    data = jpeg(photo("coffee"))
    h = hash_image(data)
    banks.add_entries("known", [NewEntry("md5", h.md5), NewEntry("pdq", h.pdq)])
    _, matches = matcher_for(banks, tmp_path).match_image(data)
    assert [m.variant for m in matches] == ["exact_md5", "original"]


def test_reopened_index_sees_changes_made_while_closed(
    banks: BankRepository, tmp_path: Path
) -> None:
    banks.create("known")
    (cat_id,) = banks.add_entries("known", [NewEntry("pdq", CAT)])
    first = BankIndex.open(banks, tmp_path / "index")
    assert len(first.index) == 1
    banks.remove_entry("known", cat_id)
    other = flipped(CAT, 128)
    banks.add_entries("known", [NewEntry("pdq", other)])
    reopened = BankIndex.open(banks, tmp_path / "index")
    assert reopened.applied_seq == banks.last_change()
    matcher = Matcher(banks, reopened)
    assert matcher.match_hash(CAT) == []
    assert [m.entry_hash for m in matcher.match_hash(other)] == [other]


def test_index_files_of_another_store_are_rebuilt(banks: BankRepository, tmp_path: Path) -> None:
    banks.create("known")
    banks.add_entries("known", [NewEntry("pdq", CAT)])
    BankIndex.open(banks, tmp_path / "index")
    db2 = Database(f"sqlite:///{tmp_path / 'other.db'}")
    db2.migrate()
    assert len(BankIndex.open(BankRepository(db2), tmp_path / "index").index) == 0


def test_video_matches_carry_times_and_overlap_percentages(
    banks: BankRepository, tmp_path: Path
) -> None:
    known = write_clip(
        tmp_path / "known.mp4",
        [photo("rocket"), photo("astronaut")],
        seconds=4.0,
        fps=25,
        width=640,
        height=360,
    )
    banks.create("videos")
    media = entries_from_media(known, label="A2", source="test", note="")
    banks.add_entries("videos", media.entries)
    result = matcher_for(banks, tmp_path).match_video(known)
    assert result.matches and all(m.t is not None for m in result.matches)
    (overlap,) = result.overlaps
    assert overlap.compared_match_percent == 100.0
    assert overlap.query_match_percent == 100.0

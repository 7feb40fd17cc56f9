"""Saving and loading: versioned binary files, incremental appends, and corrupt-file handling."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from safestream.core.errors import StoreError
from safestream.media.index import PdqIndex, storage
from safestream.media.index.main_segment import MainSegment
from tests.media.index.brute_force import flip_bits, radius_search, random_codes

ROWS = 20_000


@pytest.fixture
def built() -> tuple[PdqIndex, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(11)
    codes = random_codes(rng, ROWS)
    ids = np.arange(ROWS, dtype=np.int64) * 2
    index = PdqIndex()
    index.add(ids, codes)
    return index, ids, codes


def _files(directory: Path, suffix: str) -> list[Path]:
    return sorted(p for p in directory.iterdir() if p.suffix == suffix)


def _same_results(a: PdqIndex, b: PdqIndex, queries: np.ndarray, radius: int = 31) -> bool:
    for (ai, ad), (bi, bd) in zip(
        a.query_many(queries, radius), b.query_many(queries, radius), strict=True
    ):
        if not (np.array_equal(ai, bi) and np.array_equal(ad, bd)):
            return False
    return True


def test_loaded_index_answers_like_the_saved_one(
    built: tuple[PdqIndex, np.ndarray, np.ndarray], tmp_path: Path
) -> None:
    index, ids, codes = built
    index.save(tmp_path)
    loaded = PdqIndex.load(tmp_path)
    assert len(loaded) == ROWS
    rng = np.random.default_rng(1)
    queries = np.stack([flip_bits(codes[i], 20, rng) for i in range(0, ROWS, 997)])
    assert _same_results(index, loaded, queries)
    got, _ = loaded.query(queries[0], 31)
    assert np.array_equal(got, radius_search(ids, codes, queries[0], 31)[0])


def test_base_file_starts_with_magic_and_format_version(
    built: tuple[PdqIndex, np.ndarray, np.ndarray], tmp_path: Path
) -> None:
    built[0].save(tmp_path)
    header = _files(tmp_path, ".pdqi")[0].read_bytes()[:12]
    assert header[:8] == b"SSPDQIDX"
    assert int.from_bytes(header[8:12], "little") == storage.FORMAT_VERSION
    assert _files(tmp_path, ".pdql")[0].read_bytes()[:8] == b"SSPDQLOG"


def test_bucket_starts_take_the_row_numbers_width_and_format_1_files_still_load(
    tmp_path: Path,
) -> None:
    rng = np.random.default_rng(5)
    codes = random_codes(rng, ROWS)
    ids = np.arange(ROWS, dtype=np.int64)
    segment = MainSegment.build(ids, codes)
    assert segment.start_bytes == segment.row_bytes == 3
    # A format 1 file: the same segment with 4-byte bucket starts.
    buckets = (1 << segment.layout.bits) + 1
    wide = np.zeros((segment.layout.tables, buckets, 4), dtype=np.uint8)
    wide[:, :, :3] = segment.starts.reshape(segment.layout.tables, buckets, 3)
    old = MainSegment(segment.generation, segment.ids, codes, segment.layout,
                      wide.reshape(segment.layout.tables, -1), segment.rows)  # fmt: skip
    name = storage.write_base(tmp_path, old)
    assert int.from_bytes((tmp_path / name).read_bytes()[8:12], "little") == 1
    loaded = storage.read_base(tmp_path / name)
    assert loaded.start_bytes == 4
    for i in range(0, ROWS, 1999):
        query = flip_bits(codes[i], 25, rng)
        words = query.view(np.uint64)
        expected, _ = radius_search(ids, codes, query, 31)
        for seg in (segment, loaded):
            rows, _ = seg.search(words, 31)
            assert np.array_equal(np.sort(seg.ids_at(rows)), expected)


def test_saving_a_few_changes_appends_records_and_leaves_the_base_untouched(
    built: tuple[PdqIndex, np.ndarray, np.ndarray], tmp_path: Path
) -> None:
    index, _, _ = built
    index.save(tmp_path)
    base = _files(tmp_path, ".pdqi")[0]
    base_stat = base.stat()
    log = _files(tmp_path, ".pdql")[0]
    log_size = log.stat().st_size
    rng = np.random.default_rng(2)
    index.add(np.arange(1, 201, 2), random_codes(rng, 100))
    index.remove(np.array([0, 2]))
    index.save(tmp_path)
    assert _files(tmp_path, ".pdqi") == [base]
    assert base.stat().st_mtime_ns == base_stat.st_mtime_ns
    assert log.stat().st_size == log_size + 102 * storage.RECORD.itemsize


def test_load_replays_the_change_log(
    built: tuple[PdqIndex, np.ndarray, np.ndarray], tmp_path: Path
) -> None:
    index, _, codes = built
    index.save(tmp_path)
    rng = np.random.default_rng(3)
    new = random_codes(rng, 50)
    index.add(np.arange(1, 101, 2), new)
    index.remove(np.array([0]))
    index.add(np.array([4]), new[:1])  # re-add of a built row with another code
    index.save(tmp_path)
    loaded = PdqIndex.load(tmp_path)
    assert len(loaded) == len(index) == ROWS + 50 - 1
    assert loaded.query(codes[0], 0)[0].tolist() == []
    assert loaded.query(new[0], 0)[0].tolist() == [1, 4]
    assert _same_results(index, loaded, np.concatenate([codes[:30], new[:10]]))


def test_loaded_index_keeps_appending_to_the_same_log(
    built: tuple[PdqIndex, np.ndarray, np.ndarray], tmp_path: Path
) -> None:
    index, _, _ = built
    index.save(tmp_path)
    files = _files(tmp_path, ".pdqi") + _files(tmp_path, ".pdql")
    loaded = PdqIndex.load(tmp_path)
    code = random_codes(np.random.default_rng(4), 1)
    loaded.add(np.array([1]), code)
    loaded.save(tmp_path)
    assert _files(tmp_path, ".pdqi") + _files(tmp_path, ".pdql") == files
    assert PdqIndex.load(tmp_path).query(code[0], 0)[0].tolist() == [1]


def test_save_after_a_rebuild_replaces_the_base_and_deletes_the_old_one(
    built: tuple[PdqIndex, np.ndarray, np.ndarray], tmp_path: Path
) -> None:
    index, _, _ = built
    index.save(tmp_path)
    old = _files(tmp_path, ".pdqi")
    index.add(np.arange(1, 11, 2), random_codes(np.random.default_rng(5), 5))
    index.compact()
    index.save(tmp_path)
    new = _files(tmp_path, ".pdqi")
    assert len(new) == 1 and new != old
    assert len(PdqIndex.load(tmp_path)) == ROWS + 5


def test_empty_index_saves_and_loads(tmp_path: Path) -> None:
    PdqIndex().save(tmp_path)
    loaded = PdqIndex.load(tmp_path)
    assert len(loaded) == 0
    assert loaded.query(np.zeros(32, dtype=np.uint8), 256)[0].tolist() == []


def test_torn_last_log_record_is_dropped_and_earlier_ones_kept(
    built: tuple[PdqIndex, np.ndarray, np.ndarray], tmp_path: Path
) -> None:
    index, _, _ = built
    index.save(tmp_path)
    codes = random_codes(np.random.default_rng(6), 2)
    index.add(np.array([1, 3]), codes)
    index.save(tmp_path)
    log = _files(tmp_path, ".pdql")[0]
    log.write_bytes(log.read_bytes()[:-10])
    loaded = PdqIndex.load(tmp_path)
    assert loaded.query(codes[0], 0)[0].tolist() == [1]
    assert loaded.query(codes[1], 0)[0].tolist() == []
    loaded.add(np.array([5]), codes[1:])
    loaded.save(tmp_path)
    assert PdqIndex.load(tmp_path).query(codes[1], 0)[0].tolist() == [5]


def test_log_record_with_a_bad_checksum_ends_the_replay(
    built: tuple[PdqIndex, np.ndarray, np.ndarray], tmp_path: Path
) -> None:
    index, _, _ = built
    index.save(tmp_path)
    codes = random_codes(np.random.default_rng(7), 2)
    index.add(np.array([1, 3]), codes)
    index.save(tmp_path)
    log = _files(tmp_path, ".pdql")[0]
    data = bytearray(log.read_bytes())
    data[-1] ^= 0xFF
    log.write_bytes(bytes(data))
    loaded = PdqIndex.load(tmp_path)
    assert loaded.query(codes[0], 0)[0].tolist() == [1]
    assert loaded.query(codes[1], 0)[0].tolist() == []


def test_directory_without_an_index_raises_store_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError):
        PdqIndex.load(tmp_path)


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: b"NOTANIDX" + data[8:],
        lambda data: data[:8] + (99).to_bytes(4, "little") + data[12:],
        lambda data: data[:-1],
        lambda data: data[:40],
    ],
    ids=["magic", "version", "truncated", "header-only"],
)
def test_damaged_base_file_raises_store_error(
    built: tuple[PdqIndex, np.ndarray, np.ndarray], tmp_path: Path, damage: object
) -> None:
    built[0].save(tmp_path)
    base = _files(tmp_path, ".pdqi")[0]
    base.write_bytes(damage(base.read_bytes()))  # type: ignore[operator]
    with pytest.raises(StoreError):
        PdqIndex.load(tmp_path)


def test_bucket_rows_pointing_outside_the_codes_raise_store_error(
    built: tuple[PdqIndex, np.ndarray, np.ndarray], tmp_path: Path
) -> None:
    built[0].save(tmp_path)
    base = _files(tmp_path, ".pdqi")[0]
    data = bytearray(base.read_bytes())
    data[-4:] = (ROWS + 5).to_bytes(4, "little")
    base.write_bytes(bytes(data))
    with pytest.raises(StoreError):
        PdqIndex.load(tmp_path)


def test_saving_to_a_second_directory_writes_a_full_copy(
    built: tuple[PdqIndex, np.ndarray, np.ndarray], tmp_path: Path
) -> None:
    index, _, codes = built
    index.save(tmp_path / "a")
    index.add(np.array([1]), codes[:1])
    index.save(tmp_path / "b")
    index.save(tmp_path / "a")
    assert len(PdqIndex.load(tmp_path / "a")) == len(PdqIndex.load(tmp_path / "b")) == ROWS + 1


def test_ids_outside_uint32_survive_build_save_and_load(tmp_path: Path) -> None:
    rng = np.random.default_rng(12)
    codes = random_codes(rng, 6_000)
    ids = np.concatenate([np.arange(-3_000, 0), np.arange(2**40, 2**40 + 3_000)]).astype(np.int64)
    index = PdqIndex()
    index.add(ids, codes)
    index.remove(np.array([-1, 2**40]))
    index.save(tmp_path)
    loaded = PdqIndex.load(tmp_path)
    for row in (0, 2_999, 3_000, 3_001, 5_999):
        want = [] if ids[row] in (-1, 2**40) else [int(ids[row])]
        assert loaded.query(codes[row], 0)[0].tolist() == want


def test_saving_leaves_other_files_in_the_directory_alone(
    built: tuple[PdqIndex, np.ndarray, np.ndarray], tmp_path: Path
) -> None:
    (tmp_path / "state.json").write_text("{}")
    (tmp_path / "state.json.tmp").write_text("{}")
    index, _, codes = built
    index.save(tmp_path)
    index.compact()
    index.add(np.array([1]), codes[:1])
    index.compact()
    index.save(tmp_path)
    assert (tmp_path / "state.json").exists() and (tmp_path / "state.json.tmp").exists()


def test_loaded_index_maps_the_base_file_read_only(
    built: tuple[PdqIndex, np.ndarray, np.ndarray], tmp_path: Path
) -> None:
    index, _, codes = built
    index.save(tmp_path)
    loaded = PdqIndex.load(tmp_path)
    main = loaded._main
    for array in (main.codes, main.rows, main.starts):
        base = array
        while not isinstance(base, np.memmap) and base.base is not None:
            base = base.base
        assert isinstance(base, np.memmap)  # shared page cache, not a private copy
        assert not array.flags.writeable
    assert _same_results(index, loaded, codes[:50])


def test_two_loads_of_one_directory_share_the_mapped_file(
    built: tuple[PdqIndex, np.ndarray, np.ndarray], tmp_path: Path
) -> None:
    index, ids, codes = built
    index.save(tmp_path)
    first, second = PdqIndex.load(tmp_path), PdqIndex.load(tmp_path)
    first.remove(ids[:1])  # tombstones are each process's own
    assert len(first) == len(second) - 1
    assert _same_results(index, second, codes[:20])


def test_deferred_rebuilds_keep_bulk_changes_in_the_delta_and_stay_exact(
    built: tuple[PdqIndex, np.ndarray, np.ndarray], tmp_path: Path
) -> None:
    index, ids, codes = built
    index.save(tmp_path)
    worker = PdqIndex.load(tmp_path)
    worker.defer_rebuilds = True
    rng = np.random.default_rng(5)
    extra = random_codes(rng, 6000)  # more than a bulk load that would rebuild the main segment
    extra_ids = np.arange(6000, dtype=np.int64) * 2 + 1
    worker.add(extra_ids, extra)
    worker.remove(ids[:3000])
    assert worker.saved_base == index.saved_base  # still the mapped files, no private rebuild
    assert not worker.rebuilding
    everything = np.concatenate([codes[3000:], extra])
    reference = PdqIndex()
    reference.add(np.concatenate([ids[3000:], extra_ids]), everything)
    queries = np.stack([flip_bits(c, 5, rng) for c in [*codes[:40], *extra[:40]]])
    assert _same_results(reference, worker, queries)

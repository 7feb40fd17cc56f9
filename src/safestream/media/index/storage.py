"""On-disk format of a `PdqIndex` directory: one base snapshot, one append-only change log.

Files (all integers little-endian):

``CURRENT``
    Text, two lines: the base file name and the log file name in use. Replaced atomically
    (write + fsync + rename), so a reader sees either the old pair or the new pair.

``base-<generation>.pdqi``  (written once per rebuild of the main segment, never modified)
    64-byte header::

        0  8s   magic  b"SSPDQIDX"
        8  u32  format version (2; 1 is read too: its bucket starts are 4 bytes wide)
        12 u32  header size (64)
        16 16s  generation (uuid bytes; names the segment the log applies to)
        32 u64  row count n
        40 u32  bits per table key b
        44 u32  table count m
        48 u8   id width i: 4 (uint32, when every id is in 0..2**32-1) or 8 (int64)
        49 u8   row-number width w: 3 (when n < 2**24) or 4
        50 14x  reserved (zero)

    then sections, each starting on a 64-byte boundary: table bit positions (m*b uint8, bit k
    of a code is bit k%64 of its k//64-th little-endian uint64), ids (n, i bytes each,
    ascending), codes (n*32 uint8, the hash bytes in hex order), bucket starts (m*(2**b+1)
    numbers, w bytes each, little-endian; table t's bucket k holds rows
    starts[t,k]..starts[t,k+1]) and bucket rows (m*n
    row numbers, w bytes each, little-endian). The file size must equal the sum exactly.

``log-<generation>-<nonce>.pdql``  (append-only)
    32-byte header: magic b"SSPDQLOG", format version u32 (1), record size u32 (48), the base's
    generation (16 bytes). Then 48-byte records: op u8 (1 add, 2 remove), 3 zero bytes, CRC-32
    u32 of the remaining 40 bytes, id i64, code 32 bytes (zero for removes). A torn or corrupt
    tail record (short, or bad CRC) ends the replay: it was never acknowledged by `save`.

Nothing here is pickled; loading maps the base file's arrays read-only (`np.memmap`), so N
processes that load one index directory hold one copy of it between them (the page cache),
plus each its own small change log replay and tombstones.
"""

from __future__ import annotations

import os
import struct
import uuid
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from safestream.core.errors import StoreError
from safestream.media.index.codes import CODE_BYTES
from safestream.media.index.layout import TableLayout
from safestream.media.index.main_segment import MainSegment, bucket_starts, row_bytes_for

# Format 2 writes bucket starts with the row numbers' width (3 bytes under 2**24 rows), where
# format 1 (still read) wrote uint32: 23-bit keys at 10M rows then cost what 22-bit ones did.
FORMAT_VERSION = 2
_WIDE_STARTS_VERSION = 1
LOG_FORMAT_VERSION = 1
BASE_MAGIC = b"SSPDQIDX"
LOG_MAGIC = b"SSPDQLOG"
CURRENT = "CURRENT"
_BASE_HEADER = struct.Struct("<8sII16sQIIBB14x")
_LOG_HEADER = struct.Struct("<8sII16s")
_ALIGN = 64
OP_ADD = 1
OP_REMOVE = 2
RECORD = np.dtype(
    [("op", "u1"), ("pad", "u1", 3), ("crc", "<u4"), ("id", "<i8"), ("code", "u1", CODE_BYTES)]
)


def _aligned(offset: int) -> int:
    return (offset + _ALIGN - 1) // _ALIGN * _ALIGN


def _sections(
    n: int, bits: int, tables: int, id_bytes: int, row_bytes: int, start_bytes: int
) -> list[tuple[int, int]]:
    """(offset, byte length) of each base section after the header."""
    lengths = [
        tables * bits,
        n * id_bytes,
        n * CODE_BYTES,
        tables * ((1 << bits) + 1) * start_bytes,
        tables * n * row_bytes,
    ]
    out = []
    offset = _BASE_HEADER.size
    for length in lengths:
        offset = _aligned(offset)
        out.append((offset, length))
        offset += length
    return out


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_atomic(path: Path, chunks: Iterator[bytes | memoryview]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    try:
        with open(tmp, "wb") as fh:
            for chunk in chunks:
                fh.write(chunk)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)  # a full disk leaves no half-written file behind
        raise


def base_name(generation: str) -> str:
    """File name of the base snapshot of a main segment generation."""
    return f"base-{generation}.pdqi"


def write_base(directory: Path, segment: MainSegment) -> str:
    """Write the segment's base file (unless already there); return its name."""
    name = base_name(segment.generation)
    path = directory / name
    if path.exists():
        return name
    layout = segment.layout
    n = segment.size
    id_bytes = segment.ids.dtype.itemsize
    row_bytes = row_bytes_for(n)
    start_bytes = segment.start_bytes  # 4 only in a segment read from a format 1 file
    version = FORMAT_VERSION if start_bytes == row_bytes else _WIDE_STARTS_VERSION
    header = _BASE_HEADER.pack(
        BASE_MAGIC,
        version,
        _BASE_HEADER.size,
        uuid.UUID(segment.generation).bytes,
        n,
        layout.bits,
        layout.tables,
        id_bytes,
        row_bytes,
    )
    arrays = [layout.positions, segment.ids, segment.codes, segment.starts, segment.rows]

    def chunks() -> Iterator[bytes | memoryview]:
        written = len(header)
        yield header
        sections = _sections(n, layout.bits, layout.tables, id_bytes, row_bytes, start_bytes)
        for (offset, _), array in zip(sections, arrays, strict=True):
            yield b"\0" * (offset - written)
            data = np.ascontiguousarray(array)
            if data.nbytes:
                yield data.data.cast("B")
            written = offset + data.nbytes

    _write_atomic(path, chunks())
    return name


def read_base(path: Path) -> MainSegment:
    """Read a base file into a main segment, or raise StoreError if it is not one."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read(_BASE_HEADER.size)
            if len(raw) < _BASE_HEADER.size:
                raise StoreError(f"{path}: truncated index header")
            magic, version, header_size, gen, n, bits, tables, id_bytes, row_bytes = (
                _BASE_HEADER.unpack(raw)
            )
            if magic != BASE_MAGIC:
                raise StoreError(f"{path}: not a SafeStream PDQ index base file")
            versions = (FORMAT_VERSION, _WIDE_STARTS_VERSION)
            if version not in versions or header_size != _BASE_HEADER.size:
                raise StoreError(f"{path}: unsupported index format version {version}")
            if not (0 < bits <= 24 and 0 < tables <= 32 and id_bytes in (4, 8)):
                raise StoreError(f"{path}: corrupt header ({tables} tables of {bits} bits)")
            if row_bytes != row_bytes_for(n):
                raise StoreError(f"{path}: corrupt header (row width {row_bytes} for {n} rows)")
            start_bytes = 4 if version == _WIDE_STARTS_VERSION else row_bytes
            sections = _sections(n, bits, tables, id_bytes, row_bytes, start_bytes)
            end = sections[-1][0] + sections[-1][1]
            size = os.fstat(fh.fileno()).st_size
            if size != end:
                raise StoreError(f"{path}: size {size} bytes, expected {end} for {n} rows")

            def section(i: int, dtype: type, count: int) -> np.ndarray:
                # Mapped read-only, never copied: every process that loads this file shares
                # one copy of it in the page cache.
                if count == 0:
                    return np.empty(0, dtype=dtype)
                return np.memmap(path, dtype=dtype, mode="r", offset=sections[i][0], shape=(count,))

            positions = section(0, np.uint8, tables * bits).reshape(tables, bits)
            ids = section(1, np.dtype("<u4" if id_bytes == 4 else "<i8").type, n)
            codes = section(2, np.uint8, n * CODE_BYTES).reshape(n, CODE_BYTES)
            starts = section(3, np.uint8, tables * ((1 << bits) + 1) * start_bytes)
            rows = section(4, np.uint8, tables * n * row_bytes)
    except OSError as exc:
        raise StoreError(f"cannot read index base {path}: {exc}") from exc
    layout = TableLayout(positions)
    starts = starts.reshape(tables, ((1 << bits) + 1) * start_bytes)
    rows = rows.reshape(tables, n * row_bytes)
    _check_base(path, layout, ids, (starts, start_bytes), rows, row_bytes)
    return MainSegment(uuid.UUID(bytes=gen).hex, ids, codes, layout, starts, rows)


def _check_base(
    path: Path,
    layout: TableLayout,
    ids: np.ndarray,
    directory: tuple[np.ndarray, int],
    rows: np.ndarray,
    row_bytes: int,
) -> None:
    # The probe loop trusts these arrays without bounds checks, so a corrupt file must stop here.
    n = ids.shape[0]
    try:
        layout.validate()
    except ValueError as exc:
        raise StoreError(f"{path}: {exc}") from exc
    if n and not bool(np.all(ids[1:] > ids[:-1])):
        raise StoreError(f"{path}: ids are not strictly ascending")
    starts, start_bytes = directory
    for t in range(starts.shape[0] if starts.size else 0):
        table = bucket_starts(starts, t, start_bytes)
        if table[0] != 0 or table[-1] != n or not bool(np.all(table[1:] >= table[:-1])):
            raise StoreError(f"{path}: corrupt bucket directory")
    for table in rows:
        if n == 0:
            continue
        # The highest byte decides: a row number >= n has a high part beyond n's, checked
        # without building an n x 4 copy of every table.
        as_bytes = table.reshape(n, row_bytes)
        top = int(as_bytes[:, row_bytes - 1].max())
        if top > (n - 1) >> (8 * (row_bytes - 1)):
            raise StoreError(f"{path}: bucket rows out of range")
        if top == (n - 1) >> (8 * (row_bytes - 1)):
            high = as_bytes[as_bytes[:, row_bytes - 1] == top]
            numbers = np.zeros((high.shape[0], 4), dtype=np.uint8)
            numbers[:, :row_bytes] = high
            if int(numbers.view("<u4").max()) >= n:
                raise StoreError(f"{path}: bucket rows out of range")


def log_header(generation: str) -> bytes:
    """Header of a change log that applies to the given base generation."""
    generation_bytes = uuid.UUID(generation).bytes
    return _LOG_HEADER.pack(LOG_MAGIC, LOG_FORMAT_VERSION, RECORD.itemsize, generation_bytes)


def encode_records(ops: np.ndarray, ids: np.ndarray, codes: np.ndarray) -> bytes:
    """Change-log records for parallel arrays of ops, ids and codes."""
    records = np.zeros(ops.shape[0], dtype=RECORD)
    records["op"] = ops
    records["id"] = ids
    records["code"] = codes
    raw = records.view(np.uint8).reshape(-1, RECORD.itemsize)
    records["crc"] = [zlib.crc32(row[8:].tobytes()) for row in raw]
    return records.tobytes()


@dataclass(frozen=True)
class LogContents:
    """Valid records of a change log and the byte length they occupy."""

    ops: np.ndarray
    ids: np.ndarray
    codes: np.ndarray
    valid_bytes: int


def read_log(path: Path, generation: str) -> LogContents:
    """Read the valid records of a change log written for `generation`."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise StoreError(f"cannot read index log {path}: {exc}") from exc
    if len(data) < _LOG_HEADER.size:
        raise StoreError(f"{path}: truncated log header")
    magic, version, record_size, gen = _LOG_HEADER.unpack_from(data)
    if magic != LOG_MAGIC or version != LOG_FORMAT_VERSION or record_size != RECORD.itemsize:
        raise StoreError(f"{path}: not a SafeStream PDQ index log (version {version})")
    if gen != uuid.UUID(generation).bytes:
        raise StoreError(f"{path}: log belongs to another base")
    body = data[_LOG_HEADER.size :]
    whole = len(body) // RECORD.itemsize
    records = np.frombuffer(body, dtype=RECORD, count=whole)
    raw = np.frombuffer(body, dtype=np.uint8, count=whole * RECORD.itemsize).reshape(
        whole, RECORD.itemsize
    )
    good = whole
    for i in range(whole):
        ok_op = records["op"][i] in (OP_ADD, OP_REMOVE)
        if not ok_op or zlib.crc32(raw[i, 8:].tobytes()) != int(records["crc"][i]):
            good = i
            break
    kept = records[:good]
    return LogContents(
        kept["op"].copy(),
        kept["id"].astype(np.int64),
        np.ascontiguousarray(kept["code"]),
        _LOG_HEADER.size + good * RECORD.itemsize,
    )


def write_log(directory: Path, generation: str, body: bytes) -> str:
    """Write a new change log for `generation` holding `body`; return its name."""
    name = f"log-{generation}-{uuid.uuid4().hex[:12]}.pdql"
    _write_atomic(directory / name, iter([log_header(generation), body]))
    return name


def append_log(path: Path, valid_bytes: int, body: bytes) -> int:
    """Append records after the first `valid_bytes` of a log (dropping any torn tail)."""
    try:
        with open(path, "r+b") as fh:
            fh.truncate(valid_bytes)
            fh.seek(valid_bytes)
            fh.write(body)
            fh.flush()
            os.fsync(fh.fileno())
    except OSError as exc:
        raise StoreError(f"cannot append to index log {path}: {exc}") from exc
    return valid_bytes + len(body)


def read_current(directory: Path) -> tuple[str, str] | None:
    """The (base, log) file names in use, or None when the directory holds no index."""
    try:
        text = (directory / CURRENT).read_text()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StoreError(f"cannot read {directory / CURRENT}: {exc}") from exc
    lines = text.split()
    if len(lines) != 2 or any("/" in part or part.startswith(".") for part in lines):
        raise StoreError(f"{directory / CURRENT}: corrupt")
    return lines[0], lines[1]


def write_current(directory: Path, base: str, log: str) -> None:
    """Switch the directory to a (base, log) pair atomically and delete files no longer used."""
    _write_atomic(directory / CURRENT, iter([f"{base}\n{log}\n".encode()]))
    _fsync_dir(directory)
    for path in directory.iterdir():
        name = path.name.removesuffix(".tmp")
        ours = name.startswith(("base-", "log-")) and name.endswith((".pdqi", ".pdql"))
        if ours and path.name not in (base, log):
            path.unlink(missing_ok=True)

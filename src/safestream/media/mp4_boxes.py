"""A look at an MP4/MOV file's box tree before FFmpeg parses it: how long are its edit lists?

FFmpeg's mov demuxer rebuilds its sample index once per edit-list entry, so a file with a
million edits (12 MB of `elst`) holds `av.open` for minutes. Reading the box sizes costs a few
seeks, so the count is checked first and such a file is refused without being demuxed.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import BinaryIO

# Boxes that contain other boxes on the way to `elst` (moov/trak/edts/elst).
_CONTAINERS = {b"moov", b"trak", b"edts"}
_MAX_BOXES = 100_000  # a file with more boxes than this on the path is hostile in itself
# First boxes of MP4/MOV/3GP files.
MP4_FIRST_BOXES = frozenset({b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip"})


def edit_list_entries(path: Path) -> int:
    """`largest_edit_list` of an MP4-family file; 0 for any other file."""
    with path.open("rb") as handle:
        if handle.read(8)[4:8] not in MP4_FIRST_BOXES:
            return 0
        return largest_edit_list(handle)


def largest_edit_list(handle: BinaryIO) -> int:
    """The entry count of the longest edit list in the file (0 if none or not an MP4)."""
    handle.seek(0, 2)
    end = handle.tell()
    return _scan(handle, 0, end, depth=0, budget=[_MAX_BOXES])


def _scan(handle: BinaryIO, start: int, end: int, depth: int, budget: list[int]) -> int:
    largest = 0
    at = start
    while at + 8 <= end and budget[0] > 0:
        budget[0] -= 1
        handle.seek(at)
        header = handle.read(16)
        if len(header) < 8:
            break
        size, kind = struct.unpack(">I4s", header[:8])
        body = at + 8
        if size == 1 and len(header) >= 16:
            size = struct.unpack(">Q", header[8:16])[0]
            body = at + 16
        elif size == 0:
            size = end - at
        if size < 8 or (depth == 0 and not kind.isascii()):
            break
        if kind == b"elst":
            handle.seek(body)
            fields = handle.read(8)
            if len(fields) == 8:
                largest = max(largest, struct.unpack(">I", fields[4:])[0])
        elif kind in _CONTAINERS and depth < 4:
            largest = max(largest, _scan(handle, body, min(end, at + size), depth + 1, budget))
        at += size
    return largest

"""`PdqIndex`: exact Hamming radius search over 256-bit PDQ codes, with incremental changes.

The index is a main segment (multi-index hashing tables, rebuilt rarely) plus a delta segment
(recent adds, scanned exactly). Removes tombstone main rows. When the delta or the tombstones
grow past a share of the main segment, everything live is rebuilt into a new main segment. For a
large index that rebuild runs in a thread (about 20 s at 10M codes): lookups and changes go on
against the current segments meanwhile, and the next change (or `settle`) swaps the new segment
in and replays onto it the changes made since its snapshot.

Persistence (see `storage`): `save` writes a base snapshot only for a main segment the directory
does not hold yet; otherwise it appends the changes made since the last `save`/`load` to the
directory's change log. Adding 100 hashes to a saved 10M index therefore writes 100 records
(about 5 KB), and `load` reads the base arrays and replays the short log, never rehashing.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from safestream.core.errors import InvalidInput, StoreError
from safestream.core.signals import PDQ_BITS, PDQ_MATCH_MAX_BITS
from safestream.media.index import storage
from safestream.media.index.codes import as_codes, as_ids, to_words
from safestream.media.index.delta_segment import DeltaSegment
from safestream.media.index.layout import TABLES
from safestream.media.index.main_segment import MainSegment

log = logging.getLogger(__name__)

# The delta is folded into the main segment once it holds this many rows or this share of it.
DELTA_MIN_ROWS = 4096
DELTA_SHARE = 32
# Tombstoned main rows are dropped by a rebuild once they exceed this share of the segment.
DEAD_SHARE = 8
# Unsaved changes kept for an incremental `save`; beyond this, `save` rewrites the log.
JOURNAL_MAX = 1 << 16
# Main segments at least this large are rebuilt in a background thread; smaller ones take well
# under a second and are rebuilt in place.
BACKGROUND_REBUILD_ROWS = 1 << 18
# Below this many queries per thread, `query_many` stays on one thread (start-up outweighs it).
PARALLEL_MIN_QUERIES = 256


class _Binding:
    """The directory this index was last saved to or loaded from, and its state there."""

    def __init__(self, directory: Path, base: str, log: str, log_bytes: int) -> None:
        self.directory = directory
        self.base = base
        self.log = log
        self.log_bytes = log_bytes


class _Rebuild:
    """A main segment being built in a thread from a snapshot, and the changes made since."""

    def __init__(self, main: MainSegment, delta: DeltaSegment, tables: int) -> None:
        # The old segment's arrays never change, only its tombstones: copy those and the delta.
        dead = main.dead.copy()
        delta_ids, delta_codes = delta.live()
        self.changes: list[tuple[int, np.ndarray, np.ndarray]] = []
        self.segment: MainSegment | None = None
        self.error: BaseException | None = None
        self._thread = threading.Thread(
            target=self._build,
            args=(main, dead, delta_ids.copy(), delta_codes.copy(), tables),
            name="safestream-index-rebuild",
            daemon=True,
        )
        self._thread.start()

    def _build(
        self,
        main: MainSegment,
        dead: np.ndarray,
        delta_ids: np.ndarray,
        delta_codes: np.ndarray,
        tables: int,
    ) -> None:
        try:
            keep = ~dead
            self.segment = MainSegment.build(
                *_merged(
                    [main.ids[keep].astype(np.int64), delta_ids], [main.codes[keep], delta_codes]
                ),
                tables=tables,
            )
        except BaseException as exc:  # a thread boundary: `settle` logs it
            self.error = exc

    def done(self) -> bool:
        """Whether the build has finished (or failed)."""
        return not self._thread.is_alive()

    def wait(self) -> None:
        """Block until the build has finished."""
        self._thread.join()


class PdqIndex:
    """Exact radius search over PDQ codes keyed by int64 ids.

    Not thread-safe: lookups may run concurrently with each other, but changes (and `settle`)
    need the caller to hold off lookups (or swap in a loaded copy). A change that crosses a
    rebuild threshold starts a rebuild of the main segment, in a background thread once the
    segment has `background_rows` rows (2-4 s per million rows on one busy core), in place below.
    """

    def __init__(
        self, *, background_rows: int = BACKGROUND_REBUILD_ROWS, tables: int = TABLES
    ) -> None:
        # Substring tables of the segments this index builds (a loaded segment keeps its own).
        self.tables = tables
        self._main = MainSegment.empty(tables)
        self._delta = DeltaSegment()
        self._binding: _Binding | None = None
        # Changes since the binding's state: (op, id, code) chunks, or None if too many.
        self._journal: list[tuple[np.ndarray, np.ndarray, np.ndarray]] | None = []
        self._journal_rows = 0
        self.background_rows = background_rows
        self._rebuilding: _Rebuild | None = None
        self._replaying = False
        # A server worker that does not own the index directory keeps changes in the delta and
        # tombstones and waits for the owner's rebuilt files, instead of building a private
        # copy of the main segment.
        self.defer_rebuilds = False

    def __len__(self) -> int:
        return len(self._main) + len(self._delta)

    # -- changes ---------------------------------------------------------------------------

    def add(self, ids: np.ndarray, codes: np.ndarray) -> None:
        """Store `codes[i]` under `ids[i]`; an id already present gets the new code."""
        codes = as_codes(codes)
        ids = as_ids(ids, codes.shape[0])
        if ids.shape[0] == 0:
            return
        if ids.shape[0] > 1:
            ids, codes = _last_of_each(ids, codes)
        self.settle()
        self._record(storage.OP_ADD, ids, codes)
        small = self._main.size < self.background_rows
        if self.defer_rebuilds and not self._replaying:
            self._put(ids, codes)
            return
        if ids.shape[0] > DELTA_MIN_ROWS or (
            small and len(self._delta) + ids.shape[0] > self._delta_limit()
        ):
            # A bulk load, or a small index: building the main segment now beats a huge delta.
            self.settle(wait=True)
            self._rebuild(extra=(ids, codes))
            return
        self._put(ids, codes)
        if self._rebuilding is not None:
            self._rebuilding.changes.append((storage.OP_ADD, ids, codes))
        elif len(self._delta) > self._delta_limit():
            self._start_rebuild()

    def remove(self, ids: np.ndarray) -> None:
        """Remove the codes stored under `ids`; unknown ids are ignored."""
        ids = as_ids(ids)
        if ids.shape[0] > 1:
            ids = np.unique(ids)
        if ids.shape[0] == 0:
            return
        self.settle()
        self._record(storage.OP_REMOVE, ids, np.zeros((ids.shape[0], 32), dtype=np.uint8))
        self._drop(ids)
        if self._rebuilding is not None:
            self._rebuilding.changes.append((storage.OP_REMOVE, ids, ids))
        elif self.defer_rebuilds:
            return
        elif self._main.dead_count > max(DELTA_MIN_ROWS, self._main.size // DEAD_SHARE):
            self._start_rebuild()

    def compact(self) -> None:
        """Fold the delta and tombstones into a freshly built main segment now."""
        self.settle(wait=True)
        if len(self._delta) or self._main.dead_count:
            self._rebuild()

    @property
    def rebuilding(self) -> bool:
        """Whether a background rebuild is under way (or finished and not yet swapped in)."""
        return self._rebuilding is not None

    def settle(self, *, wait: bool = False) -> None:
        """Swap in a finished background rebuild (waiting for it with `wait`)."""
        rebuild = self._rebuilding
        if rebuild is None or not (wait or rebuild.done()):
            return
        rebuild.wait()
        self._rebuilding = None
        if rebuild.segment is None:
            # The current segments still hold every change, so the index stays exact; the next
            # change that crosses a threshold tries again.
            log.error("rebuilding the PDQ index failed: %r", rebuild.error)
            return
        self._main, self._delta = rebuild.segment, DeltaSegment()
        changes = rebuild.changes
        # Replay runs of the same op as one batch: one search of the new segment per run.
        for start, end in _same_op_runs([op for op, _, _ in changes]):
            ids = np.concatenate([c[1] for c in changes[start:end]])
            if changes[start][0] == storage.OP_ADD:
                codes = np.concatenate([c[2] for c in changes[start:end]])
                self._put(*_last_of_each(ids, codes))
            else:
                self._drop(np.unique(ids))

    def _put(self, ids: np.ndarray, codes: np.ndarray) -> None:
        self._main.kill(self._main.positions_of(ids))
        for item, code in zip(ids.tolist(), codes, strict=True):
            self._delta.put(item, code)

    def _drop(self, ids: np.ndarray) -> None:
        positions = self._main.positions_of(ids)
        self._main.kill(positions)
        if len(self._delta):
            for item in ids[positions < 0].tolist():
                self._delta.discard(item)

    def _delta_limit(self) -> int:
        return max(DELTA_MIN_ROWS, self._main.size // DELTA_SHARE)

    def _start_rebuild(self) -> None:
        if self._replaying or self._main.size < self.background_rows:
            self._rebuild()
        else:
            self._rebuilding = _Rebuild(self._main, self._delta, self.tables)

    def _rebuild(self, extra: tuple[np.ndarray, np.ndarray] | None = None) -> None:
        main_ids, main_codes = self._main.live()
        delta_ids, delta_codes = self._delta.live()
        parts_ids = [main_ids, delta_ids]
        parts_codes = [main_codes, delta_codes]
        if extra is not None:
            parts_ids.append(extra[0])
            parts_codes.append(extra[1])
        ids, codes = _merged(parts_ids, parts_codes)
        self._main = MainSegment.empty(self.tables)  # drop the old arrays before the new ones
        self._delta.clear()
        self._main = MainSegment.build(ids, codes, tables=self.tables)

    # -- lookups ---------------------------------------------------------------------------

    def query(
        self, code: np.ndarray, radius: int = PDQ_MATCH_MAX_BITS
    ) -> tuple[np.ndarray, np.ndarray]:
        """Ids of every stored code within `radius` bits of `code`, and their distances.

        Sorted by distance, then id. Exact: equal to comparing against every stored code.
        """
        query = as_codes(code)
        if query.shape[0] != 1:
            raise InvalidInput("query takes one code; use query_many for several")
        return self._query_words(to_words(query)[0], _check_radius(radius))

    def query_many(
        self, codes: np.ndarray, radius: int = PDQ_MATCH_MAX_BITS, *, workers: int = 1
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """`query` for each row of `codes`, in order; with `workers` > 1 the rows are split
        between that many threads (the search kernels release the GIL), for batch jobs."""
        words = to_words(as_codes(codes))
        radius = _check_radius(radius)
        if workers <= 1 or words.shape[0] < 2 * PARALLEL_MIN_QUERIES:
            return [self._query_words(row, radius) for row in words]
        # Interleaved shares even out clustered queries (near-duplicates cost more).
        shares = [words[w::workers] for w in range(workers)]
        with ThreadPoolExecutor(workers, thread_name_prefix="pdq-query") as pool:
            parts = list(pool.map(lambda part: [self._query_words(r, radius) for r in part],
                                  shares))  # fmt: skip
        out: list[tuple[np.ndarray, np.ndarray]] = [None] * words.shape[0]  # type: ignore[list-item]
        for w, part in enumerate(parts):
            out[w::workers] = part
        return out

    def _query_words(self, query: np.ndarray, radius: int) -> tuple[np.ndarray, np.ndarray]:
        rows, main_distances = self._main.search(query, radius)
        main_ids = self._main.ids_at(rows)
        delta_ids, delta_distances = self._delta.search(query, radius)
        if delta_ids.shape[0]:
            ids = np.concatenate([main_ids, delta_ids])
            distances = np.concatenate([main_distances, delta_distances])
        else:
            ids, distances = main_ids, main_distances
        if ids.shape[0] > 1:
            order = np.lexsort((ids, distances))
            ids, distances = ids[order], distances[order]
        return ids, distances.astype(np.int32, copy=False)

    def codes_of(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Codes stored under `ids`, and a mask of which ids are present."""
        ids = as_ids(ids)
        out = np.zeros((ids.shape[0], 32), dtype=np.uint8)
        positions = self._main.positions_of(ids)
        found = positions >= 0
        out[found] = self._main.codes[positions[found]]
        if len(self._delta):
            delta_ids, delta_codes = self._delta.live()
            order = np.argsort(delta_ids)
            where = np.searchsorted(delta_ids[order], ids)
            where = np.minimum(where, max(0, delta_ids.shape[0] - 1))
            in_delta = (delta_ids[order][where] == ids) & ~found
            out[in_delta] = delta_codes[order][where[in_delta]]
            found |= in_delta
        return out, found

    # -- persistence -----------------------------------------------------------------------

    @property
    def saved_base(self) -> str | None:
        """Name of the base file this index was loaded from or last saved to."""
        return None if self._binding is None else self._binding.base

    def in_step_with(self, directory: Path) -> bool:
        """Whether `directory` holds just what this index last loaded from or saved to it: no
        other process has saved there since (appended to the log or switched the files)."""
        binding = self._binding
        if binding is None or binding.directory.resolve() != Path(directory).resolve():
            return False
        try:
            if storage.read_current(Path(directory)) != (binding.base, binding.log):
                return False
            return (Path(directory) / binding.log).stat().st_size == binding.log_bytes
        except (OSError, StoreError):
            return False

    def save(self, directory: Path) -> None:
        """Persist to `directory`: append to its change log when possible, else snapshot."""
        directory = Path(directory)
        self.settle()
        try:
            directory.mkdir(parents=True, exist_ok=True)
            if self._can_append(directory):
                self._append()
            else:
                self._snapshot(directory)
        except OSError as exc:
            raise StoreError(f"cannot save the PDQ index to {directory}: {exc}") from exc

    @classmethod
    def load(cls, directory: Path) -> PdqIndex:
        """Read an index saved by `save`; raise StoreError if there is none or it is corrupt."""
        directory = Path(directory)
        current = storage.read_current(directory)
        if current is None:
            raise StoreError(f"no PDQ index in {directory}")
        base, log = current
        self = cls()
        self._main = storage.read_base(directory / base)
        contents = storage.read_log(directory / log, self._main.generation)
        self._replay(contents)
        self._binding = _Binding(directory, base, log, contents.valid_bytes)
        self._journal, self._journal_rows = [], 0
        return self

    def _replay(self, contents: storage.LogContents) -> None:
        ops, ids, codes = contents.ops, contents.ids, contents.codes
        # Loading returns a finished index: rebuilds during the replay run in place.
        self._replaying = True
        try:
            self._replay_runs(ops, ids, codes)
        finally:
            self._replaying = False

    def _replay_runs(self, ops: np.ndarray, ids: np.ndarray, codes: np.ndarray) -> None:
        # Apply runs of the same op as one batch; order between runs is preserved.
        for start, end in _same_op_runs(ops.tolist()):
            if ops[start] == storage.OP_ADD:
                self.add(ids[start:end], codes[start:end])
            else:
                self.remove(ids[start:end])

    def _record(self, op: int, ids: np.ndarray, codes: np.ndarray) -> None:
        if self._journal is None:
            return
        if self._journal_rows + ids.shape[0] > JOURNAL_MAX:
            self._journal, self._journal_rows = None, 0
            return
        self._journal.append((np.full(ids.shape[0], op, dtype=np.uint8), ids.copy(), codes.copy()))
        self._journal_rows += ids.shape[0]

    def _can_append(self, directory: Path) -> bool:
        binding = self._binding
        if binding is None or self._journal is None:
            return False
        if binding.directory.resolve() != directory.resolve():
            return False
        if binding.base != storage.base_name(self._main.generation):
            return False
        if storage.read_current(directory) != (binding.base, binding.log):
            return False
        try:
            return (directory / binding.log).stat().st_size >= binding.log_bytes
        except OSError:
            return False

    def _append(self) -> None:
        binding = self._binding
        assert binding is not None and self._journal is not None
        if self._journal:
            body = storage.encode_records(
                np.concatenate([j[0] for j in self._journal]),
                np.concatenate([j[1] for j in self._journal]),
                np.concatenate([j[2] for j in self._journal]),
            )
            binding.log_bytes = storage.append_log(
                binding.directory / binding.log, binding.log_bytes, body
            )
        self._journal, self._journal_rows = [], 0

    def _snapshot(self, directory: Path) -> None:
        main = self._main
        base = storage.write_base(directory, main)
        dead_ids = main.ids[main.dead].astype(np.int64)
        delta_ids, delta_codes = self._delta.live()
        body = storage.encode_records(
            np.concatenate(
                [
                    np.full(dead_ids.shape[0], storage.OP_REMOVE, dtype=np.uint8),
                    np.full(delta_ids.shape[0], storage.OP_ADD, dtype=np.uint8),
                ]
            ),
            np.concatenate([dead_ids, delta_ids]),
            np.concatenate([np.zeros((dead_ids.shape[0], 32), dtype=np.uint8), delta_codes]),
        )
        log = storage.write_log(directory, main.generation, body)
        storage.write_current(directory, base, log)
        log_bytes = len(storage.log_header(main.generation)) + len(body)
        self._binding = _Binding(directory, base, log, log_bytes)
        self._journal, self._journal_rows = [], 0


def _check_radius(radius: int) -> int:
    if isinstance(radius, bool) or not isinstance(radius, int | np.integer):
        raise InvalidInput(f"radius must be an integer, got {radius!r}")
    if radius < 0:
        raise InvalidInput(f"radius must be >= 0, got {radius}")
    return min(int(radius), PDQ_BITS)


def _same_op_runs(ops: list[int]) -> list[tuple[int, int]]:
    """`(start, end)` of each run of equal consecutive ops, in order."""
    runs = []
    start = 0
    while start < len(ops):
        end = start
        while end < len(ops) and ops[end] == ops[start]:
            end += 1
        runs.append((start, end))
        start = end
    return runs


def _merged(
    parts_ids: list[np.ndarray], parts_codes: list[np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """The parts joined in order, ids sorted and unique, each with its last code."""
    return _last_of_each(np.concatenate(parts_ids), np.concatenate(parts_codes))


def _last_of_each(ids: np.ndarray, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Ids sorted and unique, each with the code of its last occurrence."""
    reversed_ids = ids[::-1]
    unique, first = np.unique(reversed_ids, return_index=True)
    return unique, np.ascontiguousarray(codes[::-1][first])

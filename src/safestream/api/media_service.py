"""The hashing and matching behind the HTTP API: one bank index per worker process, kept fresh.

Every server worker opens the same index directory as the command line (`match`, `watch`):
the base file is memory-mapped read-only, so N workers share one copy in the page cache, and
each keeps only the changes logged since the files were saved. The directory is written by
whichever process holds its lock (`media.directory_lock`), never by two at once; a worker that
finds the lock taken keeps its changes in memory. Workers catch up with the store's change log
at most once per `REFRESH_SECONDS`, and at once after a bank change they made themselves.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from safestream.api.read_write_lock import ReadWriteLock
from safestream.api.seen_lookups import SeenLookups
from safestream.core.banks import Bank, Match
from safestream.core.config import Settings
from safestream.core.errors import BankNotFound
from safestream.core.peer_banks import BankHit, is_peer_bank
from safestream.core.signals import SignalType
from safestream.exchange.entry_screen import PeerEntryScreen
from safestream.media.bank_index import BankIndex
from safestream.media.directory_lock import directory_lock
from safestream.media.entry_cache import EntryCache
from safestream.media.exact_values import ExactValues
from safestream.media.features.bank import FeatureBank
from safestream.media.features.stage import LocalStage
from safestream.media.imaging import decode_rgb
from safestream.media.index import hex_to_codes
from safestream.media.matching import FrameVariants, Matcher
from safestream.media.upload_hashing import HashedUpload
from safestream.store.banks import BankRepository
from safestream.store.database import Database
from safestream.store.seen_hashes import SeenHashes

if TYPE_CHECKING:
    from safestream.media.features.video import FrameFeatures

REFRESH_SECONDS = 1.0
LOCAL_ENTRY_CACHE = 1_000_000


@dataclass(frozen=True)
class RawHit:
    """An index hit before any bank rule: entry id and distance."""

    entry_id: int
    distance: int


@dataclass(frozen=True)
class IndexStatus:
    """What the worker's index holds."""

    present: bool
    size: int
    applied_seq: int
    refreshed_at: float


class MediaService:
    """Banks, the bank index and matching for one server process."""

    def __init__(self, settings: Settings, db: Database) -> None:
        self.settings = settings
        self.banks = BankRepository(db)
        self.directory = settings.pdq_index_dir
        self._index: BankIndex | None = None
        self._bank_list: list[Bank] = []
        self._refreshed = 0.0
        # `_lock` orders opening and refreshing the index (and the feature stage); `_access`
        # lets lookups share the index while a refresh that changes it waits for them alone.
        self._lock = threading.RLock()
        self._access = ReadWriteLock()
        self._features: FeatureBank | None = None
        self._features_refreshed = 0.0
        # Entry ids known to be in local (not peers') banks, as of the index's change number.
        self._local_entries: set[int] = set()
        # Entries the per-request matchers found, kept until the banks change.
        self._entry_cache = EntryCache()
        self._exact_values = ExactValues(self.banks)
        self._local_seq = -1
        # What platforms hash, match and look up, kept for retroactive matching (when kept).
        kept = settings.recent_seen_days and settings.recent_seen_lookups
        self.seen = SeenLookups(SeenHashes(db) if kept else None)

    # -- index ---------------------------------------------------------------------------------

    def index(self) -> BankIndex:
        """The bank index, opened on first use and caught up at most once a second.

        Query it only inside `self._access.reading()`: a refresh changes it in place."""
        current = self._index
        if current is not None and self.fresh():
            return current
        with self._lock:
            if self._index is None:
                opened = BankIndex.open(self.banks, self.directory)
                # Map the saved files rather than keep the copy a first build made in memory.
                self._index = BankIndex.load_saved(self.banks, self.directory) or opened
                self._reload_banks()
            elif time.monotonic() - self._refreshed >= REFRESH_SECONDS:
                with self._access.writing():
                    self._refresh()
            return self._index

    def fresh(self) -> bool:
        """Whether a lookup now would not first catch up with the store (no database call)."""
        return self._index is not None and time.monotonic() - self._refreshed < REFRESH_SECONDS

    def changed(self) -> None:
        """Catch up now: this worker changed a bank."""
        with self._lock:
            if self._index is not None:
                with self._access.writing():
                    self._refresh()

    def _refresh(self) -> None:
        assert self._index is not None
        with directory_lock(self.directory, wait=False) as owner:
            before = self._index.index.saved_base
            if not owner and self._index.base_on_disk() != before:
                self._map_saved(locked=False)  # the owner saved a rebuilt index
            self._index.index.defer_rebuilds = not owner
            self._index.refresh(persist=owner, locked=True)
            if owner and self._index.index.saved_base != before:
                # Saved a rebuild (or adopted another process's): share the files, not a copy.
                self._map_saved(locked=True)
        self._reload_banks()

    def _map_saved(self, *, locked: bool) -> None:
        fresh = BankIndex.load_saved(self.banks, self.directory, locked=locked)
        if fresh is not None:
            self._index = fresh

    def _reload_banks(self) -> None:
        # Names and rules only: counting entries would scan every entry once a second.
        self._bank_list = self.banks.bank_rules()
        self._refreshed = time.monotonic()

    def bank_list(self) -> list[Bank]:
        """Banks as of the last refresh (without entry counts)."""
        self.index()
        return list(self._bank_list)

    def status(self) -> IndexStatus:
        """Size and freshness of this worker's index."""
        index = self.index()
        return IndexStatus(True, len(index.index), index.applied_seq, time.time())

    # -- lookups -------------------------------------------------------------------------------

    def raw_lookup(self, pdq_hexes: Sequence[str], radius: int) -> list[list[RawHit]]:
        """Index hits of each hash within `radius`, without bank rules (HMA's raw_lookup),
        except that a peer's entry the safety screen holds back is left out (as HMA leaves
        disabled content out of its index)."""
        found, seq = self.raw_index_hits(pdq_hexes, radius)
        return self.screen_raw(pdq_hexes, found, seq) if any(found) else found

    def raw_index_hits(
        self, pdq_hexes: Sequence[str], radius: int
    ) -> tuple[list[list[RawHit]], int]:
        """Index hits of each hash (no store access once the index is fresh), and the change
        number the index was at; `screen_raw` them before answering."""
        codes = hex_to_codes(list(pdq_hexes))
        index = self.index()
        with self._access.reading():
            results = index.index.query_many(codes, radius)
            seq = index.applied_seq
        found = [
            [RawHit(int(i), int(d)) for i, d in zip(ids.tolist(), dists.tolist(), strict=True)]
            for ids, dists in results
        ]
        return found, seq

    def known_local(self, found: list[list[RawHit]], seq: int) -> bool:
        """Whether every hit is an entry known to be in a local bank (nothing to screen)."""
        local = self._local_entries if seq == self._local_seq else set()
        return all(h.entry_id in local for hits in found for h in hits)

    def screen_raw(
        self, pdq_hexes: Sequence[str], found: list[list[RawHit]], seq: int
    ) -> list[list[RawHit]]:
        """Hits on peers' banks through the safety screen; other entries are remembered as
        local until the banks change, so a hit on them costs no store access."""
        if seq != self._local_seq:
            self._local_entries, self._local_seq = set(), seq
        unknown = [h.entry_id for hits in found for h in hits]
        unknown = [i for i in unknown if i not in self._local_entries]
        if not unknown:
            return found
        entries = self.banks.entries_by_id(unknown)
        peer = {i: e for i, e in entries.items() if is_peer_bank(e[1].source)}
        if len(self._local_entries) < LOCAL_ENTRY_CACHE:
            self._local_entries.update(i for i in entries if i not in peer)
        asked = [
            (n, h, BankHit("pdq:" + pdq_hexes[n], peer[h.entry_id][1].name,
                           peer[h.entry_id][1].source, "pdq", peer[h.entry_id][0].value))
            for n, hits in enumerate(found)
            for h in hits
            if h.entry_id in peer
        ]  # fmt: skip
        if not asked:
            return found
        verdicts = PeerEntryScreen(self.banks.db).allowed([hit for _, _, hit in asked])
        refused = {(n, h.entry_id) for (n, h, _), ok in zip(asked, verdicts, strict=True) if not ok}
        return [[h for h in hits if (n, h.entry_id) not in refused] for n, hits in enumerate(found)]

    def raw_index_hits_one(self, pdq_hex: str, radius: int) -> tuple[list[RawHit], int]:
        """`raw_index_hits` of one well-formed lower-case hash: the HTTP fast path's lookup,
        with nothing around the index's own work."""
        code = np.frombuffer(bytes.fromhex(pdq_hex), dtype=np.uint8)
        index = self.index()
        with self._access.reading():
            ids, distances = index.index.query(code, radius)
            seq = index.applied_seq
        return [RawHit(i, d) for i, d in zip(ids.tolist(), distances.tolist(), strict=True)], seq

    def matcher(
        self, bank_names: Sequence[str] | None = None, threshold: int | None = None
    ) -> Matcher:
        """A matcher over the current index and banks, limited to `bank_names` if given."""
        index = self.index()
        known = {b.name for b in self._bank_list}
        for name in bank_names or []:
            if name not in known:
                raise BankNotFound(f"no bank named {name!r}")
        return Matcher(
            self.banks,
            index,
            bank_names=bank_names,
            threshold=threshold,
            known_banks=self._bank_list,
            entry_cache=self._entry_cache,
            exact_values=self._exact_values,
        )

    def match_hashes(
        self,
        frames: Sequence[FrameVariants],
        bank_names: Sequence[str] | None = None,
        threshold: int | None = None,
    ) -> list[list[Match]]:
        """Matches of each hashed frame under the matching rules (negative banks, quality...)."""
        matcher = self.matcher(bank_names, threshold)
        with self._access.reading():
            return matcher.match_variants(frames)

    def match_upload(
        self,
        hashed: HashedUpload,
        bank_names: Sequence[str] | None = None,
        threshold: int | None = None,
    ) -> list[Match]:
        """Matches of an uploaded file: every variant, and its exact MD5/SHA-256 entries."""
        matcher = self.matcher(bank_names, threshold)
        with self._access.reading():
            if hashed.image is not None:
                found = matcher.match_variants([FrameVariants.of(hashed.image, hashed.sha256)])[0]
            else:
                per_frame = matcher.match_variants(
                    [FrameVariants.of(f, hashed.sha256) for f in hashed.frames]
                )
                found = [m for frame in per_frame for m in frame]
        return matcher.merge_exact(matcher.exact_matches(hashed.md5, hashed.sha256), found)

    def match_local(self, data: bytes, bank_names: Sequence[str] | None = None) -> list[Match]:
        """Second-stage (local-feature) matches of an image PDQ did not match; [] while no bank
        holds local features. Each worker keeps its own feature index in memory, caught up from
        the store's change log at most once a second."""
        with self._lock:
            stage = self._local_stage(bank_names)
            return stage.match_pixels(decode_rgb(data)) if stage else []

    def match_local_frames(
        self,
        frames: Sequence[FrameFeatures],
        bank_names: Sequence[str] | None = None,
        skip_times: Collection[float] = (),
    ) -> list[Match]:
        """Second-stage matches of a video's sampled frames, except those at `skip_times` (the
        frames PDQ matched)."""
        with self._lock:
            stage = self._local_stage(bank_names)
            if not stage:
                return []
            return [
                m
                for f in frames
                if f.t not in skip_times
                for m in stage.match_features(f.features, f.t)
            ]

    def _local_stage(self, bank_names: Sequence[str] | None) -> LocalStage | None:
        if self._features is None:
            self._features = FeatureBank.in_memory(self.banks)
            self._features_refreshed = time.monotonic()
        elif time.monotonic() - self._features_refreshed >= REFRESH_SECONDS:
            self._features.refresh(persist=False)
            self._features_refreshed = time.monotonic()
        stage = LocalStage(
            self.banks, self._features, bank_names=bank_names, known_banks=self.bank_list()
        )
        return stage if stage else None

    def count_entries(self, signal_type: SignalType) -> int:
        """How many entries of a signal type the banks hold."""
        return self.banks.count_entries(signal_type.value)

    def exact_lookup(self, signal_type: SignalType, value: str) -> list[RawHit]:
        """Entries whose MD5 or SHA-256 is this one (peers' entries screened)."""
        found = self.banks.find_exact(signal_type.value, value)
        verdicts = PeerEntryScreen(self.banks.db).allowed(
            [BankHit(f"{signal_type.value}:{value}", b.name, b.source, e.signal_type, e.value)
             for e, b in found]
        )  # fmt: skip
        return [RawHit(e.id, 0) for (e, _), ok in zip(found, verdicts, strict=True) if ok]

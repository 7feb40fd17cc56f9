"""An index over every bank image's ORB descriptors: vote for candidates, then verify them.

Lookup, per query frame:
1. each query descriptor's nearest bank descriptors come from a faiss binary index (exact
   `IndexBinaryFlat` for small banks, `IndexBinaryIVF` with a flat coarse quantizer once the bank
   holds more than `IVF_FROM` descriptors);
2. each bank image gets one vote per query keypoint whose neighbour (within `VOTE_HAMMING` bits)
   belongs to it;
3. the best-voted images (at most `CANDIDATES`) are verified geometrically (`verify`).

Removed images are tombstoned and skipped; the index is rebuilt when a quarter is tombstoned or
the bank has grown well past the size the IVF was trained for. Everything is saved as `.npy`
arrays and faiss's own binary index format: no pickle.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np
import numpy.typing as npt

from safestream.core.errors import StoreError
from safestream.media.features.extract import DESCRIPTOR_BYTES, LocalFeatures
from safestream.media.features.verify import (
    MEDIA_POLICY,
    ROOM_POLICY,
    Verification,
    VerifyPolicy,
    verify,
)

IVF_FROM = 40_000
VOTE_HAMMING = 56
MIN_VOTES = 6
CANDIDATES = 5
NEIGHBOURS = 2
VOTERS = 450
KINDS = ("media", "room")
POLICIES = {"media": MEDIA_POLICY, "room": ROOM_POLICY}


@dataclass(frozen=True)
class LocalHit:
    """A verified second-stage match of one bank image."""

    entry_id: int
    kind: str
    votes: int
    verification: Verification


def _ivf_lists(count: int) -> int:
    # About 2,000 descriptors per list, at most 4,096 lists: a query keypoint is compared with
    # every centroid and then with one list, so at 100,000 bank images (34.5M descriptors,
    # ~8,400 a list) the two costs are of one size.
    lists = 64
    while lists * 2000 < count and lists < 4096:
        lists *= 2
    return lists


class FeatureIndex:
    """Descriptors of every bank image with their owners, and a faiss index over them."""

    def __init__(self) -> None:
        self.descriptors = np.zeros((0, DESCRIPTOR_BYTES), dtype=np.uint8)
        self.points = np.zeros((0, 2), dtype=np.float32)
        self.owners = np.zeros(0, dtype=np.int64)  # entry id of each descriptor row
        # entry id -> (first row, row count, width, height, kind index)
        self.entries: dict[int, tuple[int, int, int, int, int]] = {}
        self.removed: set[int] = set()
        # One list per query keypoint: at 50,000 bank images (17M descriptors, ~8,400 a list as
        # at 100,000 with 4,096 lists) a second list found no more of the tuned rows
        # of the crop benchmark and cost half the lookup (bench/results/crops.md).
        self.nprobe = 1
        self._index: faiss.IndexBinary = faiss.IndexBinaryFlat(DESCRIPTOR_BYTES * 8)
        self._trained_for = 0
        self._quantizer: faiss.IndexBinary | None = None
        self.cut_short = 0  # lookups that hit their deadline before verifying every candidate

    def __len__(self) -> int:
        return len(self.entries) - len(self.removed & self.entries.keys())

    # --- building ----------------------------------------------------------------------------

    def add(self, entry_id: int, features: LocalFeatures, kind: str = "media") -> None:
        """Add one bank image's features (an id already present is replaced)."""
        if kind not in KINDS:
            raise ValueError(f"unknown bank kind {kind!r}")
        self.add_many([(entry_id, features, kind)])

    def add_many(self, items: list[tuple[int, LocalFeatures, str]]) -> None:
        """Add several bank images at once (much faster than one by one)."""
        descs, points, owners = [], [], []
        start = len(self.owners)
        for entry_id, features, kind in items:
            if entry_id in self.entries:
                self.remove(entry_id)
            n = len(features)
            self.entries[entry_id] = (start, n, features.width, features.height, KINDS.index(kind))
            self.removed.discard(entry_id)
            descs.append(features.descriptors)
            points.append(features.points)
            owners.append(np.full(n, entry_id, dtype=np.int64))
            start += n
        if not items:
            return
        new_desc = np.concatenate(descs).astype(np.uint8)
        self.descriptors = np.concatenate([self.descriptors, new_desc])
        self.points = np.concatenate([self.points, *points]).astype(np.float32)
        self.owners = np.concatenate([self.owners, *owners])
        if self._needs_rebuild():
            self.rebuild()
        elif len(new_desc):
            self._index.add(new_desc)

    def remove(self, entry_id: int) -> None:
        """Tombstone a bank image; it is never a candidate again."""
        if entry_id in self.entries:
            self.removed.add(entry_id)
            if len(self.removed) * 4 > len(self.entries) + 16:
                self.rebuild()

    def rebuild(self) -> None:
        """Drop tombstoned rows and (re)train the index for the current size."""
        if self.removed:
            keep = ~np.isin(self.owners, np.fromiter(self.removed, dtype=np.int64))
            old = self.entries
            self.descriptors, self.points = self.descriptors[keep], self.points[keep]
            self.owners = self.owners[keep]
            self.entries = {}
            row = 0
            for entry_id, (_, n, w, h, k) in sorted(old.items(), key=lambda kv: kv[1][0]):
                if entry_id in self.removed:
                    continue
                self.entries[entry_id] = (row, n, w, h, k)
                row += n
            self.removed = set()
        self._index = self._train(self.descriptors)
        self._index.add(self.descriptors)
        self._trained_for = len(self.descriptors)

    def _needs_rebuild(self) -> bool:
        n = len(self.descriptors)
        if self._trained_for == 0:
            return n >= IVF_FROM
        return n > 4 * self._trained_for

    def _train(self, descriptors: npt.NDArray[np.uint8]) -> faiss.IndexBinary:
        n = len(descriptors)
        bits = DESCRIPTOR_BYTES * 8
        if n < IVF_FROM:
            return faiss.IndexBinaryFlat(bits)
        lists = _ivf_lists(n)
        quantizer = faiss.IndexBinaryFlat(bits)
        ivf = faiss.IndexBinaryIVF(quantizer, bits, lists)
        self._quantizer = quantizer  # faiss holds a raw pointer; keep the Python object alive
        rng = np.random.default_rng(lists)
        sample = descriptors[rng.choice(n, size=min(n, lists * 16, 200_000), replace=False)]
        ivf.cp.niter = 6
        ivf.train(np.ascontiguousarray(sample))
        ivf.nprobe = self.nprobe
        return ivf

    # --- lookup ------------------------------------------------------------------------------

    def candidates(self, query: LocalFeatures) -> list[tuple[int, int]]:
        """Bank images with the most descriptor votes: (entry id, votes), best first."""
        if len(query) == 0 or len(self.owners) == 0:
            return []
        if isinstance(self._index, faiss.IndexBinaryIVF):
            self._index.nprobe = self.nprobe
        k = min(NEIGHBOURS, len(self.owners))
        # The first keypoints are the best spread (see extract._spread): enough to vote with.
        voters = np.ascontiguousarray(query.descriptors[:VOTERS])
        dist, rows = self._index.search(voters, k)
        ok = (rows >= 0) & (dist <= VOTE_HAMMING)
        qi = np.repeat(np.arange(len(voters)), k).reshape(rows.shape)[ok]
        owners = self.owners[rows[ok]]
        if len(owners) == 0:
            return []
        # One vote per (query keypoint, bank image): pack the pair into one int64 to dedupe.
        pairs = np.unique(owners * 65536 + qi)
        ids, votes = np.unique(pairs // 65536, return_counts=True)
        order = np.argsort(-votes, kind="stable")
        out = []
        for i in order:
            entry_id = int(ids[i])
            if votes[i] < MIN_VOTES:
                break
            if entry_id in self.removed or entry_id not in self.entries:
                continue
            out.append((entry_id, int(votes[i])))
            if len(out) >= CANDIDATES:
                break
        return out

    def features_of(self, entry_id: int) -> LocalFeatures:
        """The stored features of one bank image."""
        start, n, w, h, _ = self.entries[entry_id]
        return LocalFeatures(
            w, h, self.points[start : start + n], self.descriptors[start : start + n]
        )

    def kind_of(self, entry_id: int) -> str:
        """The bank kind ("media" or "room") an image was indexed under."""
        return KINDS[self.entries[entry_id][4]]

    def search(
        self,
        query: LocalFeatures,
        policies: dict[str, VerifyPolicy] | None = None,
        deadline: float | None = None,
        always: frozenset[int] | set[int] = frozenset(),
    ) -> list[LocalHit]:
        """Verified matches of the query frame, most inliers first.

        Past `deadline` (a `time.thread_time()` value: CPU time, so a busy machine does not cut
        lookups short) no further candidate is verified, except the best-voted one and those in
        `always` (allowlist entries: skipping one could let a frame it should silence alert)."""
        rules = policies or POLICIES
        hits = []
        late = False
        for rank, (entry_id, votes) in enumerate(self.candidates(query)):
            if rank and not late and deadline is not None and time.thread_time() > deadline:
                late = True
                self.cut_short += 1
            if late and entry_id not in always:
                continue
            kind = self.kind_of(entry_id)
            found = verify(query, self.features_of(entry_id), rules[kind])
            if found is not None:
                hits.append(LocalHit(entry_id, kind, votes, found))
        hits.sort(key=lambda h: -h.verification.inliers)
        return hits

    # --- persistence -------------------------------------------------------------------------

    def save(self, directory: Path) -> None:
        """Write arrays and the faiss index under `directory` (atomically per file)."""
        directory.mkdir(parents=True, exist_ok=True)
        table = np.array(
            [(i, *v) for i, v in sorted(self.entries.items())], dtype=np.int64
        ).reshape(-1, 6)
        arrays: dict[str, npt.NDArray[np.generic]] = {
            "descriptors": self.descriptors,
            "points": self.points,
            "owners": self.owners,
            "entries": table,
            "removed": np.fromiter(sorted(self.removed), dtype=np.int64),
        }
        for name, array in arrays.items():
            tmp = directory / f"{name}.tmp.npy"
            np.save(tmp, array, allow_pickle=False)
            os.replace(tmp, directory / f"{name}.npy")
        tmp_index = directory / "descriptors.faiss.tmp"
        faiss.write_index_binary(self._index, str(tmp_index))
        os.replace(tmp_index, directory / "descriptors.faiss")

    @classmethod
    def load(cls, directory: Path) -> FeatureIndex:
        """Read what `save` wrote; raise `StoreError` if any part is missing or inconsistent."""
        self = cls()
        try:
            self.descriptors = np.load(directory / "descriptors.npy", allow_pickle=False)
            self.points = np.load(directory / "points.npy", allow_pickle=False)
            self.owners = np.load(directory / "owners.npy", allow_pickle=False)
            table = np.load(directory / "entries.npy", allow_pickle=False)
            removed = np.load(directory / "removed.npy", allow_pickle=False)
            self._index = faiss.read_index_binary(str(directory / "descriptors.faiss"))
        except (OSError, ValueError, RuntimeError) as exc:
            raise StoreError(f"feature index at {directory} is unreadable: {exc}") from exc
        self.entries = {
            int(r[0]): (int(r[1]), int(r[2]), int(r[3]), int(r[4]), int(r[5])) for r in table
        }
        self.removed = {int(i) for i in removed}
        n = len(self.owners)
        if len(self.descriptors) != n or len(self.points) != n or self._index.ntotal != n:
            raise StoreError(f"feature index at {directory} is inconsistent")
        self._trained_for = n if isinstance(self._index, faiss.IndexBinaryIVF) else 0
        return self

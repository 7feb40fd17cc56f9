"""Match hashes, images and videos against the banks.

Rules, in the order they apply to one image or video frame:

1. A hash with quality under 50 matches nothing (vPDQ's rule: flat frames carry no signal).
2. Every variant of the frame is looked up: the pixels as stored (`original`), the content inside
   a uniform border (`trimmed`), the dihedral transforms (`rotate90`, `flipx`, ...), and for a
   palette, CMYK or LAB image the hash pytx and HMA compute from its raw array (`pytx`).
3. An entry matches when its distance is within its bank's threshold (or the caller's override).
4. If any variant matches a negative bank (an allowlist of test cards, logos, ...), the frame
   raises no match at all.
5. Each entry is reported once per frame, with the variant at the smallest distance.
6. A hit on a peer's bank (synced from another installation) raises a match only if the peer's
   entry is active here and not flooding (`exchange.entry_screen`): every matcher (`match`, the
   HTTP routes, intake's attachments, the live monitor) goes through this class.

MD5 and SHA-256 entries match the file's bytes exactly.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from safestream.core.banks import Bank, BankEntry, Match
from safestream.core.errors import BankNotFound
from safestream.core.peer_banks import BankHit
from safestream.core.signals import PDQ_MIN_QUALITY, SignalType
from safestream.exchange.entry_screen import PeerEntryScreen
from safestream.media.bank_index import BankIndex
from safestream.media.entry_cache import EntryCache
from safestream.media.exact_values import ExactValues
from safestream.media.hashing import FrameHash, HashMode, ImageHash, hash_image, hash_video
from safestream.media.index import hex_to_codes
from safestream.store.banks import BankRepository


@dataclass(frozen=True)
class FrameVariants:
    """The hashes of one image or frame under each variant name."""

    hashes: dict[str, str]
    quality: int
    t: float | None = None
    # What carried the frame (an upload's SHA-256, a stream): flood prevention counts distinct
    # items per peer entry. Empty: the frame's own hash stands for it (a bare hash lookup).
    item: str = ""

    @classmethod
    def of(cls, h: ImageHash | FrameHash, item: str = "") -> FrameVariants:
        """All variants a hashing result carries (original, trimmed, dihedral)."""
        hashes = {"original": h.pdq}
        if h.dihedral:
            hashes.update({k: v for k, v in h.dihedral.items() if k != "original"})
        if h.pdq_trimmed and h.pdq_trimmed != h.pdq:
            hashes["trimmed"] = h.pdq_trimmed
        if isinstance(h, ImageHash) and h.pdq_pytx:
            hashes["pytx"] = h.pdq_pytx  # what pytx/HMA hash for a palette or CMYK image
        return cls(hashes, h.quality, h.t if isinstance(h, FrameHash) else None, item)


@dataclass(frozen=True)
class VideoOverlap:
    """vPDQ-style overlap between a query video and one bank video (or single hash)."""

    bank: str
    content_id: str | None
    entry_count: int
    query_match_percent: float
    compared_match_percent: float


@dataclass
class VideoMatchResult:
    """Per-frame matches of a video plus its overlap with each matched bank video."""

    frames: list[FrameHash] = field(default_factory=list)
    matches: list[Match] = field(default_factory=list)
    overlaps: list[VideoOverlap] = field(default_factory=list)


class Matcher:
    """Looks hashes up in the bank index and applies the matching rules above."""

    def __init__(
        self,
        banks: BankRepository,
        index: BankIndex,
        *,
        bank_names: Sequence[str] | None = None,
        threshold: int | None = None,
        known_banks: Sequence[Bank] | None = None,
        screen: PeerEntryScreen | None = None,
        entry_cache: EntryCache | None = None,
        exact_values: ExactValues | None = None,
    ) -> None:
        self.banks = banks
        # A server shares one cache between its per-request matchers.
        self.entry_cache = entry_cache
        self.exact_values = exact_values
        self.index = index
        self.threshold = threshold
        self.screen = screen or PeerEntryScreen(banks.db)
        # A server passes the banks it already holds rather than query them per request.
        listed = banks.bank_rules() if known_banks is None else known_banks
        all_banks = {b.name: b for b in listed}
        for name in bank_names or []:
            if name not in all_banks:
                raise BankNotFound(f"no bank named {name!r}")
        wanted = set(bank_names) if bank_names else set(all_banks)
        # Negative banks always take part: an allowlisted frame must stay silent whatever is asked.
        self._banks = {b.id: b for b in all_banks.values() if b.name in wanted or b.negative}
        if threshold is not None:
            self.radius = threshold
        else:
            self.radius = max((b.threshold for b in self._banks.values()), default=0)
        self._entries: dict[int, tuple[BankEntry, Bank]] = {}

    def match_variants(self, frames: Sequence[FrameVariants]) -> list[list[Match]]:
        """Matches of each frame, after quality, threshold and negative-bank rules."""
        if not self._banks:
            return [[] for _ in frames]
        names: list[tuple[int, str]] = []
        hexes: list[str] = []
        for i, frame in enumerate(frames):
            if frame.quality < PDQ_MIN_QUALITY:
                continue
            for variant, value in frame.hashes.items():
                names.append((i, variant))
                hexes.append(value)
        hits: dict[int, list[tuple[str, int, int]]] = defaultdict(list)
        if hexes:
            results = self.index.index.query_many(hex_to_codes(hexes), self.radius)
            for (i, variant), (ids, dists) in zip(names, results, strict=True):
                for entry_id, dist in zip(ids.tolist(), dists.tolist(), strict=True):
                    hits[i].append((variant, int(entry_id), int(dist)))
        self._load_entries({e for frame_hits in hits.values() for _, e, _ in frame_hits})
        decided = [self._decide(hits.get(i, []), frame.t) for i, frame in enumerate(frames)]
        return self._screened(decided, [_item(frame) for frame in frames])

    def match_hash(self, pdq: str, quality: int = 100) -> list[Match]:
        """Matches of one PDQ hash given as hex."""
        return self.match_variants([FrameVariants({"original": pdq}, quality)])[0]

    def match_image(
        self, source: Path | bytes, mode: HashMode = "fast"
    ) -> tuple[ImageHash, list[Match]]:
        """Hash an image (with dihedral variants) and match it, including exact MD5/SHA-256."""
        h = hash_image(source, mode=mode, dihedral=True)
        return h, self.match_image_hash(h)

    def match_image_hash(self, h: ImageHash) -> list[Match]:
        """Matches of an already hashed image: its variants, then exact MD5/SHA-256 entries."""
        matches = self.match_variants([FrameVariants.of(h, item=h.sha256)])[0]
        return self.merge_exact(self.exact_matches(h.md5, h.sha256), matches)

    def match_video(
        self, path: Path, mode: HashMode = "fast", seconds_per_hash: float = 1.0
    ) -> VideoMatchResult:
        """Hash a video frame by frame and match each frame; summarise overlap per bank video."""
        result = VideoMatchResult()
        batch: list[FrameHash] = []
        for frame in hash_video(path, mode=mode, seconds_per_hash=seconds_per_hash, dihedral=True):
            result.frames.append(frame)
            batch.append(frame)
            if len(batch) >= 64:
                result.matches.extend(self._match_frames(batch))
                batch = []
        result.matches.extend(self._match_frames(batch))
        result.overlaps = self.video_overlaps(result.frames, result.matches)
        return result

    def iter_video_matches(
        self, frames: Iterable[FrameHash]
    ) -> Iterator[tuple[FrameHash, list[Match]]]:
        """Match frames as they arrive (for live streams): yields each frame with its matches."""
        for frame in frames:
            yield frame, self.match_variants([FrameVariants.of(frame)])[0]

    # --- rules -------------------------------------------------------------------------------

    def _screened(self, per_frame: list[list[Match]], items: list[str]) -> list[list[Match]]:
        """Drop matches of peers' entries the safety screen holds back (rule 6)."""
        peer_banks = {b.name: b.source for b in self._banks.values() if b.source}
        asked = [
            (i, m, BankHit(items[i], m.bank, peer_banks[m.bank], self._entries[m.entry_id][0]
                           .signal_type, m.entry_hash))
            for i, matches in enumerate(per_frame)
            for m in matches
            if m.bank in peer_banks and m.entry_id in self._entries
        ]  # fmt: skip
        if not asked:
            return per_frame
        verdicts = self.screen.allowed([hit for _, _, hit in asked])
        refused = {(i, id(m)) for (i, m, _), ok in zip(asked, verdicts, strict=True) if not ok}
        if not refused:
            return per_frame
        return [[m for m in ms if (i, id(m)) not in refused] for i, ms in enumerate(per_frame)]

    def _match_frames(self, frames: list[FrameHash]) -> list[Match]:
        per_frame = self.match_variants([FrameVariants.of(f) for f in frames])
        return [m for ms in per_frame for m in ms]

    def _decide(self, hits: list[tuple[str, int, int]], t: float | None) -> list[Match]:
        best: dict[int, tuple[int, str, str]] = {}  # entry id -> (distance, variant, bank)
        for variant, entry_id, dist in hits:
            found = self._entries.get(entry_id)
            if found is None:
                continue
            # The bank's rules as this matcher knows them, not as they were when the entry loaded.
            bank = self._banks.get(found[1].id)
            if bank is None:
                continue
            limit = self.threshold if self.threshold is not None else bank.threshold
            if dist > limit:
                continue
            if bank.negative:
                return []
            if entry_id not in best or dist < best[entry_id][0]:
                best[entry_id] = (dist, variant, bank.name)
        matches = []
        ranked = sorted(best.items(), key=lambda kv: (kv[1][0], kv[0]))
        for entry_id, (dist, variant, bank_name) in ranked:
            entry = self._entries[entry_id][0]
            matches.append(
                Match(
                    bank=bank_name,
                    entry_id=entry_id,
                    entry_hash=entry.value,
                    distance=dist,
                    label=entry.label,
                    variant=variant,
                    t=t,
                )
            )
        return matches

    def merge_exact(self, exact: list[Match], matches: list[Match]) -> list[Match]:
        """Put exact byte matches first; a perceptual match that a negative bank silenced
        stays silent, and an exact match in a negative bank silences everything."""
        negative = {b.name for b in self._banks.values() if b.negative}
        if any(m.bank in negative for m in exact):
            return []
        seen = {m.entry_id for m in exact}
        return exact + [m for m in matches if m.entry_id not in seen]

    def exact_matches(self, md5: str, sha256: str) -> list[Match]:
        """Entries whose MD5 or SHA-256 equals the file's (peers' entries screened, rule 6)."""
        known = self.exact_values
        if known is not None and not known.may_hold(self.index.applied_seq, md5, sha256):
            return []
        found = self.banks.find_exact_any(
            [(SignalType.MD5.value, md5), (SignalType.SHA256.value, sha256)]
        )
        found = [(e, b) for e, b in found if b.id in self._banks]
        item = sha256 or md5
        verdicts = self.screen.allowed(
            [BankHit(item, b.name, b.source, e.signal_type, e.value) for e, b in found]
        )
        return [
            Match(b.name, e.id, e.value, 0, e.label, variant=f"exact_{e.signal_type}")
            for (e, b), ok in zip(found, verdicts, strict=True)
            if ok
        ]

    def _load_entries(self, ids: set[int]) -> None:
        missing = [i for i in ids if i not in self._entries]
        if not missing:
            return
        if self.entry_cache is None:
            self._entries.update(self.banks.entries_by_id(missing))
        else:
            seq = self.index.applied_seq
            self._entries.update(self.entry_cache.entries(missing, seq, self.banks.entries_by_id))

    def video_overlaps(self, frames: list[FrameHash], matches: list[Match]) -> list[VideoOverlap]:
        """vPDQ percentages per matched bank video: query frames matched, bank frames matched."""
        usable = {f.pdq for f in frames if f.quality >= PDQ_MIN_QUALITY}
        if not usable or not matches:
            return []
        content = self.banks.content_of([m.entry_id for m in matches])
        groups: dict[tuple[str, str], set[str]] = defaultdict(set)  # (bank, group) -> entry hashes
        query_hits: dict[tuple[str, str], set[str]] = defaultdict(set)  # -> query frame hashes
        by_time = {f.t: f.pdq for f in frames}
        for m in matches:
            cid = content.get(m.entry_id, (None, None))[0]
            key = (m.bank, cid or f"entry:{m.entry_id}")
            groups[key].add(m.entry_hash)
            if m.t is not None and m.t in by_time:
                query_hits[key].add(by_time[m.t])
        sizes = self.banks.content_sizes([cid for _, cid in groups if not cid.startswith("entry:")])
        out = []
        for (bank, cid), matched in sorted(groups.items()):
            total = sizes.get(cid, 1)
            query_share = len(query_hits[(bank, cid)]) / len(usable)
            out.append(
                VideoOverlap(
                    bank=bank,
                    content_id=None if cid.startswith("entry:") else cid,
                    entry_count=total,
                    query_match_percent=round(100.0 * query_share, 2),
                    compared_match_percent=round(100.0 * min(len(matched), total) / total, 2),
                )
            )
        return out


def _item(frame: FrameVariants) -> str:
    """What carried a frame, for flood counting: its item, else its own hash."""
    if frame.item:
        return frame.item
    return "pdq:" + frame.hashes.get("original", next(iter(frame.hashes.values()), ""))

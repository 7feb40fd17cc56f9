"""The second matching stage: local features for what PDQ did not match.

PDQ hashes the whole picture, so a crop, a caption bar, a picture-in-picture or a phone filming a
screen moves it far from the bank hash. This stage looks for a large, geometrically consistent
part of a bank image inside the frame (see `verify`), and for known rooms in new frames. It runs
only on frames PDQ left unmatched, within a per-frame time budget.

Rules, as for PDQ: only the chosen banks report; negative (allowlist) banks always take part, and
a frame that matches one raises no match at all. A second-stage `Match` has `stage="local"`,
`region` (where the bank image is in the frame, source pixels), `frame_size` (the frame's
width and height in the same pixels), `coverage` (share of the bank image shown), `distance` 0
(there is no hash distance), and in `extra` the inlier count, the verification model and, for a
homography, the 3x3 transform from the bank image's unit square to the frame's pixels.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from safestream.core.banks import Bank, BankEntry, Match
from safestream.core.errors import BankNotFound
from safestream.media.features.bank import FeatureBank
from safestream.media.features.extract import LocalFeatures, query_features
from safestream.media.features.index import LocalHit
from safestream.store.banks import BankRepository

# Per-frame budget: candidates past it are not verified (the best-voted one always is).
DEFAULT_BUDGET_MS = 40.0


@dataclass
class StageStats:
    """What the stage did, for metrics: frames looked at, matched, and over budget."""

    frames: int = 0
    matched: int = 0
    over_budget: int = 0
    silenced: int = 0  # frames an allowlist (negative bank) match kept silent
    seconds: float = 0.0  # CPU time


class LocalStage:
    """Looks frames up in the feature bank and applies the bank and allowlist rules."""

    def __init__(
        self,
        banks: BankRepository,
        features: FeatureBank,
        *,
        bank_names: Sequence[str] | None = None,
        budget_ms: float = DEFAULT_BUDGET_MS,
        known_banks: Sequence[Bank] | None = None,
    ) -> None:
        self.banks = banks
        self.features = features
        self.budget_ms = budget_ms
        self.stats = StageStats()
        # A server passes the banks it already holds: counting every bank's entries per
        # request scanned the whole entries table for each upload PDQ did not match.
        listed = banks.bank_rules() if known_banks is None else known_banks
        all_banks = {b.name: b for b in listed}
        for name in bank_names or []:
            if name not in all_banks:
                raise BankNotFound(f"no bank named {name!r}")
        wanted = set(bank_names) if bank_names else set(all_banks)
        self._banks = {b.id: b for b in all_banks.values() if b.name in wanted or b.negative}
        self._entries: dict[int, tuple[BankEntry, Bank]] = {}

    def __bool__(self) -> bool:
        return len(self.features.index) > 0

    def match_pixels(self, pixels: npt.NDArray[np.uint8], t: float | None = None) -> list[Match]:
        """Second-stage matches of one RGB or grey frame."""
        if not self:
            return []
        started = time.thread_time()
        return self.match_features(query_features(pixels), t, started=started)

    def match_features(
        self, query: LocalFeatures, t: float | None = None, *, started: float | None = None
    ) -> list[Match]:
        """Second-stage matches of a frame whose features are already extracted.

        The budget counts this thread's CPU time from `started` (default: now)."""
        began = started if started is not None else time.thread_time()
        deadline = began + self.budget_ms / 1000
        hits = self.features.index.search(query, deadline=deadline, always=self.features.negative)
        elapsed = time.thread_time() - began
        self.stats.frames += 1
        self.stats.seconds += elapsed
        if elapsed * 1000 > self.budget_ms:
            self.stats.over_budget += 1
        if any(h.entry_id in self.features.negative for h in hits):
            self.stats.silenced += 1
            return []
        frame = (
            max(round(query.width / query.scale), 1),
            max(round(query.height / query.scale), 1),
        )
        matches = self._matches(hits, t, frame)
        if matches:
            self.stats.matched += 1
        return matches

    def _matches(
        self, hits: list[LocalHit], t: float | None, frame: tuple[int, int]
    ) -> list[Match]:
        missing = [h.entry_id for h in hits if h.entry_id not in self._entries]
        if missing:
            self._entries.update(self.banks.entries_by_id(missing))
        out = []
        for hit in hits:
            found = self._entries.get(hit.entry_id)
            if found is None:
                continue
            entry, bank = found
            if bank.id not in self._banks or bank.negative:
                continue
            v = hit.verification
            extra: dict[str, object] = {
                "inliers": v.inliers,
                "model": v.model,
                "bank_kind": hit.kind,
            }
            if v.transform is not None:
                extra["transform"] = v.transform
            out.append(
                Match(
                    bank=bank.name,
                    entry_id=entry.id,
                    entry_hash=entry.value,
                    distance=0,
                    label=entry.label,
                    variant="local",
                    t=t,
                    extra=extra,
                    stage="local",
                    region=_inside(v.region, frame),
                    coverage=v.coverage,
                    frame_size=frame,
                )
            )
        return out


def _inside(region: tuple[int, int, int, int], frame: tuple[int, int]) -> tuple[int, int, int, int]:
    # Rounding between analysed and source pixels can put an edge one pixel past the frame.
    x, y, w, h = region
    x, y = min(x, frame[0]), min(y, frame[1])
    return (x, y, min(w, frame[0] - x), min(h, frame[1] - y))

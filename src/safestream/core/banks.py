"""Hash banks: named lists of known hashes, and the matches found against them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from safestream.core.errors import InvalidInput


class Classification(StrEnum):
    """The US industry scale (Tech Coalition): A = prepubescent, B = pubescent; 1 explicit, 2 not.

    `UNCLASSIFIED` is for lists whose supplier gives no grade, and `BENIGN` for negative banks.
    """

    A1 = "A1"
    A2 = "A2"
    B1 = "B1"
    B2 = "B2"
    UNCLASSIFIED = "unclassified"
    BENIGN = "benign"


# Internal label words organisations use, mapped to the industry scale for exports.
LABEL_ALIASES: dict[str, Classification] = {
    "a1": Classification.A1,
    "a2": Classification.A2,
    "b1": Classification.B1,
    "b2": Classification.B2,
    "prepubescent_explicit": Classification.A1,
    "prepubescent_non_explicit": Classification.A2,
    "pubescent_explicit": Classification.B1,
    "pubescent_non_explicit": Classification.B2,
    "unclassified": Classification.UNCLASSIFIED,
    "": Classification.UNCLASSIFIED,
    "benign": Classification.BENIGN,
    "allowlist": Classification.BENIGN,
}


def classify_label(label: str | None) -> Classification:
    """Map a free-text internal label to the industry scale, or raise `InvalidInput`."""
    key = (label or "").strip().lower().replace("-", "_").replace(" ", "_")
    try:
        return LABEL_ALIASES[key]
    except KeyError as exc:
        known = ", ".join(sorted(k for k in LABEL_ALIASES if k))
        raise InvalidInput(f"unknown label {label!r}; use one of: {known}") from exc


BANK_KINDS = ("media", "room")


@dataclass(frozen=True)
class Bank:
    """A named list of hashes; a negative bank is an allowlist that suppresses matches."""

    id: int
    name: str
    negative: bool = False
    threshold: int = 31
    source: str = ""
    created_at: datetime | None = None
    entry_count: int = 0
    kind: str = "media"  # "media" or "room" (photos of a place; local features only)
    verified: bool = True  # contents confirmed; set by an administrator (hash-first review)


@dataclass(frozen=True)
class BankEntry:
    """One hash in a bank, with who supplied it and how it is classified."""

    id: int
    bank: str
    signal_type: str
    value: str
    label: Classification = Classification.UNCLASSIFIED
    source: str = ""
    added_at: datetime | None = None
    note: str = ""
    quality: int | None = None
    content_id: str | None = None
    t: float | None = None


@dataclass(frozen=True)
class Match:
    """A query hash found near a bank entry."""

    bank: str
    entry_id: int
    entry_hash: str
    distance: int
    label: Classification
    variant: str = "original"
    t: float | None = None
    extra: dict[str, object] = field(default_factory=dict)
    # Which matching stage found it: "pdq" (whole-image hash) or "local" (keypoints + geometry).
    stage: str = "pdq"
    # Second stage only: where the bank image is in the frame (x, y, width, height in source
    # pixels) and the share of the bank image the frame shows (0..1).
    region: tuple[int, int, int, int] | None = None
    coverage: float | None = None
    # Second stage only: the size (width, height) of the frame `region` is measured in.
    frame_size: tuple[int, int] | None = None

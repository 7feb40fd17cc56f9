"""Classification once, labels derived: one internal grade, every jurisdiction's label from it.

A reviewer records what the material shows (the child's apparent development, the conduct, and
whether it depicts a real child); the scales other organisations use are computed, never entered
a second time:

- US industry scale (Tech Coalition, used by NCMEC): A = prepubescent, B = pubescent;
  1 = a sex act, 2 = lascivious exhibition.
- UK (Sentencing Council, IWF, CAID): A = penetrative activity, sadism or bestiality;
  B = non-penetrative sexual activity; C = other indecent images.
- INTERPOL baseline: a real child, prepubescent (apparently under 13), in a sexual act or with the
  focus on the sexual region: illegal everywhere. Other indecent material is "national" (illegal
  by national law); exploitative material is "not illegal" in the baseline sense.
- Project VIC (US) `Category`: 1 child abuse material, 2 child exploitive / age difficult,
  3 CGI or animation, 0 uncategorized.

A grade that says too little for a scale yields no label on it (an industry "A1" does not say
whether the activity was penetrative, so its UK category stays unknown) rather than a guess.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from safestream.core.errors import InvalidInput


class Development(StrEnum):
    """The child's apparent development."""

    PREPUBESCENT = "prepubescent"
    PUBESCENT = "pubescent"
    UNKNOWN = "unknown"


class Conduct(StrEnum):
    """What the material shows, most severe first."""

    PENETRATIVE = "penetrative"  # includes sadism and bestiality (UK category A)
    SEXUAL_ACTIVITY = "sexual_activity"  # a sex act; penetration not established
    NON_PENETRATIVE = "non_penetrative"  # sexual activity known not to be penetrative
    EXHIBITION = "exhibition"  # lascivious exhibition / indecent posing
    EXPLOITATIVE = "exploitative"  # sexualised but not indecent (NCMEC "exploitative")
    NONE = "none"  # benign: nothing abusive (negative banks)
    UNKNOWN = "unknown"  # not graded yet


class Depiction(StrEnum):
    """Whether a real child is shown."""

    REAL = "real"
    CGI_OR_DRAWN = "cgi_or_drawn"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Grade:
    """The one internal classification of an item."""

    development: Development = Development.UNKNOWN
    conduct: Conduct = Conduct.UNKNOWN
    depiction: Depiction = Depiction.REAL

    @property
    def label(self) -> str:
        """The canonical internal label, e.g. `prepubescent_penetrative` or `exploitative_cgi`."""
        if self.conduct is Conduct.NONE:
            return "benign"
        if self.conduct is Conduct.UNKNOWN:
            return "unclassified"
        if self.conduct is Conduct.EXPLOITATIVE:
            base = "exploitative"
        else:
            base = f"{self.development.value}_{self.conduct.value}"
        return base + _SUFFIXES[self.depiction]


@dataclass(frozen=True)
class DerivedLabels:
    """Every external label of one grade; None where the grade does not determine it."""

    us_industry: str | None  # A1, A2, B1, B2
    uk: str | None  # A, B, C
    interpol: str | None  # baseline, national, not_illegal
    vic_us: int | None  # Project VIC US category


# "_maybe_cgi" before "_cgi": the longer suffix must be tried first.
_SUFFIXES = {Depiction.UNKNOWN: "_maybe_cgi", Depiction.CGI_OR_DRAWN: "_cgi", Depiction.REAL: ""}
_SEXUAL = (Conduct.PENETRATIVE, Conduct.SEXUAL_ACTIVITY, Conduct.NON_PENETRATIVE)
_INDECENT = (*_SEXUAL, Conduct.EXHIBITION)
_COARSE: dict[str, Grade] = {
    "a1": Grade(Development.PREPUBESCENT, Conduct.SEXUAL_ACTIVITY),
    "a2": Grade(Development.PREPUBESCENT, Conduct.EXHIBITION),
    "b1": Grade(Development.PUBESCENT, Conduct.SEXUAL_ACTIVITY),
    "b2": Grade(Development.PUBESCENT, Conduct.EXHIBITION),
    "prepubescent_explicit": Grade(Development.PREPUBESCENT, Conduct.SEXUAL_ACTIVITY),
    "prepubescent_non_explicit": Grade(Development.PREPUBESCENT, Conduct.EXHIBITION),
    "pubescent_explicit": Grade(Development.PUBESCENT, Conduct.SEXUAL_ACTIVITY),
    "pubescent_non_explicit": Grade(Development.PUBESCENT, Conduct.EXHIBITION),
    "exploitative": Grade(Development.UNKNOWN, Conduct.EXPLOITATIVE),
    "benign": Grade(Development.UNKNOWN, Conduct.NONE),
    "allowlist": Grade(Development.UNKNOWN, Conduct.NONE),
    "unclassified": Grade(),
    "": Grade(),
}


def parse_grade(label: str | None) -> Grade:
    """The grade of an internal label (`pubescent_penetrative`, `a1`, `benign`...)."""
    key = (label or "").strip().lower().replace("-", "_").replace(" ", "_")
    depiction = Depiction.REAL
    for kind, suffix in _SUFFIXES.items():
        if suffix and key.endswith(suffix):
            key, depiction = key.removesuffix(suffix), kind
            break
    if key in _COARSE:
        found = _COARSE[key]
        return Grade(found.development, found.conduct, depiction)
    parts = key.split("_", 1)
    try:
        development, conduct = Development(parts[0]), Conduct(parts[1])
    except (ValueError, IndexError) as exc:
        raise InvalidInput(
            f"unknown classification {label!r}: use <development>_<conduct>[_cgi] "
            f"(development: {', '.join(d.value for d in Development)}; conduct: "
            f"{', '.join(c.value for c in Conduct)}), an industry grade A1-B2, "
            "exploitative, benign or unclassified"
        ) from exc
    return Grade(development, conduct, depiction)


def us_industry(grade: Grade) -> str | None:
    """A1, A2, B1 or B2, or None (unknown development, or not indecent)."""
    letter = {Development.PREPUBESCENT: "A", Development.PUBESCENT: "B"}.get(grade.development)
    if letter is None or grade.conduct not in _INDECENT:
        return None
    return letter + ("1" if grade.conduct in _SEXUAL else "2")


def uk_category(grade: Grade) -> str | None:
    """UK category A, B or C, or None when the grade does not say (or nothing is indecent)."""
    return {
        Conduct.PENETRATIVE: "A",
        Conduct.NON_PENETRATIVE: "B",
        Conduct.EXHIBITION: "C",
    }.get(grade.conduct)


def interpol(grade: Grade) -> str | None:
    """`baseline`, `national` or `not_illegal` (None while ungraded)."""
    if grade.conduct is Conduct.UNKNOWN:
        return None
    if grade.conduct in (Conduct.NONE, Conduct.EXPLOITATIVE):
        return "not_illegal"
    real_prepubescent = (
        grade.depiction is Depiction.REAL and grade.development is Development.PREPUBESCENT
    )
    return "baseline" if real_prepubescent else "national"


def vic_us(grade: Grade) -> int | None:
    """Project VIC US category: 1 abuse, 2 exploitive, 3 CGI/animation, 0 uncategorized."""
    if grade.conduct is Conduct.UNKNOWN:
        return 0
    if grade.conduct is Conduct.NONE:
        return None  # benign items are not part of a VICS case
    if grade.depiction is Depiction.CGI_OR_DRAWN:
        return 3
    return 1 if grade.conduct in _INDECENT else 2


def derive(label: str | Grade | None) -> DerivedLabels:
    """Every scale's label for one internal label or grade."""
    grade = label if isinstance(label, Grade) else parse_grade(label)
    return DerivedLabels(us_industry(grade), uk_category(grade), interpol(grade), vic_us(grade))


def grade_from_vic(category: int | None) -> Grade:
    """The grade a Project VIC US category implies (as much as it says)."""
    return {
        1: Grade(Development.UNKNOWN, Conduct.SEXUAL_ACTIVITY),
        2: Grade(Development.UNKNOWN, Conduct.EXPLOITATIVE),
        3: Grade(Development.UNKNOWN, Conduct.SEXUAL_ACTIVITY, Depiction.CGI_OR_DRAWN),
    }.get(category or 0, Grade())

"""Field values NCMEC accepts: schema countries, XML-safe capped text, past times.

Intake accepts more than the CyberTipline schema does (any two letters as a country, any Unicode in
free text, any time), so every value passes through a `FieldCleaner` on its way into a report. The
cleaner never refuses a report: it repairs what it can, drops what it cannot, and records each
change as a note so the reviewer (and the report's own additional information) can see it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from importlib import resources

# Coop caps additional information (and the escalation reason) at 3,000 characters.
MAX_ADDITIONAL_INFO = 3000
MAX_ESCALATION = 3000
# No element of the schema carries a documented limit; identifiers and names are kept short so
# one hostile value cannot make a report huge.
MAX_LINE = 256
TRUNCATION_MARK = " [truncated]"
# NCMEC refuses incident times in the future; Coop clamps them to a second before now.
CLOCK_MARGIN = timedelta(seconds=1)

# Common spellings that are not ISO 3166-1 alpha-2 codes, mapped to the code the schema lists.
COUNTRY_ALIASES: dict[str, str] = {
    "UK": "GB",  # United Kingdom (the ccTLD, not the ISO code)
    "EL": "GR",  # Greece in EU usage
    "TP": "TL",  # East Timor, withdrawn from ISO 3166 in 2002
    "ZR": "CD",  # Zaire, withdrawn 1997
    "BU": "MM",  # Burma, withdrawn 1989
    "YU": "RS",  # Yugoslavia, withdrawn 2003
    "CS": "RS",  # Serbia and Montenegro, withdrawn 2006
}

# XML 1.0 allows tab, line feed, carriage return and most of Unicode; everything else, plus the C1
# controls and DEL (legal XML but noise in a report), is removed.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_LINE_BREAKS = re.compile(r"[\t\r\n]+")
_COUNTRY_TYPE = re.compile(r'<xs:simpleType name="country">(.*?)</xs:simpleType>', flags=re.DOTALL)
_ENUM = re.compile(r'<xs:enumeration value="([A-Z0-9]{2})"')


def schema_text() -> str:
    """The CyberTipline XSD kept with this package (see `schemas/README.md`)."""
    return (
        resources.files("safestream.reports")
        .joinpath("schemas/cyber_tipline.xsd")
        .read_text(encoding="utf-8")
    )


@cache
def schema_countries() -> frozenset[str]:
    """The country codes the schema's `country` type lists (ISO 3166-1 alpha-2 and a few more)."""
    match = _COUNTRY_TYPE.search(schema_text())
    if match is None:  # pragma: no cover - the kept schema has the type
        raise RuntimeError("the CyberTipline schema has no country type")
    return frozenset(_ENUM.findall(match.group(1)))


def ncmec_country(code: str | None) -> str | None:
    """The schema's code for a country as intake stored it, or None when it names none."""
    if not code:
        return None
    text = code.strip().upper()
    text = COUNTRY_ALIASES.get(text, text)
    return text if text in schema_countries() else None


def xml_safe(text: str) -> str:
    """`text` without the characters XML 1.0 cannot carry or that are control characters."""
    return _NOT_XML.sub("", text)


@dataclass
class FieldCleaner:
    """Cleans values for one report at one moment, and notes every change it made."""

    now: datetime
    notes: list[str] = field(default_factory=list)

    def note(self, text: str) -> None:
        """Record a change once."""
        if text not in self.notes:
            self.notes.append(text)

    def line(self, value: str | None, what: str, cap: int = MAX_LINE) -> str | None:
        """A one-line value (identifier, name): controls removed, breaks as spaces, capped."""
        if value is None:
            return None
        text = _LINE_BREAKS.sub(" ", xml_safe(value)).strip()
        if text != value.strip():
            self.note(f"control characters removed from {what}")
        return self._capped(text, what, cap) or None

    def block(self, value: str | None, what: str, cap: int) -> str | None:
        """Free text (descriptions, additional information): controls removed, capped."""
        if value is None:
            return None
        text = xml_safe(value).replace("\r\n", "\n").strip()
        if text != value.replace("\r\n", "\n").strip():
            self.note(f"control characters removed from {what}")
        return self._capped(text, what, cap) or None

    def country(self, code: str | None, what: str) -> str | None:
        """The schema's code for a country; a code the schema lacks is dropped with a note."""
        found = ncmec_country(code)
        if code and found is None:
            self.note(f"{what}: {code!r} is not a country code the CyberTipline accepts; left out")
        elif code and found != code.strip().upper():
            self.note(f"{what}: {code!r} sent as {found!r}")
        return found

    def time(self, value: datetime, what: str) -> str:
        """`value` in UTC as the schema's dateTime, never later than a second before now."""
        aware = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        ceiling = self.now.astimezone(UTC) - CLOCK_MARGIN
        if aware > ceiling:
            self.note(
                f"{what} {aware.isoformat()} was in the future; sent as {ceiling.isoformat()}"
            )
            aware = ceiling
        return aware.replace(microsecond=0).isoformat().replace("+00:00", "Z")

    def _capped(self, text: str, what: str, cap: int) -> str:
        if len(text) <= cap:
            return text
        self.note(f"{what} cut from {len(text):,} to {cap:,} characters")
        return text[: cap - len(TRUNCATION_MARK)].rstrip() + TRUNCATION_MARK

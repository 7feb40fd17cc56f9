"""Offline validation against the CyberTipline XSD kept in `schemas/` (NCMEC's own schema)."""

from __future__ import annotations

from functools import cache

from lxml import etree

from safestream.core.errors import InvalidInput
from safestream.reports.ncmec_fields import schema_text


@cache
def cybertip_schema() -> etree.XMLSchema:
    """The parsed schema (parsed once per process: it is 150 kB)."""
    return etree.XMLSchema(etree.fromstring(schema_text().encode("utf-8")))


def schema_errors(xml: str | bytes) -> list[str]:
    """Why `xml` is not a valid CyberTipline document (empty when it is valid)."""
    data = xml.encode("utf-8") if isinstance(xml, str) else xml
    try:
        doc = etree.fromstring(data, parser=etree.XMLParser(resolve_entities=False))
    except etree.XMLSyntaxError as exc:
        return [f"not well-formed XML: {exc}"]
    schema = cybertip_schema()
    if schema.validate(doc):
        return []
    return [f"line {e.line}: {e.message}" for e in schema.error_log]  # type: ignore[attr-defined]


def require_valid(xml: str | bytes) -> None:
    """Raise `InvalidInput` naming the first problems when `xml` does not validate."""
    errors = schema_errors(xml)
    if errors:
        raise InvalidInput("CyberTipline report does not validate: " + "; ".join(errors[:5]))

"""Routing: which authorities take a case, from a data file mapping countries to authorities."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from safestream.core.cases import Authority
from safestream.core.config import Settings
from safestream.core.errors import InvalidInput
from safestream.core.rule_files import RuleDocument, load_document, validate_document


@dataclass(frozen=True)
class CountryHint:
    """A country tied to a case, and how (location hint, viewer, platform)."""

    country: str
    why: str


@dataclass(frozen=True)
class RoutingTable:
    """Countries and platforms mapped to the authorities that take reports."""

    authorities: dict[str, tuple[str, str]]
    countries: dict[str, tuple[str, ...]]
    platform_countries: dict[str, tuple[str, ...]]
    regions: dict[str, frozenset[str]] = field(default_factory=dict)
    fallback: tuple[str, ...] = ("INTERPOL",)

    def _authority(self, code: str, reason: str) -> Authority:
        name, contact = self.authorities[code]
        return Authority(code=code, name=name, reason=reason, contact=contact)

    def route(
        self, locations: Iterable[CountryHint], platform_country: str | None = None
    ) -> tuple[Authority, ...]:
        """Every authority for these countries, each once with its first reason, else fallback."""
        chosen: dict[str, Authority] = {}

        def add(code: str, reason: str) -> None:
            if code not in chosen:
                chosen[code] = self._authority(code, reason)

        if platform_country:
            for code in self.platform_countries.get(platform_country, ()):
                add(code, f"platform based in {platform_country}")
        for hint in locations:
            for code in self.countries.get(hint.country, ()):
                add(code, f"{hint.why} in {hint.country}")
            for code, members in self.regions.items():
                if hint.country in members:
                    add(code, f"{hint.why} in {hint.country}")
        if not chosen:
            for code in self.fallback:
                add(code, "no national authority known for the case's countries")
        return tuple(chosen.values())


class AuthorityEntry(BaseModel):
    """An authority as written in `routing.yaml`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    contact: str = ""


Codes = list[str]


class RoutingFile(RuleDocument):
    """The document of `routing.yaml`: authorities, and which countries route to them."""

    authorities: dict[str, AuthorityEntry]
    countries: dict[str, Codes] = Field(default_factory=dict)
    platform_countries: dict[str, Codes] = Field(default_factory=dict)
    regions: dict[str, list[str]] = Field(default_factory=dict)
    fallback: Codes = Field(default_factory=list)


def _codes(where: str, value: Codes, known: dict[str, tuple[str, str]]) -> tuple[str, ...]:
    for code in value:
        if code not in known:
            raise InvalidInput(f"routing file: {where}: unknown authority {code!r}")
    return tuple(value)


def parse_table(document: Any, where: str = "routing file") -> RoutingTable:
    """Build a routing table from a parsed YAML document, or raise `InvalidInput`."""
    parsed = validate_document(RoutingFile, document, where)
    authorities = {code: (a.name, a.contact) for code, a in parsed.authorities.items()}

    def mapping(raw: dict[str, Codes], key: str) -> dict[str, tuple[str, ...]]:
        return {k.upper(): _codes(f"{key}.{k}", v, authorities) for k, v in raw.items()}

    for code in parsed.regions:
        if code not in authorities:
            raise InvalidInput(f"routing file: regions: unknown authority {code!r}")
    return RoutingTable(
        authorities=authorities,
        countries=mapping(parsed.countries, "countries"),
        platform_countries=mapping(parsed.platform_countries, "platform_countries"),
        regions={
            code: frozenset(c.upper() for c in members) for code, members in parsed.regions.items()
        },
        fallback=_codes("fallback", parsed.fallback, authorities),
    )


def load_table(path: Path | None = None) -> RoutingTable:
    """Load a routing file; without a path, the packaged default."""
    document = load_document(RoutingFile, path, ("safestream.cases", "data/routing.yaml"))
    return parse_table(document, str(path or "packaged routing.yaml"))


def table_for(settings: Settings) -> RoutingTable:
    """The organisation's routing (`$SAFESTREAM_HOME/routing.yaml`) or the packaged default."""
    custom = settings.home / "routing.yaml"
    return load_table(custom if custom.exists() else None)

"""Routing: which authorities take a case, from a data file mapping countries to authorities."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from safestream.core.cases import Authority
from safestream.core.config import Settings
from safestream.core.errors import InvalidInput


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


def _codes(where: str, value: Any, known: dict[str, tuple[str, str]]) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidInput(f"routing file: {where}: expected a list of authority codes")
    for code in value:
        if code not in known:
            raise InvalidInput(f"routing file: {where}: unknown authority {code!r}")
    return tuple(value)


def parse_table(document: Any) -> RoutingTable:
    """Build a routing table from a parsed YAML document, or raise `InvalidInput`."""
    if not isinstance(document, dict) or not isinstance(document.get("authorities"), dict):
        raise InvalidInput("routing file: expected a mapping with 'authorities'")
    authorities: dict[str, tuple[str, str]] = {}
    for code, info in document["authorities"].items():
        if not isinstance(info, dict) or not info.get("name"):
            raise InvalidInput(f"routing file: authority {code!r} needs a name")
        authorities[str(code)] = (str(info["name"]), str(info.get("contact", "")))

    def mapping(key: str) -> dict[str, tuple[str, ...]]:
        raw = document.get(key) or {}
        if not isinstance(raw, dict):
            raise InvalidInput(f"routing file: {key} must be a mapping")
        return {str(k).upper(): _codes(f"{key}.{k}", v, authorities) for k, v in raw.items()}

    regions = {
        code: frozenset(str(c).upper() for c in members)
        for code, members in (document.get("regions") or {}).items()
    }
    for code in regions:
        if code not in authorities:
            raise InvalidInput(f"routing file: regions: unknown authority {code!r}")
    return RoutingTable(
        authorities=authorities,
        countries=mapping("countries"),
        platform_countries=mapping("platform_countries"),
        regions=regions,
        fallback=_codes("fallback", document.get("fallback", []), authorities),
    )


def load_table(path: Path | None = None) -> RoutingTable:
    """Load a routing file; without a path, the packaged default."""
    if path is None:
        text = (resources.files("safestream.cases") / "data" / "routing.yaml").read_text()
    else:
        text = path.read_text()
    try:
        return parse_table(yaml.safe_load(text))
    except yaml.YAMLError as exc:
        raise InvalidInput(f"routing file is not valid YAML: {exc}") from exc


def table_for(settings: Settings) -> RoutingTable:
    """The organisation's routing (`$SAFESTREAM_HOME/routing.yaml`) or the packaged default."""
    custom = settings.home / "routing.yaml"
    return load_table(custom if custom.exists() else None)

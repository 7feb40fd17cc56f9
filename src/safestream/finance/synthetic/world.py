"""The fixed cast of a synthetic ledger (countries, merchants, payers) and its row columns."""

from __future__ import annotations

from typing import Any

import numpy as np

from safestream.core.errors import InvalidInput
from safestream.finance.countries import load_countries
from safestream.finance.currency import Rates

DAY = 86_400
CHANNELS = ["bank", "remittance", "p2p_wallet", "card", "crypto", "gift_card", "cash"]
CARD = CHANNELS.index("card")
CATEGORIES = [
    "grocery",
    "restaurant",
    "fuel",
    "utilities",
    "retail",
    "pharmacy",
    "transport",
    "entertainment",
    "airline",
    "hotel",
    "atm",
    "jewellery",
    "vpn",
    "livestream_platform",
]
DOMESTIC_CATEGORIES = CATEGORIES[:8]
# Payer populations by their code in `World.kinds`.
DOMESTIC, DIASPORA, TOURIST, OFFENDER = 0, 1, 2, 3
POPULATIONS = ("domestic", "diaspora", "tourist", "offender")
VPN_COUNTRIES = ["US", "NL", "SE", "CH"]
ABROAD_MERCHANTS = 400
SPECIAL_MERCHANTS = 12


def choice(rng: np.random.Generator, weights: dict[Any, float], n: int) -> np.ndarray:
    """`n` keys of `weights` drawn with probabilities proportional to their values."""
    keys = list(weights)
    p = np.array([float(weights[k]) for k in keys])
    return np.asarray(keys, dtype=object)[rng.choice(len(keys), size=n, p=p / p.sum())]


def _ages(rng: np.random.Generator, spec: dict[str, float], n: int) -> np.ndarray:
    ages = rng.normal(spec["mean"], spec["sd"], n).round()
    return np.clip(ages, spec["min"], spec["max"]).astype(np.int16)


def _local_seconds(rng: np.random.Generator, n: int, night_share: float) -> np.ndarray:
    """Seconds after local midnight: night payments fall in 22:00-04:00, the rest in daytime."""
    night = rng.random(n) < night_share
    day_s = rng.uniform(7 * 3600, 22 * 3600, n)
    night_s = rng.uniform(22 * 3600, 28 * 3600, n) % DAY
    return np.where(night, night_s, day_s).astype(np.int64)


class World:
    """The fixed cast of a ledger: countries, merchants, payers and their populations."""

    def __init__(self, config: dict[str, Any], rng: np.random.Generator) -> None:
        self.cfg = config
        countries = load_countries()
        rates = Rates.load()
        self.country_codes = list(countries)
        self.cidx = {c: i for i, c in enumerate(self.country_codes)}
        self.offsets = np.array([countries[c].utc_offset_minutes * 60 for c in self.country_codes])
        self.currencies = sorted({countries[c].currency for c in self.country_codes})
        self.currency_of_country = np.array(
            [self.currencies.index(countries[c].currency) for c in self.country_codes]
        )
        self.usd_rates = np.array([rates.to_usd(c) for c in self.currencies])
        self.days = int(config["days"])
        self._add_merchants(int(config["domestic"]["merchants_per_country"]))
        self.person_offset = len(self.payee_names)
        self.person_labels: list[tuple[str, str]] = []
        self.person_country: list[int] = []
        self._add_payers(config, rng)

    def _add_merchants(self, pool: int) -> None:
        """A domestic pool per source country and a smaller pool abroad, then special shops."""
        payees: list[str] = []
        self.merchant_base: dict[tuple[str, str], tuple[int, int]] = {}
        for code in self.country_codes:
            for kind, size in (("home", pool), ("abroad", ABROAD_MERCHANTS)):
                self.merchant_base[(code, kind)] = (len(payees), size)
                payees.extend(f"M{code}{kind[0]}{k:05d}" for k in range(size))
            self.merchant_base[(code, "airline")] = (len(payees), SPECIAL_MERCHANTS)
            payees.extend(f"M{code}a{k:03d}" for k in range(SPECIAL_MERCHANTS))
        for code in VPN_COUNTRIES:
            self.merchant_base[(code, "vpn")] = (len(payees), SPECIAL_MERCHANTS)
            payees.extend(f"M{code}v{k:03d}" for k in range(SPECIAL_MERCHANTS))
        self.merchant_base[("US", "livestream")] = (len(payees), SPECIAL_MERCHANTS)
        payees.extend(f"MUSl{k:03d}" for k in range(SPECIAL_MERCHANTS))
        self.payee_names = payees

    def _add_payers(self, config: dict[str, Any], rng: np.random.Generator) -> None:
        n = int(config["payers"])
        if n < 1:
            raise InvalidInput("payers must be at least 1")
        self.n_payers = n
        self.payer_names = [f"P{k:08d}" for k in range(n)]
        shares = config["population"]
        kinds = np.zeros(n, dtype=np.int8)
        order = rng.permutation(n)
        n_off = max(1, round(n * float(shares["offender"])))
        n_dia = round(n * float(shares["diaspora"]))
        n_tour = round(n * float(shares["tourist"]))
        kinds[order[:n_off]] = OFFENDER
        kinds[order[n_off : n_off + n_dia]] = DIASPORA
        kinds[order[n_off + n_dia : n_off + n_dia + n_tour]] = TOURIST
        self.kinds = kinds
        self.country = np.array(
            [self.cidx[c] for c in choice(rng, config["source_countries"], n)], dtype=np.int16
        )
        ages = _ages(rng, config["domestic"]["age"], n)
        for kind_id, key in ((DIASPORA, "diaspora"), (TOURIST, "tourist"), (OFFENDER, "offender")):
            mask = kinds == kind_id
            ages[mask] = _ages(rng, config[key]["age"], int(mask.sum()))
        self.ages = ages

    def new_persons(self, country: np.ndarray, label: str) -> np.ndarray:
        """Create person payees (relatives, facilitators) in the given countries."""
        first = len(self.payee_names)
        ids = np.arange(first, first + len(country))
        self.payee_names.extend(f"R{k:08d}" for k in ids)
        self.person_labels.extend((f"R{k:08d}", label) for k in ids)
        self.person_country.extend(int(c) for c in country)
        return ids

    def merchants(self, rng: np.random.Generator, country: np.ndarray, kind: str) -> np.ndarray:
        """A random merchant of `kind` in each given country."""
        out = np.empty(len(country), dtype=np.int64)
        for c in np.unique(country):
            mask = country == c
            base, size = self.merchant_base[(self.country_codes[int(c)], kind)]
            out[mask] = base + rng.integers(0, size, int(mask.sum()))
        return out


def payments(
    world: World,
    rng: np.random.Generator,
    payer: np.ndarray,
    day: np.ndarray,
    night_share: float,
    payee: np.ndarray,
    payee_country: np.ndarray,
    usd: np.ndarray,
    channel: np.ndarray | int,
    memo: np.ndarray | int = -1,
    category: np.ndarray | int = -1,
    round_to: np.ndarray | float = 0.0,
) -> dict[str, np.ndarray]:
    """Columns of rows paid by `payer` on whole `day`s, at a local hour drawn for the population."""
    n = len(payer)
    payer_country = world.country[payer]
    t = (
        np.floor(day).astype(np.int64) * DAY
        + _local_seconds(rng, n, night_share)
        - world.offsets[payer_country]
    )
    return {
        "t": t,
        "payer": payer,
        "payer_country": payer_country,
        "payee": payee,
        "payee_country": payee_country.astype(np.int16),
        "usd": np.maximum(np.asarray(usd, dtype=np.float64), 0.5),
        "channel": np.asarray(channel, dtype=np.int8),
        "memo": np.asarray(memo, dtype=np.int16),
        "category": np.asarray(category, dtype=np.int8),
        "round": np.asarray(round_to, dtype=np.float64),
    }

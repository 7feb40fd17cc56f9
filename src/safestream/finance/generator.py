"""Synthetic ledgers: offenders, facilitators and the benign traffic that hides them.

Populations (shares and figures in `generator.yaml`, calibrated on the reference sheet):
- domestic spending by every payer (cards, bills, wallets), with some VPN and live-stream buyers;
- diaspora family senders: regular remittances to relatives in the same high-risk countries, with
  the same amounts and memos offenders use, plus trips home;
- tourists: trips to the same countries (airfare, hotels, cash);
- offenders: one-off, occasional and prolific payers of facilitators (prolific ones escalate:
  larger amounts at shorter gaps), some buying VPNs or live-stream tokens, some travelling to the
  destination after their payments;
- facilitators: payees receiving from several offenders, some also from family senders.

Rows are built with vectorised numpy per population; only offenders (well under 1% of payers)
are built per person. The ledger is written as Parquet or CSV in payer chunks, and a separate
label file names every payer's population and every facilitator and family recipient.
"""

from __future__ import annotations

import copy
import csv
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import yaml

from safestream.core.errors import InvalidInput
from safestream.finance.countries import load_countries
from safestream.finance.currency import Rates

DAY = 86_400
CHANNELS = ["bank", "remittance", "p2p_wallet", "card", "crypto", "gift_card", "cash"]
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
DOMESTIC_KINDS = ("domestic", "diaspora", "tourist", "offender")
OFFENDER_KINDS = ("one_off", "occasional", "prolific")
VPN_COUNTRIES = ["US", "NL", "SE", "CH"]
ABROAD_MERCHANTS = 400
SPECIAL_MERCHANTS = 12


def load_config(path: Path | None = None) -> dict[str, Any]:
    """The default parameters, deep-merged with the YAML file at `path` if given."""
    text = resources.files("safestream.finance").joinpath("generator.yaml").read_text()
    config: dict[str, Any] = yaml.safe_load(text)
    if path is not None:
        try:
            override = yaml.safe_load(Path(path).read_text()) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise InvalidInput(f"cannot read generator config {path}: {exc}") from exc
        if not isinstance(override, dict):
            raise InvalidInput(f"{path}: generator config must be a mapping")
        config = _merge(config, override)
    return config


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if key not in merged:
            raise InvalidInput(f"unknown generator parameter {key!r}")
        if isinstance(value, dict) and isinstance(merged[key], dict) and key not in _FREE_MAPS:
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


# Mappings whose keys are data (countries, channels), replaced whole rather than merged.
_FREE_MAPS = {"source_countries", "destinations", "origins", "channels", "kinds", "interval_days"}


@dataclass(frozen=True)
class GenerateSummary:
    """What a generator run wrote."""

    rows: int
    payers: int
    offenders: int
    facilitators: int
    seconds: float


def _choice(rng: np.random.Generator, weights: dict[Any, float], n: int) -> np.ndarray:
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


class _Ledger:
    """Accumulates generated rows as index arrays and writes them in chunks."""

    def __init__(self, out: Path, start: int, vocab: dict[str, list[str]]) -> None:
        self.out = out
        self.start = start
        self.vocab: dict[str, pa.Array] = {k: pa.array(v, pa.string()) for k, v in vocab.items()}
        self.parts: list[dict[str, np.ndarray]] = []
        self.rows = 0
        self.writer: pq.ParquetWriter | pacsv.CSVWriter | None = None
        self.is_csv = out.suffix.lower() == ".csv"

    def add(self, **cols: np.ndarray) -> None:
        n = len(cols["t"])
        if n:
            self.parts.append({k: np.broadcast_to(v, (n,)) for k, v in cols.items()})

    def flush(self, rates: np.ndarray, currency_of_country: np.ndarray, ages: np.ndarray) -> None:
        if not self.parts:
            return
        cols = {k: np.concatenate([p[k] for p in self.parts]) for k in self.parts[0]}
        self.parts = []
        n = len(cols["t"])
        cur = currency_of_country[cols["payer_country"]]
        local = cols["usd"] / rates[cur]
        round_to = cols["round"]
        amount = np.where(
            round_to > 0, np.maximum(np.round(local / np.maximum(round_to, 1)), 1) * round_to, local
        )
        amount = np.round(amount, 2)
        ts = (self.start + cols["t"]) * 1_000_000
        memo_idx = cols["memo"]
        cat_idx = cols["category"]
        table = pa.table(
            {
                "tx_id": pa.array(np.arange(self.rows + 1, self.rows + n + 1, dtype=np.int64)),
                "ts": pa.array(ts, pa.timestamp("us", tz="UTC")),
                "payer_id": self.vocab["payer"].take(cols["payer"]),
                "payer_country": self.vocab["country"].take(cols["payer_country"]),
                "payee_id": self.vocab["payee"].take(cols["payee"]),
                "payee_country": self.vocab["country"].take(cols["payee_country"]),
                "amount": pa.array(amount),
                "currency": self.vocab["currency"].take(cur),
                "channel": self.vocab["channel"].take(cols["channel"]),
                "memo": self.vocab["memo"].take(pa.array(memo_idx, mask=memo_idx < 0)),
                "merchant_category": self.vocab["category"].take(
                    pa.array(cat_idx, mask=cat_idx < 0)
                ),
                "payer_age": pa.array(ages[cols["payer"]].astype(np.int32)),
            }
        )
        self.rows += n
        if self.writer is None:
            if self.is_csv:
                table = table.set_column(
                    1, "ts", pa.compute.strftime(table["ts"], "%Y-%m-%dT%H:%M:%SZ")
                )
                self.writer = pacsv.CSVWriter(self.out, table.schema)
            else:
                self.writer = pq.ParquetWriter(self.out, table.schema, compression="zstd")
        elif self.is_csv:
            table = table.set_column(
                1, "ts", pa.compute.strftime(table["ts"], "%Y-%m-%dT%H:%M:%SZ")
            )
        self.writer.write_table(table)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


class _World:
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
        # Merchants: a domestic pool per source country and a smaller pool abroad.
        payees: list[str] = []
        self.merchant_base: dict[tuple[str, str], tuple[int, int]] = {}
        pool = int(config["domestic"]["merchants_per_country"])
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
        self.person_offset = len(payees)
        self.person_labels: list[tuple[str, str]] = []
        self.person_country: list[int] = []
        # Payers.
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
        kinds[order[:n_off]] = 3
        kinds[order[n_off : n_off + n_dia]] = 1
        kinds[order[n_off + n_dia : n_off + n_dia + n_tour]] = 2
        self.kinds = kinds
        self.country = np.array(
            [self.cidx[c] for c in _choice(rng, config["source_countries"], n)], dtype=np.int16
        )
        ages = _ages(rng, config["domestic"]["age"], n)
        for kind_id, key in ((1, "diaspora"), (2, "tourist"), (3, "offender")):
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


def _cols(
    world: _World,
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


def _domestic(world: _World, rng: np.random.Generator, payers: np.ndarray, ledger: _Ledger) -> None:
    cfg = world.cfg["domestic"]
    months = world.days / 30.4
    counts = rng.poisson(float(cfg["tx_per_month"]) * months, len(payers))
    payer = np.repeat(payers, counts)
    n = len(payer)
    channel = rng.choice([3, 0, 2], size=n, p=[0.75, 0.15, 0.10])
    category = np.where(
        channel == 0,
        DOMESTIC_CATEGORIES.index("utilities"),
        rng.integers(0, len(DOMESTIC_CATEGORIES), n),
    )
    country = world.country[payer]
    ledger.add(
        **_cols(
            world,
            rng,
            payer,
            rng.integers(0, world.days, n),
            float(cfg["night_share"]),
            world.merchants(rng, country, "home"),
            country,
            rng.lognormal(np.log(float(cfg["amount_usd_median"])), float(cfg["amount_sigma"]), n),
            channel,
            category=category,
        )
    )
    # Ordinary VPN and live-stream subscribers, so those purchases alone prove nothing.
    vpn = payers[rng.random(len(payers)) < float(cfg["vpn_buyer_share"])]
    _subscriptions(world, rng, vpn, "vpn", ledger)
    live = payers[rng.random(len(payers)) < float(cfg["livestream_buyer_share"])]
    _subscriptions(world, rng, live, "livestream", ledger)


def _subscriptions(
    world: _World, rng: np.random.Generator, payers: np.ndarray, kind: str, ledger: _Ledger
) -> None:
    """Monthly VPN fees or a handful of live-stream token purchases per payer."""
    if not len(payers):
        return
    if kind == "vpn":
        first = rng.integers(0, max(world.days - 60, 1), len(payers))
        counts = np.maximum((world.days - first) // 30, 1)
    else:
        first = rng.integers(0, max(world.days - 60, 1), len(payers))
        counts = rng.integers(2, 10, len(payers))
    payer = np.repeat(payers, counts)
    k = np.arange(len(payer)) - np.repeat(np.cumsum(counts) - counts, counts)
    step = 30 if kind == "vpn" else rng.integers(3, 30, len(payer))
    day = np.minimum(np.repeat(first, counts) + k * step, world.days - 1)
    if kind == "vpn":
        where = np.array([world.cidx[c] for c in rng.choice(VPN_COUNTRIES, len(payers))])
        country = np.repeat(where, counts)
        payee = world.merchants(rng, country, "vpn")
        usd = rng.uniform(5, 13, len(payer))
        category = CATEGORIES.index("vpn")
    else:
        country = np.full(len(payer), world.cidx["US"])
        payee = world.merchants(rng, country, "livestream")
        usd = rng.uniform(15, 90, len(payer))
        category = CATEGORIES.index("livestream_platform")
    ledger.add(**_cols(world, rng, payer, day, 0.25, payee, country, usd, 3, category=category))


def _trips(
    world: _World,
    rng: np.random.Generator,
    payer: np.ndarray,
    dest: np.ndarray,
    start: np.ndarray,
    length: np.ndarray,
    ledger: _Ledger,
    jewellery_share: float = 0.0,
) -> None:
    """Airfare before, a hotel on arrival, daily card spending and cash withdrawals abroad."""
    keep = start < world.days
    payer, dest, start, length = payer[keep], dest[keep], start[keep], length[keep]
    n = len(payer)
    if not n:
        return
    card = 3
    fare_day = np.maximum(start - rng.integers(7, 60, n), 0)
    ledger.add(
        **_cols(
            world,
            rng,
            payer,
            fare_day,
            0.1,
            world.merchants(rng, dest, "airline"),
            dest,
            rng.lognormal(np.log(900), 0.3, n),
            card,
            category=CATEGORIES.index("airline"),
        )
    )
    ledger.add(
        **_cols(
            world,
            rng,
            payer,
            start,
            0.1,
            world.merchants(rng, dest, "abroad"),
            dest,
            length * rng.uniform(40, 150, n),
            card,
            category=CATEGORIES.index("hotel"),
        )
    )
    spend = 2 * length
    p = np.repeat(payer, spend)
    d = np.repeat(dest, spend)
    day = np.repeat(start, spend) + rng.integers(0, np.repeat(length, spend))
    ledger.add(
        **_cols(
            world,
            rng,
            p,
            np.minimum(day, world.days - 1),
            0.15,
            world.merchants(rng, d, "abroad"),
            d,
            rng.lognormal(np.log(30), 0.6, len(p)),
            card,
            category=rng.choice(
                [CATEGORIES.index("restaurant"), CATEGORIES.index("retail")], len(p)
            ),
        )
    )
    cash = 1 + rng.poisson(length / 5)
    p = np.repeat(payer, cash)
    d = np.repeat(dest, cash)
    day = np.repeat(start, cash) + rng.integers(0, np.repeat(length, cash))
    ledger.add(
        **_cols(
            world,
            rng,
            p,
            np.minimum(day, world.days - 1),
            0.1,
            world.merchants(rng, d, "abroad"),
            d,
            rng.uniform(100, 300, len(p)),
            CHANNELS.index("cash"),
            category=CATEGORIES.index("atm"),
        )
    )
    jewel = rng.random(n) < jewellery_share
    if jewel.any():
        ledger.add(
            **_cols(
                world,
                rng,
                payer[jewel],
                np.minimum(start[jewel] + 2, world.days - 1),
                0.1,
                world.merchants(rng, dest[jewel], "abroad"),
                dest[jewel],
                rng.uniform(150, 900, int(jewel.sum())),
                card,
                category=CATEGORIES.index("jewellery"),
            )
        )


def _tourists(world: _World, rng: np.random.Generator, payers: np.ndarray, ledger: _Ledger) -> None:
    cfg = world.cfg["tourist"]
    trips = rng.poisson(float(cfg["trips_per_year"]) * world.days / 365, len(payers))
    payer = np.repeat(payers, trips)
    dest = np.array([world.cidx[c] for c in _choice(rng, cfg["destinations"], len(payer))])
    lo, hi = cfg["trip_days"]
    _trips(
        world,
        rng,
        payer,
        dest.astype(np.int64),
        rng.integers(0, world.days, len(payer)),
        rng.integers(int(lo), int(hi), len(payer)),
        ledger,
    )


@dataclass
class _Diaspora:
    """Per-sender plan of family remittances, fixed before rows are generated in chunks."""

    origin: np.ndarray
    recipients: list[np.ndarray]


def _plan_diaspora(world: _World, rng: np.random.Generator, facilitators: np.ndarray) -> _Diaspora:
    cfg = world.cfg["diaspora"]
    senders = np.flatnonzero(world.kinds == 1)
    origin_codes = _choice(rng, cfg["origins"], len(senders))
    origin = np.array([world.cidx[c] for c in origin_codes], dtype=np.int64)
    extra = rng.poisson(float(cfg["extra_recipients_mean"]), len(senders))
    own = world.new_persons(np.repeat(origin, 1 + extra), "family")
    bounds = np.cumsum(1 + extra)
    recipients = np.split(own, bounds[:-1])
    by_origin: dict[int, list[int]] = {}
    for i, c in enumerate(origin):
        by_origin.setdefault(int(c), []).append(i)
    # Siblings abroad: some senders also support a relative another sender supports.
    for s in np.flatnonzero(rng.random(len(senders)) < float(cfg["shared_recipient_share"])):
        peers = by_origin[int(origin[s])]
        j = peers[int(rng.integers(0, len(peers)))]
        recipients[s] = np.append(recipients[s], recipients[j][0])
    # Family operations: some facilitators are also someone's relative.
    fac_country = np.array([world.person_country[f - world.person_offset] for f in facilitators])
    for f, c in zip(facilitators, fac_country, strict=True):
        if rng.random() < float(world.cfg["facilitator"]["family_sender_share"]):
            family = by_origin.get(int(c))
            if family:
                i = family[int(rng.integers(0, len(family)))]
                recipients[i] = np.append(recipients[i], f)
    full = np.full(world.n_payers, -1, dtype=np.int64)
    full[senders] = origin
    plan_recipients: list[np.ndarray] = [np.empty(0, np.int64)] * world.n_payers
    for i, s in enumerate(senders):
        plan_recipients[s] = recipients[i]
    return _Diaspora(full, plan_recipients)


def _diaspora(
    world: _World,
    rng: np.random.Generator,
    payers: np.ndarray,
    plan: _Diaspora,
    memo_family: list[int],
    ledger: _Ledger,
) -> None:
    cfg = world.cfg["diaspora"]
    if not len(payers):
        return
    interval = _choice(rng, cfg["interval_days"], len(payers)).astype(np.float64)
    first = rng.uniform(0, interval)
    counts = np.maximum(((world.days - 1 - first) // interval).astype(np.int64) + 1, 0)
    base = rng.lognormal(
        np.log(float(cfg["amount_usd_median"])), float(cfg["amount_sigma"]), len(payers)
    )
    channel_pref = np.array(
        [CHANNELS.index(c) for c in _choice(rng, cfg["channels"], len(payers))], dtype=np.int8
    )
    payer = np.repeat(payers, counts)
    row_sender = np.repeat(np.arange(len(payers)), counts)
    k = np.arange(len(payer)) - np.repeat(np.cumsum(counts) - counts, counts)
    day = np.clip(
        np.repeat(first, counts) + k * np.repeat(interval, counts) + rng.normal(0, 1.5, len(payer)),
        0,
        world.days - 1,
    )
    n_rec = np.array([len(plan.recipients[p]) for p in payers])
    pick = (rng.random(len(payer)) * n_rec[row_sender]).astype(np.int64)
    offsets = np.cumsum(n_rec) - n_rec
    flat = np.concatenate([plan.recipients[p] for p in payers])
    payee = flat[offsets[row_sender] + pick]
    channel = np.where(
        rng.random(len(payer)) < 0.85, channel_pref[row_sender], rng.choice([0, 1, 2], len(payer))
    )
    rounded = rng.random(len(payers)) < float(cfg["round_amount_share"])
    ledger.add(
        **_cols(
            world,
            rng,
            payer,
            day,
            float(cfg["night_share"]),
            payee,
            plan.origin[payer],
            base[row_sender] * rng.lognormal(0, 0.15, len(payer)),
            channel,
            memo=np.asarray(memo_family)[rng.integers(0, len(memo_family), len(payer))],
            round_to=np.where(rounded[row_sender], 10.0, 0.0),
        )
    )
    trips = rng.poisson(float(cfg["trips_per_year"]) * world.days / 365, len(payers))
    tp = np.repeat(payers, trips)
    _trips(
        world,
        rng,
        tp,
        plan.origin[tp],
        rng.integers(0, world.days, len(tp)),
        rng.integers(7, 28, len(tp)),
        ledger,
    )


@dataclass
class _Offenders:
    ids: np.ndarray
    kind: list[str]
    facilitators: np.ndarray


def _offenders(
    world: _World, rng: np.random.Generator, memo_cover: list[int], ledger: _Ledger
) -> _Offenders:
    """Build every offender's payments (per person: they are few), travel and purchases."""
    cfg = world.cfg["offender"]
    ids = np.flatnonzero(world.kinds == 3)
    kinds = list(_choice(rng, cfg["kinds"], len(ids)))
    dest_codes = list(_choice(rng, cfg["destinations"], len(ids)))
    # Facilitators per destination, with a few popular hubs (Zipf-like popularity).
    per_fac = float(world.cfg["facilitator"]["offenders_per_facilitator"])
    fac_by_country: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for code in sorted(set(dest_codes)):
        n_fac = max(1, round(dest_codes.count(code) / per_fac))
        facs = world.new_persons(np.full(n_fac, world.cidx[code]), "facilitator")
        weight = 1.0 / np.arange(1, n_fac + 1) ** 0.8
        fac_by_country[code] = (facs, weight / weight.sum())
    channels = [CHANNELS.index(c) for c in cfg["channels"]]
    channel_p = np.array(list(cfg["channels"].values()), dtype=float)
    channel_p /= channel_p.sum()
    trips: list[tuple[int, int, int, int]] = []
    vpn: list[int] = []
    live: list[int] = []
    days = world.days
    for payer, kind, code in zip(ids, kinds, dest_codes, strict=True):
        if kind == "one_off":
            n = 1
        elif kind == "occasional":
            n = min(
                2 + int(rng.geometric(1 / (1 + float(cfg["occasional_mean_extra_tx"])))) - 1, 20
            )
        else:
            n = min(
                21
                + round(
                    rng.lognormal(
                        np.log(float(cfg["prolific_tx_median"])), float(cfg["prolific_tx_sigma"])
                    )
                ),
                int(cfg["prolific_tx_max"]),
            )
        if kind == "prolific":
            gaps = np.geomspace(
                float(cfg["first_gap_days"]), float(cfg["last_gap_days"]), max(n - 1, 1)
            )
            gaps = gaps[: n - 1] * rng.lognormal(0, 0.3, n - 1)
            span_limit = days * 0.85
            if gaps.sum() > span_limit:
                gaps *= span_limit / gaps.sum()
            start = rng.uniform(30, max(days - gaps.sum() - 1, 31))
            growth = np.linspace(0, 1, n) * np.log(float(cfg["escalation_amount_ratio"]))
            usd = float(cfg["prolific_amount_usd_median"]) * np.exp(growth - np.median(growth))
        else:
            gaps = rng.exponential(float(cfg["occasional_gap_days"]), n - 1)
            start = rng.uniform(60, max(days - gaps.sum() - 1, 61))
            usd = np.full(n, float(cfg["amount_usd_median"]))
        day = np.minimum(start + np.concatenate([[0.0], np.cumsum(gaps)]), days - 1)
        usd = usd * rng.lognormal(0, float(cfg["amount_sigma"]), n)
        extra = float(
            cfg["prolific_extra_payees_mean" if kind == "prolific" else "extra_payees_mean"]
        )
        facs, weight = fac_by_country[code]
        k = min(1 + int(rng.poisson(extra)), len(facs))
        mine = rng.choice(facs, size=k, replace=False, p=weight)
        payees = mine[rng.integers(0, k, n)]
        preferred = channels[int(rng.choice(len(channels), p=channel_p))]
        channel = np.where(
            rng.random(n) < 0.7,
            preferred,
            np.asarray(channels)[rng.choice(len(channels), n, p=channel_p)],
        )
        memo = np.where(
            rng.random(n) < float(cfg["cover_memo_share"]),
            np.asarray(memo_cover)[rng.integers(0, len(memo_cover), n)],
            -1,
        )
        country = np.full(n, world.cidx[code])
        ledger.add(
            **_cols(
                world,
                rng,
                np.full(n, payer),
                day,
                float(cfg["night_share"]),
                payees,
                country,
                usd,
                channel,
                memo=memo,
                round_to=np.where(rng.random(n) < 0.5, 10.0, 0.0),
            )
        )
        if kind != "one_off" and rng.random() < float(cfg["travel_share"]):
            trips.append(
                (
                    int(payer),
                    world.cidx[code],
                    int(day[-1] + rng.integers(5, 25)),
                    int(rng.integers(7, 22)),
                )
            )
        if rng.random() < float(cfg["vpn_share"]):
            vpn.append(int(payer))
        if rng.random() < float(cfg["livestream_share"]):
            live.append(int(payer))
    if trips:
        arr = np.array(trips, dtype=np.int64)
        _trips(world, rng, arr[:, 0], arr[:, 1], arr[:, 2], arr[:, 3], ledger, jewellery_share=0.5)
    _subscriptions(world, rng, np.array(vpn, dtype=np.int64), "vpn", ledger)
    _subscriptions(world, rng, np.array(live, dtype=np.int64), "livestream", ledger)
    all_facs = np.concatenate([f for f, _ in fac_by_country.values()])
    return _Offenders(ids, kinds, all_facs)


def generate(
    out: Path, labels: Path, seed: int, config: dict[str, Any] | None = None
) -> GenerateSummary:
    """Write a synthetic ledger to `out` (.parquet or .csv) and its labels to `labels` (CSV)."""
    import time

    began = time.perf_counter()
    cfg = config if config is not None else load_config()
    if Path(out).suffix.lower() not in (".parquet", ".pq", ".csv"):
        raise InvalidInput(f"{out}: ledger must be .parquet or .csv")
    rng = np.random.default_rng(seed)
    world = _World(cfg, rng)
    memos = list(dict.fromkeys([*cfg["memos"]["cover"], *cfg["memos"]["family"]]))
    memo_cover = [memos.index(m) for m in cfg["memos"]["cover"]]
    memo_family = [memos.index(m) if m else -1 for m in cfg["memos"]["family"]]
    start = int(datetime.fromisoformat(str(cfg["start"])).replace(tzinfo=UTC).timestamp())
    # Offenders and facilitators first: the diaspora plan links some relatives to facilitators.
    # Names of payees are known only once every person exists, so rows wait for the vocabulary.
    ledger = _Ledger(Path(out), start, {})
    offenders = _offenders(world, rng, memo_cover, ledger)
    plan = _plan_diaspora(world, rng, offenders.facilitators)
    ledger.vocab = {
        "payer": pa.array(world.payer_names, pa.string()),
        "payee": pa.array(world.payee_names, pa.string()),
        "country": pa.array(world.country_codes, pa.string()),
        "currency": pa.array(world.currencies, pa.string()),
        "channel": pa.array(CHANNELS, pa.string()),
        "memo": pa.array(memos, pa.string()),
        "category": pa.array(CATEGORIES, pa.string()),
    }
    chunk = int(cfg["rows_per_chunk_payers"])
    try:
        ledger.flush(world.usd_rates, world.currency_of_country, world.ages)
        for lo in range(0, world.n_payers, chunk):
            payers = np.arange(lo, min(lo + chunk, world.n_payers))
            _domestic(world, rng, payers, ledger)
            _diaspora(world, rng, payers[world.kinds[payers] == 1], plan, memo_family, ledger)
            _tourists(world, rng, payers[world.kinds[payers] == 2], ledger)
            ledger.flush(world.usd_rates, world.currency_of_country, world.ages)
    finally:
        ledger.close()
    _write_labels(Path(labels), world, offenders)
    return GenerateSummary(
        rows=ledger.rows,
        payers=world.n_payers,
        offenders=len(offenders.ids),
        facilitators=len(offenders.facilitators),
        seconds=time.perf_counter() - began,
    )


def _write_labels(path: Path, world: _World, offenders: _Offenders) -> None:
    """One row per payer (its population) and per person payee (facilitator or family)."""
    kind_of = dict(zip(offenders.ids.tolist(), offenders.kind, strict=True))
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["account_id", "role", "label", "kind"])
        for i, name in enumerate(world.payer_names):
            label = DOMESTIC_KINDS[int(world.kinds[i])]
            writer.writerow([name, "payer", label, kind_of.get(i, "")])
        for name, label in world.person_labels:
            writer.writerow([name, "payee", label, ""])

"""A second, independent ledger generator for checking that the score generalises.

`generator` builds the default mix the weights were first tuned on. This module is written
apart from it, with other populations and another structure, so a detector that only fits the
first cannot pass here by accident:
- freelance businesses: companies paying many freelancers and virtual assistants abroad, with
  invoice memos in business hours through wallets; each freelancer works for several companies,
  and companies also pay one-off gigs (small transfers to new payees in high-risk countries);
- families: regular remittances, including sibling groups that all support one parent (a benign
  many-payers-to-one-payee hub) and relationships that start part-way through the year;
- offender rings: facilitator operations of one to four accounts, each with offenders who pay
  one, a few or many times, and sometimes a second ring; how they pay (night share, memos,
  channels) is set per scenario;
- optional donation hubs (one-off small gifts from many payers) and tourists;
- every payer also spends at home, so a payer's profile has a background.

A scenario is a YAML mapping over `DEFAULTS` (see `bench/finance_variants/`). Labels name every
payer's population (`offender` with kind one_off/occasional/prolific) and every person payee
(`facilitator`, `family`, `freelancer`, `charity`).
"""

from __future__ import annotations

import copy
import csv
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from safestream.core.errors import InvalidInput
from safestream.finance.countries import load_countries
from safestream.finance.currency import Rates

DAY = 86_400
DEFAULTS: dict[str, Any] = {
    "payers": 40_000,
    "days": 365,
    "start": "2025-01-01",
    "sources": {"US": 0.45, "AU": 0.12, "GB": 0.1, "CA": 0.08, "DE": 0.06, "NO": 0.04,
                "SE": 0.04, "NL": 0.04, "JP": 0.03, "SG": 0.04},
    "domestic_tx_mean": 20,
    "tourist_share": 0.03,
    "family": {"share": 0.15, "destinations": {"PH": 0.5, "IN": 0.15, "MX": 0.12, "VN": 0.08,
                                                "TH": 0.05, "CO": 0.05, "DO": 0.05},
               "sibling_group_share": 0.1, "late_start_share": 0.2, "night_share": 0.12,
               "amount_median": 150, "channels": {"remittance": 0.5, "bank": 0.3,
                                                  "p2p_wallet": 0.2}},
    "business": {"share": 0.02, "freelancers_median": 6, "clients_per_freelancer": 1.8,
                 "destinations": {"PH": 0.6, "IN": 0.2, "VN": 0.1, "CO": 0.1},
                 "amount_median": 120, "gigs_mean": 4, "after_hours_share": 0.08},
    "offenders": {"count": 180, "facilitators": 66, "ring_size_max": 4,
                  "kinds": {"one_off": 0.45, "occasional": 0.45, "prolific": 0.10},
                  "destinations": {"PH": 0.75, "TH": 0.08, "CO": 0.07, "DO": 0.05, "MX": 0.05},
                  "night_share": 0.45, "cover_memo_share": 0.5, "handle_memo_share": 0.1,
                  "amount_median": 40, "second_ring_share": 0.15, "extra_payees_mean": 0.7,
                  "channels": {"remittance": 0.45, "p2p_wallet": 0.3, "bank": 0.2, "crypto": 0.05},
                  "vpn_share": 0.2, "travel_share": 0.2, "facilitator_family_share": 0.3},
    "charity": {"hubs": 0, "donors_per_hub": 300},
}  # fmt: skip
COVER = ["school fees", "gift", "medical bills", "for the kids", "allowance", "accommodation",
         "uniform", "family support", "help", ""]  # fmt: skip
FAMILY = ["family support", "for mama", "rent", "groceries", "allowance", "birthday",
          "school fees", "medical bills", "", ""]  # fmt: skip
INVOICE = ["INV-{n}", "Invoice {n}", "invoice #{n}", "VA services {m}", "payroll {m}",
           "contract work {m}", "retainer {m}", "{m} hours", "salary {m}"]  # fmt: skip
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
OFFENDER_KINDS = ("one_off", "occasional", "prolific")


def load_scenario(path: Path | None) -> dict[str, Any]:
    """`DEFAULTS` deep-merged with the scenario YAML at `path`."""
    cfg = copy.deepcopy(DEFAULTS)
    if path is None:
        return cfg
    try:
        raw = yaml.safe_load(Path(path).read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise InvalidInput(f"cannot read scenario {path}: {exc}") from exc
    if not isinstance(raw.get("sources", {}), dict) or not all(
        isinstance(k, str) for k in raw.get("sources", {})
    ):
        # YAML reads a bare NO (Norway) as false: country codes must be quoted there.
        raise InvalidInput(f"{path}: country codes in sources must be strings (quote NO)")
    for key, value in raw.items():
        if key in ("name", "held_out", "about", "seed"):
            continue
        if key not in cfg:
            raise InvalidInput(f"{path}: unknown scenario key {key!r}")
        if isinstance(value, dict) and isinstance(cfg[key], dict) and key != "sources":
            for k, v in value.items():
                if k not in cfg[key]:
                    raise InvalidInput(f"{path}: unknown scenario key {key}.{k}")
                cfg[key][k] = v
        else:
            cfg[key] = value
    return cfg


def _pick(rng: np.random.Generator, weights: dict[str, float], n: int) -> np.ndarray:
    keys = list(weights)
    p = np.array([float(weights[k]) for k in keys])
    return np.asarray(keys, dtype=object)[rng.choice(len(keys), size=n, p=p / p.sum())]


@dataclass
class _Book:
    """Rows as they are made, and the cast of accounts (payers and payees) with labels."""

    rng: np.random.Generator
    days: int
    offsets: dict[str, int]
    cols: dict[str, list[Any]] = field(
        default_factory=lambda: {k: [] for k in ("payer", "payee", "pc", "qc", "t", "usd",
                                                 "channel", "memo", "category")}
    )  # fmt: skip
    payer_country: list[str] = field(default_factory=list)
    payer_age: list[float] = field(default_factory=list)
    payer_label: list[tuple[str, str]] = field(default_factory=list)
    payee_label: dict[str, str] = field(default_factory=dict)
    persons: int = 0

    def person(self, label: str) -> str:
        """A new person payee (ids carry no hint of what the person is)."""
        self.persons += 1
        name = f"A{int(self.rng.integers(10**8)):08d}{self.persons:05d}"
        self.payee_label[name] = label
        return name

    def times(self, payer: np.ndarray, day: np.ndarray, habit: str, night: float) -> np.ndarray:
        """UTC seconds for payments on `day` (floats) at a local hour the habit draws."""
        n = len(payer)
        rng = self.rng
        d = np.clip(np.floor(day), 0, self.days - 1).astype(np.int64)
        if habit == "business":  # weekdays, 08:30-17:30
            weekday = (d + 2) % 7  # 2025-01-01 was a Wednesday; 0 = Monday
            d = np.clip(d - np.where(weekday >= 5, weekday - 4, 0), 0, self.days - 1)
            sec = rng.uniform(8.5 * 3600, 17.5 * 3600, n)
        else:
            sec = rng.uniform(7 * 3600, 22 * 3600, n)
        late = rng.random(n) < night
        sec = np.where(late, rng.uniform(22 * 3600, 28 * 3600, n) % DAY, sec)
        off = np.array([self.offsets.get(self.payer_country[p], 0) for p in payer])
        return np.asarray(d * DAY + sec.astype(np.int64) - off)

    def add(
        self,
        payer: np.ndarray,
        payee: list[str] | np.ndarray,
        qc: list[str] | np.ndarray,
        t: np.ndarray,
        usd: np.ndarray,
        channel: list[str] | np.ndarray,
        memo: list[str] | np.ndarray | None = None,
        category: str | None = None,
    ) -> None:
        """Append rows (one per element of `payer`)."""  # fmt: skip
        n = len(payer)
        c = self.cols
        c["payer"].extend(int(p) for p in payer)
        c["payee"].extend(payee)
        c["pc"].extend(self.payer_country[int(p)] for p in payer)
        c["qc"].extend(qc)
        c["t"].extend(int(x) for x in t)
        c["usd"].extend(float(max(x, 1.0)) for x in usd)
        c["channel"].extend(channel)
        c["memo"].extend(memo if memo is not None else [""] * n)
        c["category"].extend([category or ""] * n)


def _payers(book: _Book, cfg: dict[str, Any], n: int, label: str, age: tuple[float, float]) -> (
        np.ndarray):  # fmt: skip
    first = len(book.payer_country)
    book.payer_country.extend(_pick(book.rng, cfg["sources"], n))
    ages = np.clip(book.rng.normal(age[0], age[1], n), 18, 90) if age[0] > 0 else [np.nan] * n
    book.payer_age.extend(float(a) for a in ages)
    book.payer_label.extend((label, "") for _ in range(n))
    return np.arange(first, first + n)


def _domestic(book: _Book, cfg: dict[str, Any]) -> None:
    rng = book.rng
    every = np.arange(len(book.payer_country))
    counts = rng.poisson(cfg["domestic_tx_mean"], len(every))
    payer = np.repeat(every, counts)
    country = [book.payer_country[p] for p in payer]
    shop = [f"M{c}{k:04d}" for c, k in zip(country, rng.integers(0, 2000, len(payer)), strict=True)]
    cats = rng.choice(["grocery", "restaurant", "fuel", "retail", "utilities"], len(payer))
    t = book.times(payer, rng.uniform(0, book.days, len(payer)), "any", 0.07)
    book.add(payer, shop, country, t, rng.lognormal(np.log(40), 1.0, len(payer)),
             ["card"] * len(payer), None, None)  # fmt: skip
    book.cols["category"][-len(payer) :] = list(cats)


def _families(book: _Book, cfg: dict[str, Any]) -> None:
    f = cfg["family"]
    rng = book.rng
    n = round(cfg["payers"] * f["share"])
    senders = _payers(book, cfg, n, "family", (40, 11))
    dest = _pick(rng, f["destinations"], n)
    parent = [book.person("family") for _ in range(n)]
    # Sibling groups: several senders in one corridor support the same parent.
    grouped = np.flatnonzero(rng.random(n) < f["sibling_group_share"])
    for start in range(0, len(grouped), 5):
        group = grouped[start : start + int(rng.integers(3, 9))]
        for i in group[1:]:
            parent[i], dest[i] = parent[group[0]], dest[group[0]]
    for i in range(n):
        recipients = [parent[i]] + [book.person("family") for _ in range(rng.poisson(0.3))]
        cadence = float(rng.choice([7, 14, 30, 30, 30]))
        first = rng.uniform(0, book.days * 0.6) if rng.random() < f["late_start_share"] else (
            rng.uniform(0, cadence))  # fmt: skip
        days = np.arange(first, book.days, cadence) + rng.normal(0, 1.5, 1)
        k = len(days)
        if k == 0:
            continue
        payer = np.full(k, senders[i])
        base = rng.lognormal(np.log(f["amount_median"]), 0.5)
        usd = np.round(base * rng.lognormal(0, 0.12, k), -1 if rng.random() < 0.5 else 0)
        chan = _pick(rng, f["channels"], 1)[0]
        book.add(payer, [recipients[j] for j in rng.integers(0, len(recipients), k)],
                 [dest[i]] * k, book.times(payer, days, "any", f["night_share"]), usd,
                 [chan] * k, list(rng.choice(FAMILY, k)))  # fmt: skip


def _businesses(book: _Book, cfg: dict[str, Any]) -> None:
    b = cfg["business"]
    rng = book.rng
    n = round(cfg["payers"] * b["share"])
    if n == 0:
        return
    firms = _payers(book, cfg, n, "business", (0, 0))
    team = np.maximum(1, rng.lognormal(np.log(b["freelancers_median"]), 0.8, n).astype(int))
    pool_size = max(1, int(team.sum() / b["clients_per_freelancer"]))
    pool = [book.person("freelancer") for _ in range(pool_size)]
    pool_country = _pick(rng, b["destinations"], pool_size)
    for i, firm in enumerate(firms):
        style = rng.choice(INVOICE)
        cadence = float(rng.choice([7, 14, 30]))
        chan = "p2p_wallet" if rng.random() < 0.6 else "bank"
        for j in rng.choice(pool_size, size=min(team[i], pool_size), replace=False):
            start = rng.uniform(0, book.days * 0.8)
            span = min(rng.exponential(150) + cadence, book.days - start)
            days = np.arange(start, start + span, cadence)
            k = len(days)
            payer = np.full(k, firm)
            base = rng.lognormal(np.log(b["amount_median"]), 0.6) * cadence / 14
            memo = [style.format(n=int(rng.integers(100, 9999)), m=MONTHS[int(d // 30.5) % 12])
                    for d in days]  # fmt: skip
            book.add(payer, [pool[j]] * k, [pool_country[j]] * k,
                     book.times(payer, days, "business", b["after_hours_share"]),
                     base * rng.lognormal(0, 0.2, k), [chan] * k, memo)  # fmt: skip
        gigs = rng.poisson(b["gigs_mean"])
        if gigs:
            payer = np.full(gigs, firm)
            who = [book.person("freelancer") for _ in range(gigs)]
            book.add(payer, who, list(_pick(rng, b["destinations"], gigs)),
                     book.times(payer, rng.uniform(0, book.days, gigs), "business", 0.05),
                     rng.uniform(15, 80, gigs), [chan] * gigs,
                     [style.format(n=int(rng.integers(100, 9999)), m="gig")] * gigs)  # fmt: skip


@dataclass
class _Rings:
    members: list[list[str]]
    country: list[str]
    popularity: np.ndarray


def _rings(book: _Book, cfg: dict[str, Any]) -> _Rings:
    o = cfg["offenders"]
    rng = book.rng
    left = int(o["facilitators"])
    members: list[list[str]] = []
    while left > 0:
        size = min(left, int(rng.integers(1, int(o["ring_size_max"]) + 1)))
        members.append([book.person("facilitator") for _ in range(size)])
        left -= size
    country = list(_pick(rng, o["destinations"], len(members)))
    popularity = 1.0 / np.arange(1, len(members) + 1) ** 0.7
    return _Rings(members, country, popularity / popularity.sum())


def _offender_plan(rng: np.random.Generator, kind: str, days: int) -> tuple[np.ndarray, float]:
    """Payment days and the escalation factor of one offender."""
    if kind == "one_off":
        return np.array([rng.uniform(0, days)]), 1.0
    if kind == "occasional":
        n = int(rng.integers(2, 7))
        start = rng.uniform(0, days * 0.7)
        return np.minimum(start + np.cumsum(rng.exponential(20, n)) - 20, days - 1), 1.0
    n = int(min(10 + rng.lognormal(np.log(30), 0.9), 300))
    gaps = np.geomspace(14, 1.5, n) * rng.lognormal(0, 0.3, n)
    gaps *= min(1.0, days * 0.8 / gaps.sum())
    start = rng.uniform(0, days - gaps.sum())
    return start + np.cumsum(gaps) - gaps[0], 2.0


def _offenders(book: _Book, cfg: dict[str, Any]) -> None:
    o = cfg["offenders"]
    rng = book.rng
    rings = _rings(book, cfg)
    ids = _payers(book, cfg, int(o["count"]), "offender", (54, 10))
    kinds = _pick(rng, o["kinds"], len(ids))
    for payer_id, kind in zip(ids, kinds, strict=True):
        book.payer_label[payer_id] = ("offender", str(kind))
        r = int(rng.choice(len(rings.members), p=rings.popularity))
        mine = list(
            rng.choice(
                rings.members[r],
                size=min(1 + rng.poisson(o["extra_payees_mean"]), len(rings.members[r])),
                replace=False,
            )
        )
        if rng.random() < o["second_ring_share"]:
            other = int(rng.choice(len(rings.members), p=rings.popularity))
            mine.append(str(rng.choice(rings.members[other])))
        days, grow = _offender_plan(rng, str(kind), book.days)
        k = len(days)
        payer = np.full(k, payer_id)
        usd = o["amount_median"] * rng.lognormal(0, 0.55, k) * np.linspace(1, grow, k)
        usd = np.where(rng.random(k) < 0.5, np.round(usd, -1), usd)
        memo = np.where(rng.random(k) < o["cover_memo_share"], rng.choice(COVER, k), "")
        memo = np.where(
            rng.random(k) < o["handle_memo_share"],
            "@"
            + rng.choice(["sweet", "angel", "cam", "love"], k)
            + rng.integers(1, 99, k).astype(str),
            memo,
        )
        chan = _pick(rng, o["channels"], 1)[0]
        channel = np.where(rng.random(k) < 0.75, chan, _pick(rng, o["channels"], k))
        payees = [mine[j] for j in rng.integers(0, len(mine), k)]
        country = [rings.country[r]] * k  # a second ring's account is paid in its own country
        book.add(payer, payees, country, book.times(payer, days, "any", o["night_share"]), usd,
                 channel, list(memo))  # fmt: skip
        if rng.random() < o["vpn_share"]:
            t = book.times(payer[:1], rng.uniform(0, book.days, 1), "any", 0.2)
            book.add(payer[:1], ["MUSvpn01"], ["US"], t, np.array([9.99]), ["card"], None, "vpn")
        if kind != "one_off" and rng.random() < o["travel_share"]:
            t = book.times(payer[:2], np.array([days[-1] + 10, days[-1] + 12]), "any", 0.1)
            book.add(payer[:2], ["MTRhotel", "MTRatm"], [rings.country[r]] * 2, t,
                     np.array([600.0, 200.0]), ["card", "cash"], None, "hotel")  # fmt: skip
    _facilitator_families(book, cfg, rings)


def _facilitator_families(book: _Book, cfg: dict[str, Any], rings: _Rings) -> None:
    """Family operations: some facilitators also receive a relative's regular remittances."""
    rng = book.rng
    share = cfg["offenders"]["facilitator_family_share"]
    for members, country in zip(rings.members, rings.country, strict=True):
        for fac in members:
            if rng.random() >= share:
                continue
            sender = _payers(book, cfg, 1, "family", (40, 11))
            days = np.arange(rng.uniform(0, 30), book.days, 30.0)
            payer = np.full(len(days), sender[0])
            book.add(payer, [fac] * len(days), [country] * len(days),
                     book.times(payer, days, "any", 0.1), np.full(len(days), 150.0),
                     ["remittance"] * len(days), list(rng.choice(FAMILY, len(days))))  # fmt: skip


def _donations(book: _Book, cfg: dict[str, Any]) -> None:
    """Donation hubs: many payers each give once, small round amounts (benign fan-in)."""
    c = cfg["charity"]
    rng = book.rng
    domestic = [i for i, (label, _) in enumerate(book.payer_label) if label == "domestic"]
    for _ in range(int(c["hubs"])):
        hub = book.person("charity")
        donors = rng.choice(domestic, size=int(c["donors_per_hub"]), replace=False)
        when = rng.uniform(0, book.days - 30) + rng.exponential(6, len(donors))
        book.add(donors, [hub] * len(donors), ["PH"] * len(donors),
                 book.times(donors, when, "any", 0.12), rng.choice([10.0, 20.0, 25.0, 50.0,
                 100.0], len(donors)), ["p2p_wallet"] * len(donors),
                 list(rng.choice(["donation", "typhoon relief", "for the school", ""],
                                 len(donors))))  # fmt: skip


def _tourists(book: _Book, cfg: dict[str, Any]) -> None:
    rng = book.rng
    domestic = [i for i, (label, _) in enumerate(book.payer_label) if label == "domestic"]
    trips = rng.choice(domestic, size=round(len(domestic) * cfg["tourist_share"]), replace=False)
    for p in trips:
        dest = str(rng.choice(["TH", "PH", "MX", "VN", "DO", "CO"]))
        start = rng.uniform(0, book.days - 20)
        days = start + np.sort(rng.uniform(0, 14, 8))
        payer = np.full(len(days), p)
        cats = ["hotel", "atm", "restaurant", "restaurant", "retail", "atm", "restaurant", "retail"]
        book.add(payer, [f"MT{dest}{c}" for c in cats], [dest] * 8,
                 book.times(payer, days, "any", 0.15), rng.uniform(20, 300, 8),
                 ["cash" if c == "atm" else "card" for c in cats], None, None)  # fmt: skip
        book.cols["category"][-8:] = cats


@dataclass(frozen=True)
class ScenarioSummary:
    """What a scenario run wrote."""

    rows: int
    payers: int
    offenders: int
    facilitators: int


def generate_scenario(out: Path, labels: Path, seed: int, cfg: dict[str, Any]) -> ScenarioSummary:
    """Write a ledger (Parquet) and its labels (CSV) for one scenario."""
    countries = load_countries()
    rates = Rates.load()
    book = _Book(np.random.default_rng(seed), int(cfg["days"]),
                 {c.code: c.utc_offset_minutes * 60 for c in countries.values()})  # fmt: skip
    _families(book, cfg)
    _businesses(book, cfg)
    _offenders(book, cfg)
    _payers(book, cfg, max(0, int(cfg["payers"]) - len(book.payer_country)), "domestic", (45, 14))
    _donations(book, cfg)
    _tourists(book, cfg)
    _domestic(book, cfg)
    c = book.cols
    n_payers = len(book.payer_country)
    names = np.array([f"C{k:07d}" for k in book.rng.permutation(n_payers)])
    order = np.argsort(np.asarray(c["t"]), kind="stable")
    pc = np.asarray(c["pc"], dtype=object)[order]
    currency = np.array([countries[p].currency for p in pc], dtype=object)
    usd_rate = np.array([rates.to_usd(x) for x in currency])
    start = int(datetime.fromisoformat(cfg["start"]).replace(tzinfo=UTC).timestamp())
    payer = np.asarray(c["payer"])[order]
    ages = np.asarray(book.payer_age)[payer]
    category = np.asarray(c["category"], dtype=object)[order]
    memo = np.asarray(c["memo"], dtype=object)[order]
    table = pa.table({
        "tx_id": pa.array([f"T{k:09d}" for k in range(1, len(order) + 1)]),
        "ts": pa.array((start + np.asarray(c["t"])[order]) * 1_000_000, pa.timestamp("us", "UTC")),
        "payer_id": pa.array(names[payer]),
        "payer_country": pa.array(pc.tolist()),
        "payee_id": pa.array(np.asarray(c["payee"], dtype=object)[order].tolist()),
        "payee_country": pa.array(np.asarray(c["qc"], dtype=object)[order].tolist()),
        "amount": pa.array(np.round(np.asarray(c["usd"])[order] / usd_rate, 2)),
        "currency": pa.array(currency.tolist()),
        "channel": pa.array(np.asarray(c["channel"], dtype=object)[order].tolist()),
        "memo": pa.array([m or None for m in memo]),
        "merchant_category": pa.array([m or None for m in category]),
        "payer_age": pa.array([None if np.isnan(a) else int(a) for a in ages], pa.int32()),
    })  # fmt: skip
    pq.write_table(table, out, compression="zstd")
    with open(labels, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["account_id", "role", "label", "kind"])
        for i, (label, kind) in enumerate(book.payer_label):
            writer.writerow([names[i], "payer", label, kind])
        for name, label in book.payee_label.items():
            writer.writerow([name, "payee", label, ""])
    offenders = sum(1 for label, _ in book.payer_label if label == "offender")
    facs = sum(1 for label in book.payee_label.values() if label == "facilitator")
    return ScenarioSummary(len(order), n_payers, offenders, facs)

"""Offenders and their facilitators: payments, escalation, travel and purchases, per person."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from safestream.finance.synthetic.everyday import subscriptions
from safestream.finance.synthetic.ledger import Ledger
from safestream.finance.synthetic.travel import trips
from safestream.finance.synthetic.world import CHANNELS, OFFENDER, World, choice, payments


@dataclass
class Offenders:
    """Who the offenders are, their kind (one_off, occasional, prolific), and all facilitators."""

    ids: np.ndarray
    kind: list[str]
    facilitators: np.ndarray


@dataclass
class _FollowUps:
    """What offenders do besides paying, generated for all of them once their payments exist."""

    trips: list[tuple[int, int, int, int]] = field(default_factory=list)
    vpn: list[int] = field(default_factory=list)
    live: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class _Channels:
    """The payment channels offenders use and how often."""

    ids: list[int]
    p: np.ndarray


def offenders(
    world: World, rng: np.random.Generator, memo_cover: list[int], ledger: Ledger
) -> Offenders:
    """Build every offender's payments (per person: they are few), travel and purchases."""
    cfg = world.cfg["offender"]
    ids = np.flatnonzero(world.kinds == OFFENDER)
    kinds = list(choice(rng, cfg["kinds"], len(ids)))
    dest_codes = list(choice(rng, cfg["destinations"], len(ids)))
    fac_by_country = _facilitators(world, dest_codes)
    channel_p = np.array(list(cfg["channels"].values()), dtype=float)
    channels = _Channels([CHANNELS.index(c) for c in cfg["channels"]], channel_p / channel_p.sum())
    later = _FollowUps()
    for payer, kind, code in zip(ids, kinds, dest_codes, strict=True):
        n = _payment_count(rng, cfg, kind)
        day, usd = _schedule(rng, cfg, kind, n, world.days)
        facs, weight = fac_by_country[code]
        extra = float(
            cfg["prolific_extra_payees_mean" if kind == "prolific" else "extra_payees_mean"]
        )
        k = min(1 + int(rng.poisson(extra)), len(facs))
        mine = rng.choice(facs, size=k, replace=False, p=weight)
        payees = mine[rng.integers(0, k, n)]
        _pay(world, rng, payer, code, day, usd, payees, channels, memo_cover, ledger)
        _plan_follow_ups(world, rng, payer, kind, code, day[-1], later)
    if later.trips:
        arr = np.array(later.trips, dtype=np.int64)
        trips(world, rng, arr[:, 0], arr[:, 1], arr[:, 2], arr[:, 3], ledger, jewellery_share=0.5)
    subscriptions(world, rng, np.array(later.vpn, dtype=np.int64), "vpn", ledger)
    subscriptions(world, rng, np.array(later.live, dtype=np.int64), "livestream", ledger)
    all_facs = np.concatenate([f for f, _ in fac_by_country.values()])
    return Offenders(ids, kinds, all_facs)


def _facilitators(world: World, dest_codes: list[str]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Facilitators per destination and their popularity: a few hubs (Zipf-like) get most."""
    per_fac = float(world.cfg["facilitator"]["offenders_per_facilitator"])
    fac_by_country: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for code in sorted(set(dest_codes)):
        n_fac = max(1, round(dest_codes.count(code) / per_fac))
        facs = world.new_persons(np.full(n_fac, world.cidx[code]), "facilitator")
        weight = 1.0 / np.arange(1, n_fac + 1) ** 0.8
        fac_by_country[code] = (facs, weight / weight.sum())
    return fac_by_country


def _payment_count(rng: np.random.Generator, cfg: dict[str, Any], kind: str) -> int:
    if kind == "one_off":
        return 1
    if kind == "occasional":
        return min(2 + int(rng.geometric(1 / (1 + float(cfg["occasional_mean_extra_tx"])))) - 1, 20)
    return min(
        21
        + round(
            rng.lognormal(np.log(float(cfg["prolific_tx_median"])), float(cfg["prolific_tx_sigma"]))
        ),
        int(cfg["prolific_tx_max"]),
    )


def _schedule(
    rng: np.random.Generator, cfg: dict[str, Any], kind: str, n: int, days: int
) -> tuple[np.ndarray, np.ndarray]:
    """Days and USD amounts of `n` payments; prolific payers escalate (larger, more often)."""
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
    return day, usd * rng.lognormal(0, float(cfg["amount_sigma"]), n)


def _pay(
    world: World,
    rng: np.random.Generator,
    payer: np.integer[Any],
    code: str,
    day: np.ndarray,
    usd: np.ndarray,
    payees: np.ndarray,
    channels: _Channels,
    memo_cover: list[int],
    ledger: Ledger,
) -> None:
    """One offender's payments: mostly one preferred channel, often with a cover memo."""
    cfg = world.cfg["offender"]
    n = len(day)
    preferred = channels.ids[int(rng.choice(len(channels.ids), p=channels.p))]
    channel = np.where(
        rng.random(n) < 0.7,
        preferred,
        np.asarray(channels.ids)[rng.choice(len(channels.ids), n, p=channels.p)],
    )
    memo = np.where(
        rng.random(n) < float(cfg["cover_memo_share"]),
        np.asarray(memo_cover)[rng.integers(0, len(memo_cover), n)],
        -1,
    )
    country = np.full(n, world.cidx[code])
    ledger.add(
        **payments(
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


def _plan_follow_ups(
    world: World,
    rng: np.random.Generator,
    payer: np.integer[Any],
    kind: str,
    code: str,
    last_day: float,
    later: _FollowUps,
) -> None:
    """A trip to the destination after the payments (not for one-off payers), VPN, live streams."""
    cfg = world.cfg["offender"]
    if kind != "one_off" and rng.random() < float(cfg["travel_share"]):
        later.trips.append(
            (
                int(payer),
                world.cidx[code],
                int(last_day + rng.integers(5, 25)),
                int(rng.integers(7, 22)),
            )
        )
    if rng.random() < float(cfg["vpn_share"]):
        later.vpn.append(int(payer))
    if rng.random() < float(cfg["livestream_share"]):
        later.live.append(int(payer))

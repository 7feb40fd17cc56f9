"""Trips abroad (airfare, hotel, daily spending, cash) and the tourists who make them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from safestream.finance.synthetic.ledger import Ledger
from safestream.finance.synthetic.world import CARD, CATEGORIES, CHANNELS, World, choice, payments


@dataclass(frozen=True)
class _Trips:
    """One row per trip: who travels where, from which day, for how many days."""

    payer: np.ndarray
    dest: np.ndarray
    start: np.ndarray
    length: np.ndarray


def trips(
    world: World,
    rng: np.random.Generator,
    payer: np.ndarray,
    dest: np.ndarray,
    start: np.ndarray,
    length: np.ndarray,
    ledger: Ledger,
    jewellery_share: float = 0.0,
) -> None:
    """Airfare before, a hotel on arrival, daily card spending and cash withdrawals abroad."""
    keep = start < world.days
    trip = _Trips(payer[keep], dest[keep], start[keep], length[keep])
    if not len(trip.payer):
        return
    _airfare(world, rng, trip, ledger)
    _hotel(world, rng, trip, ledger)
    _daily_spending(world, rng, trip, ledger)
    _cash(world, rng, trip, ledger)
    _jewellery(world, rng, trip, jewellery_share, ledger)


def _airfare(world: World, rng: np.random.Generator, trip: _Trips, ledger: Ledger) -> None:
    n = len(trip.payer)
    fare_day = np.maximum(trip.start - rng.integers(7, 60, n), 0)
    ledger.add(
        **payments(
            world,
            rng,
            trip.payer,
            fare_day,
            0.1,
            world.merchants(rng, trip.dest, "airline"),
            trip.dest,
            rng.lognormal(np.log(900), 0.3, n),
            CARD,
            category=CATEGORIES.index("airline"),
        )
    )


def _hotel(world: World, rng: np.random.Generator, trip: _Trips, ledger: Ledger) -> None:
    ledger.add(
        **payments(
            world,
            rng,
            trip.payer,
            trip.start,
            0.1,
            world.merchants(rng, trip.dest, "abroad"),
            trip.dest,
            trip.length * rng.uniform(40, 150, len(trip.payer)),
            CARD,
            category=CATEGORIES.index("hotel"),
        )
    )


def _daily_spending(world: World, rng: np.random.Generator, trip: _Trips, ledger: Ledger) -> None:
    """About two restaurant or shop payments per day away."""
    spend = 2 * trip.length
    p = np.repeat(trip.payer, spend)
    d = np.repeat(trip.dest, spend)
    day = np.repeat(trip.start, spend) + rng.integers(0, np.repeat(trip.length, spend))
    ledger.add(
        **payments(
            world,
            rng,
            p,
            np.minimum(day, world.days - 1),
            0.15,
            world.merchants(rng, d, "abroad"),
            d,
            rng.lognormal(np.log(30), 0.6, len(p)),
            CARD,
            category=rng.choice(
                [CATEGORIES.index("restaurant"), CATEGORIES.index("retail")], len(p)
            ),
        )
    )


def _cash(world: World, rng: np.random.Generator, trip: _Trips, ledger: Ledger) -> None:
    """At least one withdrawal per trip, about one more every five days."""
    cash = 1 + rng.poisson(trip.length / 5)
    p = np.repeat(trip.payer, cash)
    d = np.repeat(trip.dest, cash)
    day = np.repeat(trip.start, cash) + rng.integers(0, np.repeat(trip.length, cash))
    ledger.add(
        **payments(
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


def _jewellery(
    world: World, rng: np.random.Generator, trip: _Trips, share: float, ledger: Ledger
) -> None:
    """A jewellery purchase two days into a `share` of the trips (offenders' gifts)."""
    jewel = rng.random(len(trip.payer)) < share
    if jewel.any():
        ledger.add(
            **payments(
                world,
                rng,
                trip.payer[jewel],
                np.minimum(trip.start[jewel] + 2, world.days - 1),
                0.1,
                world.merchants(rng, trip.dest[jewel], "abroad"),
                trip.dest[jewel],
                rng.uniform(150, 900, int(jewel.sum())),
                CARD,
                category=CATEGORIES.index("jewellery"),
            )
        )


def tourists(world: World, rng: np.random.Generator, payers: np.ndarray, ledger: Ledger) -> None:
    """Trips to the offenders' destinations (and others) by people with no business there."""
    cfg = world.cfg["tourist"]
    n_trips = rng.poisson(float(cfg["trips_per_year"]) * world.days / 365, len(payers))
    payer = np.repeat(payers, n_trips)
    dest = np.array([world.cidx[c] for c in choice(rng, cfg["destinations"], len(payer))])
    lo, hi = cfg["trip_days"]
    trips(
        world,
        rng,
        payer,
        dest.astype(np.int64),
        rng.integers(0, world.days, len(payer)),
        rng.integers(int(lo), int(hi), len(payer)),
        ledger,
    )

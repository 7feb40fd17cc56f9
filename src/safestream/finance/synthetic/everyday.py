"""Everyday spending by every payer: domestic purchases and bills, VPN and live-stream fees."""

from __future__ import annotations

import numpy as np

from safestream.finance.synthetic.ledger import Ledger
from safestream.finance.synthetic.world import (
    CARD,
    CATEGORIES,
    CHANNELS,
    DOMESTIC_CATEGORIES,
    VPN_COUNTRIES,
    World,
    payments,
)


def domestic(world: World, rng: np.random.Generator, payers: np.ndarray, ledger: Ledger) -> None:
    """Card, bank and wallet payments at home, plus the ordinary VPN and live-stream buyers."""
    cfg = world.cfg["domestic"]
    months = world.days / 30.4
    counts = rng.poisson(float(cfg["tx_per_month"]) * months, len(payers))
    payer = np.repeat(payers, counts)
    n = len(payer)
    channel = rng.choice(
        [CARD, CHANNELS.index("bank"), CHANNELS.index("p2p_wallet")], size=n, p=[0.75, 0.15, 0.10]
    )
    category = np.where(
        channel == CHANNELS.index("bank"),
        DOMESTIC_CATEGORIES.index("utilities"),
        rng.integers(0, len(DOMESTIC_CATEGORIES), n),
    )
    country = world.country[payer]
    ledger.add(
        **payments(
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
    subscriptions(world, rng, vpn, "vpn", ledger)
    live = payers[rng.random(len(payers)) < float(cfg["livestream_buyer_share"])]
    subscriptions(world, rng, live, "livestream", ledger)


def subscriptions(
    world: World, rng: np.random.Generator, payers: np.ndarray, kind: str, ledger: Ledger
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
    ledger.add(
        **payments(world, rng, payer, day, 0.25, payee, country, usd, CARD, category=category)
    )

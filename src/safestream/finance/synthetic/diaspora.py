"""Diaspora family senders: remittances home on the offenders' corridors, and trips home."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from safestream.finance.synthetic.ledger import Ledger
from safestream.finance.synthetic.travel import trips
from safestream.finance.synthetic.world import CHANNELS, DIASPORA, World, choice, payments


@dataclass
class DiasporaPlan:
    """Per-sender plan of family remittances, fixed before rows are generated in chunks."""

    origin: np.ndarray
    recipients: list[np.ndarray]


def plan_diaspora(world: World, rng: np.random.Generator, facilitators: np.ndarray) -> DiasporaPlan:
    """Each sender's origin country and relatives, some shared and some facilitators."""
    cfg = world.cfg["diaspora"]
    senders = np.flatnonzero(world.kinds == DIASPORA)
    origin_codes = choice(rng, cfg["origins"], len(senders))
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
    return DiasporaPlan(full, plan_recipients)


def diaspora(
    world: World,
    rng: np.random.Generator,
    payers: np.ndarray,
    plan: DiasporaPlan,
    memo_family: list[int],
    ledger: Ledger,
) -> None:
    """Regular remittances of `payers` (all senders) to their relatives, then their trips home."""
    cfg = world.cfg["diaspora"]
    if not len(payers):
        return
    interval = choice(rng, cfg["interval_days"], len(payers)).astype(np.float64)
    first = rng.uniform(0, interval)
    counts = np.maximum(((world.days - 1 - first) // interval).astype(np.int64) + 1, 0)
    base = rng.lognormal(
        np.log(float(cfg["amount_usd_median"])), float(cfg["amount_sigma"]), len(payers)
    )
    channel_pref = np.array(
        [CHANNELS.index(c) for c in choice(rng, cfg["channels"], len(payers))], dtype=np.int8
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
        **payments(
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
    n_trips = rng.poisson(float(cfg["trips_per_year"]) * world.days / 365, len(payers))
    tp = np.repeat(payers, n_trips)
    trips(
        world,
        rng,
        tp,
        plan.origin[tp],
        rng.integers(0, world.days, len(tp)),
        rng.integers(7, 28, len(tp)),
        ledger,
    )

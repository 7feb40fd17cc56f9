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

Rows are built with vectorised numpy per population (one module each in `finance/synthetic/`);
only offenders (well under 1% of payers) are built per person. The ledger is written as Parquet or
CSV in payer chunks, and a separate label file names every payer's population and every
facilitator and family recipient.
"""

from __future__ import annotations

import copy
import csv
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import yaml

from safestream.core.errors import InvalidInput
from safestream.finance.synthetic.diaspora import diaspora, plan_diaspora
from safestream.finance.synthetic.everyday import domestic
from safestream.finance.synthetic.ledger import Ledger
from safestream.finance.synthetic.offenders import Offenders, offenders
from safestream.finance.synthetic.travel import tourists
from safestream.finance.synthetic.world import (
    CATEGORIES,
    CHANNELS,
    DIASPORA,
    POPULATIONS,
    TOURIST,
    World,
)


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


def generate(
    out: Path, labels: Path, seed: int, config: dict[str, Any] | None = None
) -> GenerateSummary:
    """Write a synthetic ledger to `out` (.parquet or .csv) and its labels to `labels` (CSV)."""
    began = time.perf_counter()
    cfg = config if config is not None else load_config()
    if Path(out).suffix.lower() not in (".parquet", ".pq", ".csv"):
        raise InvalidInput(f"{out}: ledger must be .parquet or .csv")
    rng = np.random.default_rng(seed)
    world = World(cfg, rng)
    memos = list(dict.fromkeys([*cfg["memos"]["cover"], *cfg["memos"]["family"]]))
    memo_cover = [memos.index(m) for m in cfg["memos"]["cover"]]
    memo_family = [memos.index(m) if m else -1 for m in cfg["memos"]["family"]]
    start = int(datetime.fromisoformat(str(cfg["start"])).replace(tzinfo=UTC).timestamp())
    # Offenders and facilitators first: the diaspora plan links some relatives to facilitators.
    # Names of payees are known only once every person exists, so rows wait for the vocabulary.
    ledger = Ledger(Path(out), start, {})
    cast = offenders(world, rng, memo_cover, ledger)
    plan = plan_diaspora(world, rng, cast.facilitators)
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
            domestic(world, rng, payers, ledger)
            diaspora(world, rng, payers[world.kinds[payers] == DIASPORA], plan, memo_family, ledger)
            tourists(world, rng, payers[world.kinds[payers] == TOURIST], ledger)
            ledger.flush(world.usd_rates, world.currency_of_country, world.ages)
    finally:
        ledger.close()
    _write_labels(Path(labels), world, cast)
    return GenerateSummary(
        rows=ledger.rows,
        payers=world.n_payers,
        offenders=len(cast.ids),
        facilitators=len(cast.facilitators),
        seconds=time.perf_counter() - began,
    )


def _write_labels(path: Path, world: World, cast: Offenders) -> None:
    """One row per payer (its population) and per person payee (facilitator or family)."""
    kind_of = dict(zip(cast.ids.tolist(), cast.kind, strict=True))
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["account_id", "role", "label", "kind"])
        for i, name in enumerate(world.payer_names):
            label = POPULATIONS[int(world.kinds[i])]
            writer.writerow([name, "payer", label, kind_of.get(i, "")])
        for name, label in world.person_labels:
            writer.writerow([name, "payee", label, ""])

"""The crop benchmark's bank: built once, optionally kept in a folder and reused.

A 100,000-image bank takes about 15 minutes of two cores to extract, so `--bank-dir` keeps the
store (known images, rooms, common scenes, filler records) in a folder: a later run with the same
bank size and the same feature extraction reuses it and only rebuilds the indexes (so index
settings are always the current code's). The folder also keeps each finished slice of distractors
(`distractors-<fingerprint>-seed<S>.jsonl`), so a long distractor run that is stopped resumes
where it was.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from bench import crop_workloads as wl

STATE: dict[str, Any] = {}
MARKER = "bank.json"


def grey_for_pdq(pixels: np.ndarray) -> np.ndarray:
    """Grey pixels at a 512 short side, as the live path hashes frames."""
    from safestream.media.frames import scaled_size

    grey = cv2.cvtColor(np.ascontiguousarray(pixels), cv2.COLOR_RGB2GRAY)
    w, h = scaled_size(grey.shape[1], grey.shape[0])
    return np.asarray(cv2.resize(grey, (w, h), interpolation=cv2.INTER_AREA))


def _filler_record(index: int) -> bytes:
    from safestream.media.features.extract import bank_features

    return bank_features(wl.filler(index, STATE["filler_pool"])).to_bytes()


def _pool_member(args: tuple[int, int, int, int]) -> np.ndarray:
    return wl.pool_scene(*args)


def make_pool(base_seed: int, size: int, width: int, height: int, workers: int) -> list[np.ndarray]:
    """`size` generated scenes (rendered in `workers` processes)."""
    jobs = [(i, base_seed, width, height) for i in range(size)]
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        return pool.map(_pool_member, jobs, chunksize=16)


def fingerprint(known: dict[str, np.ndarray], bank_size: int) -> str:
    """Names the bank's contents: its size and the feature records of two of its images (so
    a change to feature extraction makes a kept bank stale)."""
    from safestream.media.features.extract import bank_features

    first = next(iter(sorted(known)))
    h = hashlib.sha256(f"{bank_size}:{first}".encode())
    h.update(bank_features(known[first]).to_bytes())
    h.update(bank_features(wl.pool_scene(0, 9_000_000, 640, 360)).to_bytes())
    return h.hexdigest()[:16]


def build_bank(
    folder: Path,
    scratch: Path,
    images: dict[str, dict[str, np.ndarray] | list[np.ndarray]],
    bank_size: int,
    workers: int,
) -> dict[int, str]:
    """Fill (or reuse) the store in `folder` with the banks, build the indexes in `scratch`;
    return entry id -> known/room name. `images` holds "known", "rooms" and "common"."""
    from safestream.media.bank_index import BankIndex
    from safestream.media.features.bank import FeatureBank
    from safestream.media.features.stage import LocalStage
    from safestream.media.matching import Matcher
    from safestream.store import Database
    from safestream.store.banks import BankRepository

    known = images["known"]
    assert isinstance(known, dict)
    print_id = fingerprint(known, bank_size)
    STATE["fingerprint"] = print_id
    marker = folder / MARKER
    reused = marker.exists() and json.loads(marker.read_text()).get("fingerprint") == print_id
    if not reused:
        (folder / "bench.db").unlink(missing_ok=True)
    db = Database(f"sqlite:///{folder}/bench.db")
    db.migrate()
    banks = BankRepository(db)
    extract_s = 0.0
    if reused:
        names = {int(k): v for k, v in json.loads(marker.read_text())["names"].items()}
    else:
        names, extract_s = _fill(banks, images, bank_size, workers)
        marker.write_text(json.dumps({"fingerprint": print_id, "names": names}))
    t0 = time.perf_counter()
    features = FeatureBank.open(banks, scratch / "features")
    index_s = time.perf_counter() - t0
    STATE["matcher"] = Matcher(banks, BankIndex.open(banks, scratch / "pdq"))
    STATE["stage"] = LocalStage(banks, features, bank_names=["known", "rooms"])
    records = banks.local_features(list(features.index.entries)[:5000]).values()
    sizes = [len(r[2]) for r in records]
    print(
        f"bank: {len(features.index):,} images with local features "
        f"({features.index.descriptors.shape[0]:,} descriptors); "
        + ("kept store reused" if reused else f"filler extraction {extract_s:.0f} s")
        + f" on {workers} workers, index build {index_s:.0f} s; feature record (first 5,000) "
        f"median {np.median(sizes) / 1024:.1f} KB, max {max(sizes) / 1024:.1f} KB",
        flush=True,
    )
    return names


def _fill(
    banks: Any,
    images: dict[str, dict[str, np.ndarray] | list[np.ndarray]],
    bank_size: int,
    workers: int,
) -> tuple[dict[int, str], float]:
    from safestream.media.features.extract import bank_features
    from safestream.media.frames import hash_luma
    from safestream.store.banks import NewEntry, NewFeatures

    banks.create("known")
    banks.create("rooms", kind="room")
    banks.create("filler")
    banks.create("common_scenes", negative=True)
    for pixels in images["common"]:
        f = bank_features(pixels)
        banks.add_local_features("common_scenes", [NewFeatures(f.to_bytes(), len(f), "benign")])
    names: dict[int, str] = {}
    known, rooms = images["known"], images["rooms"]
    assert isinstance(known, dict) and isinstance(rooms, dict)
    for name, pixels in known.items():
        variants = hash_luma(grey_for_pdq(pixels))
        if variants.quality >= 50:
            (pid,) = banks.add_entries("known", [NewEntry("pdq", variants.hashes["original"])])
            names[pid] = name
        f = bank_features(pixels)
        (lid,) = banks.add_local_features("known", [NewFeatures(f.to_bytes(), len(f))])
        names[lid] = name
    for name, pixels in rooms.items():
        f = bank_features(pixels)
        (lid,) = banks.add_local_features("rooms", [NewFeatures(f.to_bytes(), len(f))])
        names[lid] = name
    t0 = time.perf_counter()
    STATE["filler_pool"] = make_pool(9_000_000, wl.POOL_SIZE, 640, 360, workers)
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        for start in range(0, bank_size, 5000):
            records = pool.map(
                _filler_record, range(start, min(start + 5000, bank_size)), chunksize=64
            )
            banks.add_local_features(
                "filler", [NewFeatures(r, (len(r) - 12) // 36) for r in records]
            )
    return names, time.perf_counter() - t0


def _code_hash() -> str:
    import safestream.media.features as package

    h = hashlib.sha256()
    for path in sorted(Path(package.__file__).parent.glob("*.py")):
        h.update(path.read_bytes())
    return h.hexdigest()[:12]


def done_spans(folder: Path | None, seed: int) -> tuple[Path | None, list[dict[str, Any]]]:
    """The distractor log in a kept folder and the slices it already holds (the log is named
    after the bank and the second stage's code, so a change to either starts a new one)."""
    if folder is None:
        return None, []
    log = folder / f"distractors-{STATE['fingerprint']}-{_code_hash()}-seed{seed}.jsonl"
    if not log.exists():
        return log, []
    return log, [json.loads(line) for line in log.read_text().splitlines() if line.strip()]

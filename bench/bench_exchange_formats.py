"""A bank of N hash entries through every sharing format and back, checked field by field.

Formats: SafeStream's signed bundle, NCMEC hash-sharing entries XML, Project VIC VICS JSON.
Entries: 80% PDQ, 10% MD5, 10% SHA-256, labels spread over the internal grades, 1% withdrawn.
Each format must give back what it can carry (bundle: everything; NCMEC XML: hash, industry
grade, withdrawal, time; VICS: hash, exact label, tags, provenance, for live entries) for every
entry; the run fails otherwise.

Peer: python-threatexchange's `local_file` lines (`pdq HASH`), written and read back with pytx's
own reader (`LocalFileSignalExchangeAPI.fetch_iter`); it carries only the hash.

Run: `python -m bench.bench_exchange_formats [--quick] [--rows N]`.
"""

from __future__ import annotations

import argparse
import random
import secrets
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

LABELS = ["prepubescent_penetrative", "pubescent_exhibition", "exploitative",
          "prepubescent_exhibition_cgi", "unclassified"]  # fmt: skip


def _signals(rows: int) -> list:  # type: ignore[type-arg]
    from safestream.core.shared_signals import SharedSignal, SignalKind

    rng = random.Random(7)
    at = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
    out = []
    for i in range(rows):
        roll = rng.random()
        kind = SignalKind.PDQ if roll < 0.8 else SignalKind.MD5 if roll < 0.9 else SignalKind.SHA256
        size = {SignalKind.PDQ: 32, SignalKind.MD5: 16, SignalKind.SHA256: 32}[kind]
        out.append(SharedSignal(
            kind, secrets.token_hex(size), LABELS[i % len(LABELS)], ("series-a",), "analyst 3",
            at, None, rng.random() < 0.01, i + 1, "bank",
        ))  # fmt: skip
    return out


def _check(name: str, sent: list, got: list, fields: tuple[str, ...]) -> None:  # type: ignore[type-arg]
    from safestream.core.classification import derive

    def key(s):  # type: ignore[no-untyped-def]
        out = []
        for f in fields:
            # A tombstone carries no grade in NCMEC's format: nothing is left to classify.
            grade = None if s.deleted else derive(s.label).us_industry
            value = getattr(s, f) if f != "grade" else grade
            out.append(value)
        return tuple(out)

    a, b = sorted(map(key, sent)), sorted(map(key, got))
    if a != b:
        raise SystemExit(
            f"{name}: {sum(x != y for x, y in zip(a, b, strict=False))} entries differ"
        )


def main(argv: list[str] | None = None) -> int:
    from safestream.exchange.bundle import read_bundle, write_bundle
    from safestream.exchange.identity import Identity
    from safestream.exchange.ncmec_entries import read_ncmec_entries, write_ncmec_entries
    from safestream.exchange.vics import read_vics, write_vics

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="100,000 entries")
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    rows = 100_000 if args.quick else args.rows
    signals = _signals(rows)
    live = [s for s in signals if not s.deleted]
    me = Identity.generate()
    times: dict[str, float] = {}

    start = time.process_time()
    data = write_bundle(me, signals, after=0, checkpoint=rows)
    back = read_bundle(data, {me.key_id: me.private_key.public_key()}).signals
    times["bundle"] = time.process_time() - start
    _check("bundle", signals, back, ("kind", "value", "label", "tags", "source", "added_at",
                                     "deleted", "seq", "collection"))  # fmt: skip

    start = time.process_time()
    xml, _ = write_ncmec_entries(signals, member_id=42, member_name="bench")
    back = read_ncmec_entries(xml, collection="bank").signals
    times["ncmec-xml"] = time.process_time() - start
    _check("ncmec-xml", signals, back, ("kind", "value", "grade", "deleted", "added_at"))

    start = time.process_time()
    vics, _ = write_vics(signals)
    back = read_vics(vics, collection="bank").signals
    times["vics-json"] = time.process_time() - start
    _check("vics-json", live, back, ("kind", "value", "label", "tags", "source", "added_at"))

    from threatexchange.exchanges.impl.file_api import (
        FileCollaborationConfig,
        LocalFileSignalExchangeAPI,
    )
    from threatexchange.signal_type.pdq.signal import PdqSignal

    pdqs = [s.value for s in live if s.kind.value == "pdq"]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "list.txt"
        start = time.process_time()
        path.write_text("".join(f"pdq {v}\n" for v in pdqs))
        api = LocalFileSignalExchangeAPI(
            FileCollaborationConfig(
                name="bench", api="local_file", enabled=True, filename=str(path)
            )
        )
        read = {k[1] for delta in api.fetch_iter([PdqSignal], None) for k in delta.updates}
        peer = time.process_time() - start
    if read != set(pdqs):
        raise SystemExit("pytx local_file lost entries")
    print(f"{rows:,} entries through each format and back (write + read; CPU seconds, since")
    print("the machine is shared and wall time follows the other jobs)")
    print(f"{'format':12}{'seconds':>9}{'per 1M':>9}   carried and checked")
    carried = {
        "bundle": "every field", "ncmec-xml": "hash, industry grade, withdrawal, time",
        "vics-json": "hash, exact label, tags, provenance, time (live entries)",
    }  # fmt: skip
    for name, took in times.items():
        print(f"{name:12}{took:9.2f}{took * 1e6 / rows:9.2f}   {carried[name]}")
    print(f"{'pytx file':12}{peer:9.2f}{peer * 1e6 / len(pdqs):9.2f}   PDQ hash only "
          f"({len(pdqs):,} lines); bundle/peer per entry: "
          f"{(times['bundle'] / rows) / (peer / len(pdqs)):.1f}x")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

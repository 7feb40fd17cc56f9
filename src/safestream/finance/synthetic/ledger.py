"""The ledger file: generated rows gathered as index arrays and written in chunks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq


class Ledger:
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
        table = self._table(cols, rates, currency_of_country, ages)
        self.rows += len(cols["t"])
        if self.is_csv:
            table = table.set_column(
                1, "ts", pa.compute.strftime(table["ts"], "%Y-%m-%dT%H:%M:%SZ")
            )
        if self.writer is None:
            if self.is_csv:
                self.writer = pacsv.CSVWriter(self.out, table.schema)
            else:
                self.writer = pq.ParquetWriter(self.out, table.schema, compression="zstd")
        self.writer.write_table(table)

    def _table(
        self,
        cols: dict[str, np.ndarray],
        rates: np.ndarray,
        currency_of_country: np.ndarray,
        ages: np.ndarray,
    ) -> pa.Table:
        """Rows with names for indices and amounts in the payer's currency, rounded as asked."""
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
        return pa.table(
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

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()

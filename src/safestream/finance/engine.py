"""Where the SQL runs: DuckDB in-process by default, Spark for ledgers beyond one machine.

Every query in the finance package is written once in DuckDB's dialect. `DuckDBEngine` runs it
as written; `SparkEngine` (see `spark_engine`) transpiles it with SQLGlot. Both load a ledger the
same way: the file becomes `raw_ledger`, the normalising query of `schema` types and checks it,
and the good rows become the view `ledger`. Given a `relevant` condition, the checking pass also
keeps the good rows it selects as the table `ledger_relevant`, so the indicators read those
(about a sixth of a ledger) without scanning the file again.
"""

from __future__ import annotations

import abc
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from safestream.core.errors import InvalidInput
from safestream.finance.countries import Country, load_countries
from safestream.finance.currency import Rates
from safestream.finance.schema import LEDGER_COLUMNS, RowProblem, check_columns, normalise_sql

CSV_BLOCK_BYTES = 64 << 20


@dataclass
class LoadReport:
    """What loading a ledger found: good rows kept and bad rows skipped (with their numbers)."""

    rows_read: int
    rows_kept: int
    problems: list[RowProblem] = field(default_factory=list)


def ledger_format(path: Path) -> str:
    """`parquet` or `csv` from the file name; anything else is an error."""
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        return "parquet"
    if suffix == ".csv":
        return "csv"
    raise InvalidInput(f"{path}: ledger must be .parquet or .csv")


def _country_table(countries: dict[str, Country]) -> pa.Table:
    rows = list(countries.values())
    return pa.table(
        {
            "country": [c.code for c in rows],
            "utc_offset_minutes": pa.array([c.utc_offset_minutes for c in rows], pa.int32()),
            "hrj_risk": pa.array([c.hrj_risk for c in rows], pa.float64()),
        }
    )


def _rate_table(rates: Rates) -> pa.Table:
    return pa.table(
        {
            "currency": list(rates.usd_per_unit),
            "usd_per_unit": pa.array(list(rates.usd_per_unit.values()), pa.float64()),
        }
    )


class LedgerEngine(abc.ABC):
    """Loads a ledger into the table `ledger` and runs DuckDB-dialect queries over it."""

    name: str = "engine"
    relevant: str | None = None
    """The condition that selected the table `ledger_relevant` at the last load, if any."""

    @abc.abstractmethod
    def register(self, name: str, table: pa.Table) -> None:
        """Make an Arrow table queryable under `name`."""

    @abc.abstractmethod
    def register_raw(self, path: Path) -> list[str]:
        """Expose the ledger file as `raw_ledger` with a 1-based `_row`; return its columns."""

    @abc.abstractmethod
    def materialise(self, name: str, sql: str) -> None:
        """Run `sql` once and keep its result as the table `name`."""

    @abc.abstractmethod
    def view(self, name: str, sql: str) -> None:
        """Name the query `sql` as `name`, computed wherever it is used."""

    @abc.abstractmethod
    def query(self, sql: str) -> pa.Table:
        """Run a DuckDB-dialect query and return its result."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release the engine's resources."""

    def load(
        self,
        path: Path,
        rates: Rates | None = None,
        countries: dict[str, Country] | None = None,
        relevant: str | None = None,
    ) -> LoadReport:
        """Validate and normalise the ledger at `path` into `ledger` (and `ledger_relevant`)."""
        if not Path(path).exists():
            raise InvalidInput(f"{path}: no such ledger file")
        rates = rates or Rates.load()
        countries = countries or load_countries()
        self.register("ref_rate", _rate_table(rates))
        self.register("ref_country", _country_table(countries))
        columns = [c.lower() for c in self.register_raw(Path(path))]
        check_columns(columns)
        # Views, not copies: the file is scanned once for the checks and once per use after,
        # which costs less than writing a second copy of a hundred million rows.
        self.view("ledger_checked", normalise_sql(columns))
        unusable = "_problem IS NOT NULL OR amount_usd IS NULL"
        checked = "ledger_checked"
        self.relevant = None
        if relevant is not None:
            # One pass over the file both checks every row and keeps the relevant ones.
            self.materialise(
                "ledger_kept", f"SELECT * FROM ledger_checked WHERE {unusable} OR ({relevant})"
            )
            checked = "ledger_kept"
        found = self.query(
            f"SELECT _row, _problem, currency FROM {checked} WHERE {unusable}"
        ).to_pylist()
        # A currency the rates table lacks skips its rows (reported by number), not the run.
        problems = sorted(
            RowProblem(
                int(r["_row"]),
                str(r["_problem"])
                if r["_problem"] is not None
                else f"unknown currency {r['currency']}: not in the rates table (--rates)",
            )
            for r in found
        )
        counts = self.query("SELECT COUNT(*) AS n FROM raw_ledger")
        # The checks ran once; later scans skip the known bad rows instead of re-checking.
        skip = None
        if problems:
            self.register("ledger_bad_rows", pa.table({"_row": [p.row for p in problems]}))
            skip = "ledger_bad_rows"
        clean = normalise_sql(columns, checked=False, skip_table=skip)
        self.view("ledger", f"SELECT {', '.join(LEDGER_COLUMNS)} FROM ({clean}) AS clean")
        if relevant is not None:
            self.view(
                "ledger_relevant",
                f"SELECT {', '.join(LEDGER_COLUMNS)} FROM ledger_kept WHERE NOT ({unusable})",
            )
            self.relevant = relevant
        rows_read = int(counts.column("n")[0].as_py())
        return LoadReport(rows_read, rows_read - len(problems), problems)


def _numbered_csv_batches(path: Path) -> tuple[pa.Schema, Iterator[pa.RecordBatch]]:
    """Stream a CSV as text columns plus `_row`, so bad values surface as row problems."""
    with open(path, newline="") as fh:
        header = fh.readline().strip().split(",")
    convert = pacsv.ConvertOptions(
        column_types={name: pa.string() for name in header}, strings_can_be_null=False
    )
    reader = pacsv.open_csv(
        path,
        read_options=pacsv.ReadOptions(block_size=CSV_BLOCK_BYTES),
        convert_options=convert,
    )
    schema = reader.schema.append(pa.field("_row", pa.int64()))

    def batches() -> Iterator[pa.RecordBatch]:
        offset = 0
        for batch in reader:
            rows = pa.array(np.arange(offset + 1, offset + batch.num_rows + 1, dtype=np.int64))
            offset += batch.num_rows
            yield pa.RecordBatch.from_arrays([*batch.columns, rows], schema=schema)

    return schema, batches()


class DuckDBEngine(LedgerEngine):
    """DuckDB in-process; optionally file-backed so a large ledger can spill to disk."""

    name = "duckdb"

    def __init__(
        self,
        database: Path | None = None,
        threads: int | None = None,
        memory_limit: str | None = None,
        spill_directory: Path | None = None,
    ) -> None:
        self.con = duckdb.connect(str(database) if database else ":memory:")
        self.con.execute("SET TimeZone = 'UTC'")
        if threads:
            self.con.execute(f"SET threads = {int(threads)}")
        if memory_limit:
            self.con.execute(f"SET memory_limit = '{memory_limit}'")
        if spill_directory:
            escaped = str(spill_directory).replace("'", "''")
            self.con.execute(f"SET temp_directory = '{escaped}'")
        # Window queries over big ledgers need not keep the input order; dropping it saves memory.
        self.con.execute("SET preserve_insertion_order = false")

    def register(self, name: str, table: pa.Table) -> None:
        """Make an Arrow table queryable under `name`."""
        self.con.register(f"{name}_arrow", table)
        self.con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM {name}_arrow")
        self.con.unregister(f"{name}_arrow")

    def register_raw(self, path: Path) -> list[str]:
        """Expose the ledger file as `raw_ledger` with a 1-based `_row`; return its columns."""
        if ledger_format(path) == "parquet":
            escaped = str(path).replace("'", "''")
            try:
                self.con.execute(
                    "CREATE OR REPLACE VIEW raw_ledger AS SELECT *, file_row_number + 1 AS _row "
                    f"FROM read_parquet('{escaped}', file_row_number = true)"
                )
            except duckdb.Error as exc:
                raise InvalidInput(f"{path}: not a readable Parquet file ({exc})") from exc
        else:
            try:
                schema, batches = _numbered_csv_batches(path)
            except (pa.ArrowInvalid, OSError) as exc:
                raise InvalidInput(f"{path}: not a readable CSV file ({exc})") from exc
            reader = pa.RecordBatchReader.from_batches(schema, batches)
            self.con.register("raw_csv_stream", reader)
            try:
                self.con.execute(
                    "CREATE OR REPLACE TABLE raw_ledger AS SELECT * FROM raw_csv_stream"
                )
            except (duckdb.Error, pa.ArrowInvalid) as exc:
                raise InvalidInput(f"{path}: not a readable CSV file ({exc})") from exc
            finally:
                self.con.unregister("raw_csv_stream")
        described = self.con.execute("DESCRIBE raw_ledger").fetchall()
        return [str(row[0]) for row in described if row[0] != "_row"]

    def materialise(self, name: str, sql: str) -> None:
        """Run `sql` once and keep its result as the table `name`."""
        self.con.execute(f"CREATE OR REPLACE TABLE {name} AS {sql}")

    def view(self, name: str, sql: str) -> None:
        """Name the query `sql` as `name`, computed wherever it is used."""
        self.con.execute(f"CREATE OR REPLACE VIEW {name} AS {sql}")

    def query(self, sql: str) -> pa.Table:
        """Run a DuckDB-dialect query and return its result."""
        return self.con.sql(sql).to_arrow_table()

    def close(self) -> None:
        """Close the connection."""
        self.con.close()

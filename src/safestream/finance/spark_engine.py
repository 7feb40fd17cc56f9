"""Spark as the engine: the same DuckDB-dialect queries, transpiled with SQLGlot.

For ledgers beyond one machine. Locally (`SparkEngine.local`) it is what the agreement test
runs, asserting the same accounts, scores and first flags as DuckDB.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import sqlglot

from safestream.core.errors import InvalidInput
from safestream.finance.engine import LedgerEngine, ledger_format


def to_spark_sql(sql: str) -> str:
    """Transpile one DuckDB-dialect statement to Spark SQL."""
    return str(sqlglot.transpile(sql, read="duckdb", write="spark")[0])


class SparkEngine(LedgerEngine):
    """Runs the finance queries on a Spark session."""

    name = "spark"

    def __init__(self, spark: Any) -> None:
        self.spark = spark
        self._cached: dict[str, Any] = {}

    @classmethod
    def local(
        cls, threads: int = 2, shuffle_partitions: int = 4, small: bool = False
    ) -> SparkEngine:
        """A local-mode session in UTC; `small` trades throughput for start-up on tiny ledgers."""
        from pyspark.sql import SparkSession

        spark = (
            SparkSession.builder.master(f"local[{threads}]")
            .appName("safestream-finance")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.sql.shuffle.partitions", str(shuffle_partitions))
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.execution.arrow.pyspark.enabled", "true")
            .config("spark.driver.memory", "2g")
        )
        if small:
            # Compiling whole-stage code costs more than it saves on a few thousand rows.
            spark = spark.config("spark.sql.codegen.wholeStage", "false").config(
                "spark.sql.adaptive.enabled", "false"
            )
        session = spark.getOrCreate()
        session.sparkContext.setLogLevel("ERROR")
        return cls(session)

    def register(self, name: str, table: pa.Table) -> None:
        """Make an Arrow table queryable under `name`."""
        frame = self.spark.createDataFrame(table)
        frame.createOrReplaceTempView(name)

    def register_raw(self, path: Path) -> list[str]:
        """Expose the ledger file as `raw_ledger` with a 1-based `_row`; return its columns."""
        reader = self.spark.read
        try:
            if ledger_format(path) == "parquet":
                frame = reader.parquet(str(path))
            else:
                frame = reader.option("header", True).csv(str(path))
        except Exception as exc:  # Spark raises its own analysis errors
            raise InvalidInput(f"{path}: not a readable ledger ({exc})") from exc
        columns = list(frame.columns)
        from pyspark.sql import Window
        from pyspark.sql import functions as F

        # File order survives a read; number rows from it without a Python worker round trip.
        order = Window.orderBy(F.monotonically_increasing_id())
        numbered = frame.withColumn("_row", F.row_number().over(order).cast("bigint"))
        numbered.createOrReplaceTempView("raw_ledger")
        return columns

    def materialise(self, name: str, sql: str) -> None:
        """Run `sql` once and keep its result cached as the view `name`."""
        if name in self._cached:
            self._cached.pop(name).unpersist()
        frame = self.spark.sql(to_spark_sql(sql)).cache()
        frame.count()
        frame.createOrReplaceTempView(name)
        self._cached[name] = frame

    def view(self, name: str, sql: str) -> None:
        """Name the query `sql` as `name`, computed wherever it is used."""
        self.spark.sql(to_spark_sql(sql)).createOrReplaceTempView(name)

    def query(self, sql: str) -> pa.Table:
        """Run a DuckDB-dialect query and return its result."""
        table: pa.Table = self.spark.sql(to_spark_sql(sql)).toArrow()
        return table

    def close(self) -> None:
        """Drop cached tables (the session stays up for reuse)."""
        for frame in self._cached.values():
            frame.unpersist()
        self._cached.clear()

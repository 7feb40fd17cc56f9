"""Indicators of paying for live-streamed abuse, one small module per family.

Each module contributes SQL column expressions (DuckDB dialect, written once, transpiled for
Spark) to one stage of the query built by `pipeline`. Numbers in comments refer to the
indicator table of the reference sheet (`finance.md`, section 3).
"""

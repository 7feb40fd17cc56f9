"""Finance: find the people who pay to watch live-streamed abuse, from transaction records.

Flow: a ledger file is validated and normalised (`schema`), indicators are computed per
transaction over rolling windows (`indicators`, SQL written once for DuckDB and Spark), a
transparent weighted score with reasons ranks payers and payees (`scoring`), personalised
PageRank spreads suspicion over the payer-payee graph (`graph`), and `alerts` writes the result.
"""

"""Parts of the synthetic ledger generator; `safestream.finance.generator` puts them together."""

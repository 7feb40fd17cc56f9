"""Benchmarks: each `bench_<topic>.py` runs SafeStream and its peer in one run, with the ratio."""

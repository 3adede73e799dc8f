"""Benchmark entries, one module per topic; each defines ``entries() -> list[regopt_core.bench.Case]``."""

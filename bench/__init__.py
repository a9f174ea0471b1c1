"""Benchmarks of pricestream: run them from the repository root with ``python -m bench.NAME``."""

"""Pieces of benchmarks/load.py: simulated people, the fake Bot API, the echo baseline."""

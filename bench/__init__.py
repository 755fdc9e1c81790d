"""Benchmarks of the otacm mock: `python -m bench` (see bench/README.md)."""

"""Rolltext benchmarks: a large generated negotiation, and timings of the paths that matter.

Run with `make bench` (or `.venv/bin/python -m bench --help`); see bench/README.md.
"""

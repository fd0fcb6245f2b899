"""Reproducible measurements: python -m benchmarks.<name>."""

"""Benchmarks that run against the local keycase stack and print figures with baselines."""

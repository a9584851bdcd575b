"""Benchmarks: each prints figures and ratios against a named baseline measured in the same run."""

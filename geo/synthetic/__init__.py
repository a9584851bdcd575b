"""Synthetic data for tests, the demo and benchmarks: a generated sample city (``python -m geo.synthetic.city``)."""

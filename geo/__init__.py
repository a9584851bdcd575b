"""Domain model, policy profiles, spatial analyses and stores for old-residential-community renovation."""

__version__ = "0.1.0"

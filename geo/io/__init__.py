"""Files in and out: readers, column normalisation, geometry checks, derived totals, importers and exporters.

Everything here talks to files or the store; the analysis packages (``policy``, ``space``) never import it.
"""

"""Experiments, peer comparisons and the ``snn`` command line."""

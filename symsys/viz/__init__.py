"""Presentation in figures (matplotlib); the public functions live in :mod:`symsys.viz.plots`."""

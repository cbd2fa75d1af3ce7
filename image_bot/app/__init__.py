"""Composition root: configuration, command line; the only place that picks adapters."""

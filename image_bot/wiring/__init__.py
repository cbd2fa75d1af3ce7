"""Composition: the registry and forge adapters (and pass options) a pass runs with.

The only place below the commands that picks concrete adapters; the pipeline gets them as
arguments typed by their protocols.
"""

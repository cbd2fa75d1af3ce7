"""Helm chart templates: literal `image:` lines read and spliced; how a chart uses a values key."""

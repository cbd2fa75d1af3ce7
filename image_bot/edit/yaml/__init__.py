"""YAML as text: parse for exact spans (bounded), quote scalars, re-read after a splice."""

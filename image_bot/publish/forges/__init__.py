"""Forge adapters, one package each (GitHub, GitLab) plus the branch-only local forge."""

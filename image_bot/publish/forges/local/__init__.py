"""The branch-only forge for a plain git remote: bot branches, no pull requests."""

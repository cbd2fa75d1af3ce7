"""Decide: tag versions, ranges, filters and policies (pure code, no I/O)."""

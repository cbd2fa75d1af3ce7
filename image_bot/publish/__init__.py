"""Publish: turn update plans into bot branches and pull/merge requests."""

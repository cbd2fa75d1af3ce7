"""Scan: ask registries which tags exist (OCI Distribution over httpx)."""

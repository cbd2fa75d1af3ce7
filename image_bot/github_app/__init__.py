"""GitHub App mode: installation auth, per-repository settings files, App webhooks and commands."""

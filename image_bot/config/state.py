"""`state:` shared state for replicas and sharded jobs (a PostgreSQL database)."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from pydantic import SecretStr, field_validator

from image_bot.config.fields import Section
from image_bot.config.policy import Duration

__all__ = ["StateSpec"]


class StateSpec(Section):
    """Shared state in PostgreSQL instead of the state file in `state_dir` (which stays the
    default): for several `serve` replicas, or `run --once --shard` jobs, on one deployment."""

    url: SecretStr
    """`postgresql://USER@HOST:5432/DATABASE` (a libpq URL; the password may come from
    `${file:...}`, `PGPASSWORD` or `~/.pgpass`). It holds first-seen times, the tag cache,
    registry facts, webhook deliveries, repository leases and the work queue of `serve`
    replicas; its tables are made and migrated on start."""
    lease: Duration = timedelta(minutes=2)
    """How long a repository stays with a process that stopped renewing its lease (a replica
    or job that died) before another takes it over; also when a replica counts as dead."""

    @field_validator("url")
    @classmethod
    def _postgres(cls, url: SecretStr) -> SecretStr:
        if urlsplit(url.get_secret_value()).scheme not in ("postgresql", "postgres"):
            msg = "state.url must be a postgresql:// URL (the state file needs no URL)"
            raise ValueError(msg)
        return url

    @field_validator("lease")
    @classmethod
    def _long_enough(cls, lease: timedelta) -> timedelta:
        if lease < timedelta(seconds=3):
            msg = "lease must be at least 3s"
            raise ValueError(msg)
        return lease

"""`run --once --shard I/N`: split the configured repositories into N stable shards.

A repository's shard is its stable hash (SHA-256 of its lease name: URL without credentials
and base branch) modulo N, so it stays in one shard whatever else the config lists or in
which order, and N jobs (a Kubernetes Indexed Job, `JOB_COMPLETION_INDEX` = I) together pass
every repository exactly once.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass

from image_bot.config import Config
from image_bot.errors import ConfigError
from image_bot.pipeline import lease_name

__all__ = ["Shard", "parse_shard"]

_FIELD = "--shard"


@dataclass(frozen=True, slots=True)
class Shard:
    """Shard `index` of `count` (0 <= index < count)."""

    index: int
    count: int

    def holds(self, key: str) -> bool:
        """Whether the repository with lease name `key` belongs to this shard."""
        digest = hashlib.sha256(key.encode("utf-8")).digest()
        return int.from_bytes(digest[:8], "big") % self.count == self.index

    def of(self, config: Config) -> Config:
        """`config` with only this shard's repositories."""
        mine = tuple(repo for repo in config.repositories if self.holds(lease_name(repo)))
        return config.model_copy(update={"repositories": mine})


def parse_shard(text: str, environ: dict[str, str] | None = None) -> Shard:
    """`I/N`, or `N` with I from `JOB_COMPLETION_INDEX` (a Kubernetes Indexed Job)."""
    environ = dict(os.environ) if environ is None else environ
    index_text, slash, count_text = text.partition("/")
    if not slash:
        index_text, count_text = environ.get("JOB_COMPLETION_INDEX", ""), text
        if not index_text:
            raise ConfigError(f"{text}: give I/N, or set JOB_COMPLETION_INDEX", field=_FIELD)
    try:
        index, count = int(index_text), int(count_text)
    except ValueError:
        raise ConfigError(f"{text}: I and N must be whole numbers", field=_FIELD) from None
    if count < 1 or not 0 <= index < count:
        raise ConfigError(f"{index}/{count}: need 0 <= I < N", field=_FIELD)
    return Shard(index, count)

"""Releases of source repositories backed by the state file (release notes for pull requests).

`CachedReleases` asks the source's forge for its releases at most once per source per pass,
and across passes reuses what the state file holds while it is younger than `ttl` *and*
already lists the release a pull request needs (a release published since is fetched at
once, whatever the ttl). A failure is remembered for the pass (asked once), never stored.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol

from image_bot.sources.links import SourceRepository
from image_bot.sources.notes import RawRelease
from image_bot.sources.releases import ReleasesUnavailable
from image_bot.state.store import StateError, StateStore

__all__ = ["CachedReleases", "ReleaseSource"]

log = logging.getLogger("image_bot.state")


class ReleaseSource(Protocol):
    """Where releases come from (`sources.releases.ReleaseFetcher`)."""

    def releases(self, source: SourceRepository) -> list[RawRelease]:
        """The newest releases of `source`; ReleasesUnavailable when they cannot be had."""
        ...


class CachedReleases:
    """A ReleaseSource answered from this pass, then the state file, then `inner`."""

    def __init__(
        self, inner: ReleaseSource, store: StateStore | None, *, ttl: timedelta, now: datetime
    ) -> None:
        self.inner = inner
        self.store = store
        self.ttl = ttl
        self.now = now
        self._pass: dict[str, list[RawRelease] | ReleasesUnavailable] = {}

    def releases(
        self, source: SourceRepository, *, knows: Callable[[RawRelease], bool]
    ) -> list[RawRelease]:
        """The releases of `source`; remembered ones only if one of them `knows` (is the
        version wanted). Raises ReleasesUnavailable (the one-line reason) when not had."""
        if source.url not in self._pass:
            self._pass[source.url] = self._remembered(source, knows) or self._fetched(source)
        found = self._pass[source.url]
        if isinstance(found, ReleasesUnavailable):
            raise found
        return found

    def _remembered(
        self, source: SourceRepository, knows: Callable[[RawRelease], bool]
    ) -> list[RawRelease] | None:
        if self.store is None:
            return None
        try:
            cached = self.store.cached_releases(source.url, ttl=self.ttl, now=self.now)
        except StateError:
            return None  # an older file opened read-only, or an unreadable one: ask
        if cached is None or not any(knows(release) for release in cached):
            return None
        return cached

    def _fetched(self, source: SourceRepository) -> list[RawRelease] | ReleasesUnavailable:
        try:
            fetched = self.inner.releases(source)
        except ReleasesUnavailable as error:
            return error
        if self.store is not None:
            try:
                self.store.store_releases(source.url, fetched, now=self.now)
            except StateError as error:
                log.warning("state file unwritable", extra={"error": error.message})
        return fetched

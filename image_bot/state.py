"""State that outlives a pass, in one SQLite file: first-seen times, tag and release caches.

First-seen times let `min_age` work without trusting any registry's `created` field. The
tag cache is short-lived (a TTL in seconds), for services that pass often. Everything here
is optional: without a state file the bot still works, and the report says what suffers.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Set
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType

from image_bot.errors import ImageBotError
from image_bot.model import Fact, ImageName, TagFacts, TagList
from image_bot.scan.registry import Registry
from image_bot.sources.notes import RawRelease

__all__ = ["CachingRegistry", "StateError", "StateStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS first_seen (
    image TEXT NOT NULL, digest TEXT NOT NULL, seen_at TEXT NOT NULL,
    PRIMARY KEY (image, digest)
);
CREATE TABLE IF NOT EXISTS tag_cache (
    image TEXT PRIMARY KEY, tags TEXT NOT NULL, fetched_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS release_cache (
    source TEXT PRIMARY KEY, releases TEXT NOT NULL, fetched_at TEXT NOT NULL
);
"""


class StateError(ImageBotError):
    """The state file cannot be opened or written (a second bot on it, a full disk)."""


class StateStore:
    """An open state file. Use as a context manager; each write is committed at once."""

    FILE_NAME = "state.sqlite3"

    def __init__(self, path: Path, *, read_only: bool = False) -> None:
        """Open (or create) the file; `read_only` (dry runs) reads it and never writes it."""
        self.path = path
        self.read_only = read_only
        try:
            if read_only:
                source = f"{path.resolve().as_uri()}?mode=ro" if path.exists() else ":memory:"
                self._db = sqlite3.connect(source, uri=True, timeout=10.0, isolation_level=None)
                if source == ":memory:":
                    self._db.executescript(_SCHEMA)
                return
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, timeout=10.0, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as error:
            raise StateError(f"cannot open state file {path}: {error}") from None

    @classmethod
    def in_dir(cls, state_dir: Path, *, read_only: bool = False) -> StateStore:
        """The state file in `state_dir`."""
        return cls(state_dir / cls.FILE_NAME, read_only=read_only)

    def __enter__(self) -> StateStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the file."""
        self._db.close()

    def first_seen(
        self, image: ImageName, digests: Iterable[str], *, now: datetime
    ) -> dict[str, datetime]:
        """When each digest of `image` was first seen; unseen ones are recorded as `now`.

        Read-only, unseen digests count as seen `now` without being recorded.
        """
        wanted = sorted(set(digests))
        if not wanted:
            return {}
        key = str(image)
        try:
            if not self.read_only:
                self._db.executemany(
                    "INSERT OR IGNORE INTO first_seen (image, digest, seen_at) VALUES (?, ?, ?)",
                    [(key, digest, now.astimezone(UTC).isoformat()) for digest in wanted],
                )
            marks = ",".join("?" * len(wanted))
            rows = self._db.execute(
                f"SELECT digest, seen_at FROM first_seen WHERE image = ? AND digest IN ({marks})",  # noqa: S608
                (key, *wanted),
            ).fetchall()
        except sqlite3.Error as error:
            raise StateError(f"state file {self.path}: {error}") from None
        seen = {digest: datetime.fromisoformat(when) for digest, when in rows}
        return {digest: seen.get(digest, now) for digest in wanted}

    def cached_tags(
        self, image: ImageName, *, ttl: timedelta, now: datetime
    ) -> tuple[str, ...] | None:
        """The tags listed less than `ttl` ago, or None."""
        if ttl <= timedelta(0):
            return None
        try:
            row = self._db.execute(
                "SELECT tags, fetched_at FROM tag_cache WHERE image = ?", (str(image),)
            ).fetchone()
        except sqlite3.Error as error:
            raise StateError(f"state file {self.path}: {error}") from None
        if row is None or now - datetime.fromisoformat(row[1]) >= ttl:
            return None
        return tuple(json.loads(row[0]))

    def store_tags(self, image: ImageName, tags: Iterable[str], *, now: datetime) -> None:
        """Remember the tags of `image` as listed at `now` (not when read-only)."""
        if self.read_only:
            return
        try:
            self._db.execute(
                "INSERT OR REPLACE INTO tag_cache (image, tags, fetched_at) VALUES (?, ?, ?)",
                (str(image), json.dumps(list(tags)), now.astimezone(UTC).isoformat()),
            )
        except sqlite3.Error as error:
            raise StateError(f"state file {self.path}: {error}") from None

    def cached_releases(
        self, source: str, *, ttl: timedelta, now: datetime
    ) -> list[RawRelease] | None:
        """The releases of `source` fetched less than `ttl` ago, or None."""
        try:
            row = self._db.execute(
                "SELECT releases, fetched_at FROM release_cache WHERE source = ?", (source,)
            ).fetchone()
        except sqlite3.Error as error:
            raise StateError(f"state file {self.path}: {error}") from None
        if row is None or now - datetime.fromisoformat(row[1]) >= ttl:
            return None
        try:
            return [_release(item) for item in json.loads(row[0])]
        except (ValueError, TypeError, KeyError):
            return None  # written by another version: fetch again

    def store_releases(self, source: str, releases: Iterable[RawRelease], *, now: datetime) -> None:
        """Remember the releases of `source` as fetched at `now` (not when read-only)."""
        if self.read_only:
            return
        rows = [
            {
                "tag": r.tag, "name": r.name, "url": r.url, "body": r.body,
                "published": r.published.isoformat() if r.published else None,
            }
            for r in releases
        ]  # fmt: skip
        try:
            self._db.execute(
                "INSERT OR REPLACE INTO release_cache (source, releases, fetched_at)"
                " VALUES (?, ?, ?)",
                (source, json.dumps(rows), now.astimezone(UTC).isoformat()),
            )
        except sqlite3.Error as error:
            raise StateError(f"state file {self.path}: {error}") from None


def _release(item: dict[str, str | None]) -> RawRelease:
    published = item.get("published")
    return RawRelease(
        tag=str(item["tag"]),
        name=str(item["name"]),
        url=str(item["url"]),
        body=str(item["body"]),
        published=datetime.fromisoformat(published) if published else None,
    )


class CachingRegistry:
    """A Registry whose tag listings are served from the state file while younger than `ttl`."""

    def __init__(
        self, inner: Registry, store: StateStore, *, ttl: timedelta, now: datetime
    ) -> None:
        self.inner = inner
        self.store = store
        self.ttl = ttl
        self.now = now
        self.hits = 0

    async def list_tags(self, name: ImageName) -> TagList:
        """The cached tags of `name`, or the registry's (then cached)."""
        cached = self.store.cached_tags(name, ttl=self.ttl, now=self.now)
        if cached is not None:
            self.hits += 1
            return TagList(image=name, tags=cached)
        listed = await self.inner.list_tags(name)
        if self.ttl > timedelta(0):
            self.store.store_tags(name, listed.tags, now=self.now)
        return listed

    async def facts(self, name: ImageName, tag: str, wanted: Set[Fact]) -> TagFacts:
        """Facts are never cached: a tag may be re-pushed with another digest."""
        return await self.inner.facts(name, tag, wanted)

    async def aclose(self) -> None:
        """Close the wrapped registry."""
        await self.inner.aclose()

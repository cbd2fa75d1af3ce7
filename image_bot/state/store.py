"""The state file: one embedded SQLite database that outlives a pass.

It holds the first-seen time per digest, the tag cache, what the registries said about
tags (the tag set of each image as a hash, the digest each tag was last seen at, the facts
of each digest), and the releases of source repositories (release notes for pull requests).
Writes of registry facts are batched into one transaction per pass.

Schema changes are additive: each table is created `IF NOT EXISTS` whenever the file is
opened for writing, so an older file gains the new tables on its next pass and an older
image-bot ignores tables it does not know. A read-only open (a dry run) of an older file
creates nothing; reading a table it lacks is a `StateError`, which callers treat as
"nothing remembered".
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType

from image_bot.errors import ImageBotError
from image_bot.model import Fact, ImageName, TagFacts
from image_bot.sources.notes import RawRelease

__all__ = ["KnownDigest", "Remembered", "StateError", "StateStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS first_seen (
    image TEXT NOT NULL, digest TEXT NOT NULL, seen_at TEXT NOT NULL,
    PRIMARY KEY (image, digest)
);
CREATE TABLE IF NOT EXISTS tag_cache (
    image TEXT PRIMARY KEY, tags TEXT NOT NULL, fetched_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS tag_listing (
    image TEXT PRIMARY KEY, listing TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS tag_digest (
    image TEXT NOT NULL, tag TEXT NOT NULL, digest TEXT NOT NULL, listing TEXT NOT NULL,
    checked_at TEXT NOT NULL, PRIMARY KEY (image, tag)
);
CREATE TABLE IF NOT EXISTS digest_facts (
    image TEXT NOT NULL, digest TEXT NOT NULL, facts TEXT NOT NULL,
    PRIMARY KEY (image, digest)
);
CREATE TABLE IF NOT EXISTS release_cache (
    source TEXT PRIMARY KEY, releases TEXT NOT NULL, fetched_at TEXT NOT NULL
);
"""
_FACTS = (Fact.CREATED, Fact.PLATFORMS, Fact.LABELS)


@dataclass(frozen=True, slots=True)
class KnownDigest:
    """The digest a tag pointed at when last checked, and the tag set of its image then."""

    digest: str
    listing: str
    checked_at: datetime


@dataclass(frozen=True, slots=True)
class Remembered:
    """What one pass learnt from the registries, written to the state file in one go."""

    listings: dict[ImageName, str]
    digests: list[tuple[ImageName, str, str, str]]  # image, tag, digest, listing
    facts: list[tuple[ImageName, str, TagFacts, frozenset[Fact]]]  # image, digest, facts, known"""


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
            # WAL + NORMAL: a commit is not synced to disk at once. A power loss may lose the
            # last commits: first-seen times then start later (min_age waits longer), and
            # registry facts are asked again. Nothing is ever wrong, only later or repeated.
            self._db.execute("PRAGMA synchronous=NORMAL")
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

    # --- what the registries said (see `state.registries.RememberedFacts`) -----------------

    def listing(self, image: ImageName) -> str | None:
        """The hash of `image`'s tag set as last listed, or None."""
        row = self._read("SELECT listing FROM tag_listing WHERE image = ?", (str(image),))
        return None if row is None else str(row[0])

    def known_digest(self, image: ImageName, tag: str) -> KnownDigest | None:
        """The digest `image:tag` pointed at when last checked, or None."""
        row = self._read(
            "SELECT digest, listing, checked_at FROM tag_digest WHERE image = ? AND tag = ?",
            (str(image), tag),
        )
        if row is None:
            return None
        return KnownDigest(row[0], row[1], datetime.fromisoformat(row[2]))

    def digest_facts(self, image: ImageName, digest: str) -> tuple[TagFacts, frozenset[Fact]]:
        """The facts known about `image@digest` (content-addressed: they never change), and
        which of created, platforms and labels they cover."""
        row = self._read(
            "SELECT facts FROM digest_facts WHERE image = ? AND digest = ?", (str(image), digest)
        )
        if row is None:
            return TagFacts(digest=digest), frozenset()
        data = json.loads(row[0])
        created = data.get("created")
        platforms = data.get("platforms")
        return (
            TagFacts(
                digest=digest,
                created=datetime.fromisoformat(created) if created else None,
                platforms=frozenset(platforms) if platforms is not None else None,
                labels=data.get("labels") or {},
            ),
            frozenset(Fact(name) for name in data.get("known", ())),
        )

    def remember(self, learnt: Remembered, *, now: datetime) -> None:
        """Write what a pass learnt, in one transaction (not when read-only)."""
        if self.read_only or not (learnt.listings or learnt.digests or learnt.facts):
            return
        when = now.astimezone(UTC).isoformat()
        try:
            with self._db:  # one transaction
                self._db.execute("BEGIN")
                self._db.executemany(
                    "INSERT OR REPLACE INTO tag_listing (image, listing) VALUES (?, ?)",
                    [(str(image), listing) for image, listing in learnt.listings.items()],
                )
                self._db.executemany(
                    "INSERT OR REPLACE INTO tag_digest (image, tag, digest, listing, checked_at)"
                    " VALUES (?, ?, ?, ?, ?)",
                    [
                        (str(i), tag, digest, listing, when)
                        for i, tag, digest, listing in learnt.digests
                    ],
                )
                self._db.executemany(
                    "INSERT OR REPLACE INTO digest_facts (image, digest, facts) VALUES (?, ?, ?)",
                    [
                        (str(i), digest, _facts_json(f, known))
                        for i, digest, f, known in learnt.facts
                    ],
                )
        except sqlite3.Error as error:
            raise StateError(f"state file {self.path}: {error}") from None

    # --- releases of source repositories (see `state.releases.CachedReleases`) ------------

    def cached_releases(
        self, source: str, *, ttl: timedelta, now: datetime
    ) -> list[RawRelease] | None:
        """The releases of `source` fetched less than `ttl` ago, or None."""
        row = self._read(
            "SELECT releases, fetched_at FROM release_cache WHERE source = ?", (source,)
        )
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

    def _read(self, query: str, parameters: Sequence[str]) -> tuple[str, ...] | None:
        try:
            row: tuple[str, ...] | None = self._db.execute(query, parameters).fetchone()
        except sqlite3.Error as error:
            raise StateError(f"state file {self.path}: {error}") from None
        return row


def _facts_json(facts: TagFacts, known: frozenset[Fact]) -> str:
    return json.dumps(
        {
            "known": sorted(str(fact) for fact in known & set(_FACTS)),
            "created": facts.created.isoformat() if facts.created else None,
            "platforms": sorted(facts.platforms) if facts.platforms is not None else None,
            "labels": dict(facts.labels),
        },
        sort_keys=True,
    )


def _release(item: dict[str, str | None]) -> RawRelease:
    published = item.get("published")
    return RawRelease(
        tag=str(item["tag"]),
        name=str(item["name"]),
        url=str(item["url"]),
        body=str(item["body"]),
        published=datetime.fromisoformat(published) if published else None,
    )

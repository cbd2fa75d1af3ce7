"""The state that outlives a pass: an embedded SQLite file, or a shared PostgreSQL database.

It holds the first-seen time per digest, the tag cache, what the registries said about
tags (the tag set of each image as a hash, the digest each tag was last seen at, the facts
of each digest), and the releases of source repositories (release notes for pull requests).
Writes of registry facts are batched into one transaction per pass. With replicas and shards
it also holds the webhook deliveries already handled, the repositories' leases (who is
passing a repository, until when) and each repository's last pass (the status pages).

Schema changes are additive. The SQLite file's tables are created `IF NOT EXISTS` whenever
it is opened for writing, so an older file gains the new tables on its next pass and an
older image-bot ignores tables it does not know; a read-only open (a dry run) of an older
file creates nothing on disk and finds the tables it lacks empty. PostgreSQL gets them from
migrations (`state/migrations`).
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType

from image_bot.model import Fact, ImageName, TagFacts
from image_bot.sources.notes import RawRelease
from image_bot.state.database import Database, SQLiteDatabase, StateError

__all__ = ["KnownDigest", "Remembered", "StateError", "StateStore"]

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


class StateStore:
    """Open state. Use as a context manager; each write is committed at once."""

    FILE_NAME = "state.sqlite3"
    DELIVERIES_KEPT = 7 * 24 * 3600.0  # seconds a webhook delivery id is remembered
    PASSES_KEPT = 30 * 24 * 3600.0  # seconds a repository's last pass is kept unrenewed

    def __init__(self, database: Database, *, read_only: bool = False) -> None:
        """State in `database`; `read_only` (dry runs) reads it and never writes it."""
        self._db = database
        self.where = database.where
        self.read_only = read_only

    @classmethod
    def in_dir(cls, state_dir: Path, *, read_only: bool = False) -> StateStore:
        """The SQLite state file in `state_dir` (made when missing, unless read-only)."""
        path = state_dir / cls.FILE_NAME
        return cls(SQLiteDatabase(path, read_only=read_only), read_only=read_only)

    @classmethod
    def at_url(cls, url: str, *, read_only: bool = False) -> StateStore:
        """The PostgreSQL state at `url` (`postgresql://...`), migrated first unless read-only."""
        from image_bot.state.postgres import PostgresDatabase  # noqa: PLC0415  (the extra)

        return cls(PostgresDatabase(url, read_only=read_only), read_only=read_only)

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
        """Close the file or connection."""
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
        if not self.read_only:
            self._db.executemany(
                "INSERT INTO first_seen (image, digest, seen_at) VALUES (?, ?, ?)"
                " ON CONFLICT DO NOTHING",
                [(key, digest, now.astimezone(UTC).isoformat()) for digest in wanted],
            )
        marks = ",".join("?" * len(wanted))
        rows = self._db.execute(
            f"SELECT digest, seen_at FROM first_seen WHERE image = ? AND digest IN ({marks})",  # noqa: S608
            (key, *wanted),
        )
        seen = {str(digest): datetime.fromisoformat(str(when)) for digest, when in rows}
        return {digest: seen.get(digest, now) for digest in wanted}

    def cached_tags(
        self, image: ImageName, *, ttl: timedelta, now: datetime, since: datetime | None = None
    ) -> tuple[str, ...] | None:
        """The tags listed less than `ttl` before `now`, or by a pass that started at or after
        `since`; else None."""
        if ttl <= timedelta(0) and since is None:
            return None
        row = self._read("SELECT tags, fetched_at FROM tag_cache WHERE image = ?", (str(image),))
        if row is None:
            return None
        fetched = datetime.fromisoformat(row[1])
        if now - fetched < ttl or (since is not None and fetched >= since):
            return tuple(json.loads(row[0]))
        return None

    def store_tags(self, image: ImageName, tags: Iterable[str], *, now: datetime) -> None:
        """Remember the tags of `image` as listed by a pass that started at `now` (not when
        read-only)."""
        if self.read_only:
            return
        self._db.execute(
            "INSERT INTO tag_cache (image, tags, fetched_at) VALUES (?, ?, ?)"
            " ON CONFLICT (image) DO UPDATE SET tags = excluded.tags,"
            " fetched_at = excluded.fetched_at",
            (str(image), json.dumps(list(tags)), now.astimezone(UTC).isoformat()),
        )

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
        with self._db.transaction():
            self._db.executemany(
                "INSERT INTO tag_listing (image, listing) VALUES (?, ?)"
                " ON CONFLICT (image) DO UPDATE SET listing = excluded.listing",
                [(str(image), listing) for image, listing in learnt.listings.items()],
            )
            self._db.executemany(
                "INSERT INTO tag_digest (image, tag, digest, listing, checked_at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (image, tag) DO UPDATE SET"
                " digest = excluded.digest, listing = excluded.listing,"
                " checked_at = excluded.checked_at",
                [
                    (str(i), tag, digest, listing, when)
                    for i, tag, digest, listing in learnt.digests
                ],
            )
            self._db.executemany(
                "INSERT INTO digest_facts (image, digest, facts) VALUES (?, ?, ?)"
                " ON CONFLICT (image, digest) DO UPDATE SET facts = excluded.facts",
                [(str(i), digest, _facts_json(f, known)) for i, digest, f, known in learnt.facts],
            )

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
        self._db.execute(
            "INSERT INTO release_cache (source, releases, fetched_at) VALUES (?, ?, ?)"
            " ON CONFLICT (source) DO UPDATE SET releases = excluded.releases,"
            " fetched_at = excluded.fetched_at",
            (source, json.dumps(rows), now.astimezone(UTC).isoformat()),
        )

    # --- webhook deliveries and leases (shared by replicas) ---------------------------------

    def first_delivery(self, delivery_id: str) -> bool:
        """Record webhook delivery `delivery_id`; True the first time it is seen (by any
        process on this state), False for a redelivery. Read-only: True, nothing recorded."""
        return delivery_id in self.first_times([delivery_id])

    def first_times(self, keys: Sequence[str]) -> set[str]:
        """Record `keys` (delivery ids, a repository's scheduled period); those recorded now
        for the first time, by whichever process on this state. Read-only: all of them."""
        if self.read_only:
            return set(keys)
        now = time.time()
        if random.random() < 0.01:  # noqa: S311  (now and then, forget the old ones)
            self._db.execute(
                "DELETE FROM deliveries WHERE received_at < ?", (now - self.DELIVERIES_KEPT,)
            )
        first: set[str] = set()
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            rows = self._db.execute(
                "INSERT INTO deliveries (id, received_at) VALUES"
                + ", ".join("(?, ?)" for _ in chunk)
                + " ON CONFLICT DO NOTHING RETURNING id",
                [value for key in chunk for value in (key, now)],
            )
            first.update(str(row[0]) for row in rows)
        return first

    def seen(self, key: str) -> bool:
        """Whether `key` was recorded (`first_times`)."""
        return self._read("SELECT 1 FROM deliveries WHERE id = ?", (key,)) is not None

    def take_lease(self, name: str, holder: str, *, seconds: float) -> bool:
        """Hold lease `name` for `seconds` from now: True when it was free, expired, or
        already `holder`'s (then renewed); False while another holder has it."""
        now = time.time()
        rows = self._db.execute(
            "INSERT INTO leases (name, holder, expires_at) VALUES (?, ?, ?)"
            " ON CONFLICT (name) DO UPDATE SET holder = excluded.holder,"
            " expires_at = excluded.expires_at"
            " WHERE leases.holder = excluded.holder OR leases.expires_at < ?"
            " RETURNING holder",
            (name, holder, now + seconds, now),
        )
        return bool(rows)

    def release_lease(self, name: str, holder: str) -> None:
        """Give lease `name` up (nothing when another holder has it by now)."""
        self._db.execute("DELETE FROM leases WHERE name = ? AND holder = ?", (name, holder))

    def lease_holder(self, name: str) -> str | None:
        """Who holds lease `name` now, or None."""
        row = self._read(
            "SELECT holder FROM leases WHERE name = ? AND expires_at >= ?", (name, time.time())
        )
        return None if row is None else row[0]

    # --- the last pass of each repository (the status pages of replicas) -------------------

    def record_pass(self, repository: str, finished_at: datetime, status: str) -> None:
        """Keep `status` (a document the service writes) as `repository`'s last pass, unless
        a pass that finished later is already recorded (not when read-only). Passes older
        than `PASSES_KEPT` (of repositories no longer passed) are forgotten now and then."""
        if self.read_only:
            return
        if random.random() < 0.01:  # noqa: S311
            self.forget_passes_before(time.time() - self.PASSES_KEPT)
        self._db.execute(
            "INSERT INTO pass_status (repository, finished_at, status) VALUES (?, ?, ?)"
            " ON CONFLICT (repository) DO UPDATE SET finished_at = excluded.finished_at,"
            " status = excluded.status WHERE pass_status.finished_at <= excluded.finished_at",
            (repository, finished_at.timestamp(), status),
        )

    def last_passes(self, repositories: Iterable[str] | None = None) -> dict[str, str]:
        """The recorded last pass of `repositories` (None: of every repository):
        repository -> its status document."""
        if repositories is None:
            rows = self._db.execute("SELECT repository, status FROM pass_status")
            return {str(repository): str(status) for repository, status in rows}
        names = sorted(set(repositories))
        found: dict[str, str] = {}
        for start in range(0, len(names), 500):
            chunk = names[start : start + 500]
            marks = ", ".join("?" for _ in chunk)  # placeholders; the names are parameters
            query = f"SELECT repository, status FROM pass_status WHERE repository IN ({marks})"  # noqa: S608
            rows = self._db.execute(query, chunk)
            found.update((str(repository), str(status)) for repository, status in rows)
        return found

    def forget_passes_before(self, moment: float) -> None:
        """Forget the last passes that finished before `moment` (epoch seconds)."""
        self._db.execute("DELETE FROM pass_status WHERE finished_at < ?", (moment,))

    def _read(self, query: str, parameters: Sequence[object]) -> tuple[str, ...] | None:
        rows = self._db.execute(query, parameters)
        return tuple(str(value) for value in rows[0]) if rows else None


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

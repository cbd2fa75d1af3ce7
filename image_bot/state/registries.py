"""Registries backed by the state file: cached tag listings, and remembered tag facts.

`RememberedFacts` is what keeps a pass with nothing new at one request per image (its tag
listing). It trusts what the state file says a tag's digest is only while

- the image's tag set is the one it was when the digest was checked (a push that adds or
  removes any tag of the image makes every remembered digest of it be asked again), and
- the check is younger than `ttl`, and
- the image is not *followed by digest*: references written `tag@digest`, or governed by a
  policy with `digest: pin` or `follow`, always have their tags' digests asked, since a tag
  moved to a new image (the same tag pushed again) changes nothing but its digest.

Facts of a digest (created time, platforms, labels) are remembered for good: a digest names
its content, so they cannot change. What it trusts, then, is that a tag re-pushed without any
change to its image's tag set is noticed within `ttl` for images not followed by digest.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import defaultdict
from collections.abc import Collection, Mapping, Set
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from image_bot.model import Fact, ImageName, TagFacts, TagList
from image_bot.scan.registry import Registry
from image_bot.state.store import KnownDigest, Remembered, StateStore

__all__ = ["CachingRegistry", "RememberedFacts", "Settled", "listing_hash"]

_CONTENT_FACTS = frozenset({Fact.CREATED, Fact.PLATFORMS, Fact.LABELS})


class CachingRegistry:
    """A Registry whose tag listings are served from the state while younger than `ttl`, or
    made since `since` (by a pass that started then or later: the passes of one scheduled
    period share their listings, as one pass shares them among its repositories)."""

    def __init__(
        self,
        inner: Registry,
        store: StateStore,
        *,
        ttl: timedelta,
        now: datetime,
        since: datetime | None = None,
    ) -> None:
        self.inner = inner
        self.store = store
        self.ttl = ttl
        self.now = now
        self.since = since
        self.hits = 0

    async def list_tags(self, name: ImageName) -> TagList:
        """The cached tags of `name`, or the registry's (then cached)."""
        cached = self.store.cached_tags(name, ttl=self.ttl, now=self.now, since=self.since)
        if cached is not None:
            self.hits += 1
            return TagList(image=name, tags=cached)
        listed = await self.inner.list_tags(name)
        if self.ttl > timedelta(0) or self.since is not None:
            self.store.store_tags(name, listed.tags, now=self.now)
        return listed

    async def facts(self, name: ImageName, tag: str, wanted: Set[Fact]) -> TagFacts:
        """Facts are never cached here (see RememberedFacts)."""
        return await self.inner.facts(name, tag, wanted)

    async def aclose(self) -> None:
        """Close the wrapped registry."""
        await self.inner.aclose()


def listing_hash(tags: Collection[str]) -> str:
    """A short hash of a tag set (order does not matter)."""
    return hashlib.sha256("\n".join(sorted(set(tags))).encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True)
class Settled:
    """What one registry session of a pass settled: each listed image's tag set (as a hash)
    and the digest each tag it asked about names. A later session of the same pass (pull
    request details) starts from it, so it neither asks those digests again nor trusts a
    state file the pass could not write (a dry run)."""

    listings: Mapping[ImageName, str] = field(default_factory=dict)
    digests: Mapping[tuple[ImageName, str], str | None] = field(default_factory=dict)
    followed: frozenset[ImageName] = frozenset()


class RememberedFacts:
    """A Registry that answers tag facts from the state file while they can be trusted (see
    the module docstring), asks the registry otherwise, and remembers what it was told.

    `followed` are the images followed by digest. Within a pass a digest asked once is not
    asked again. What the pass learnt is written to the state file by `save` (in one
    transaction; nothing when the store is read-only).
    """

    def __init__(
        self,
        inner: Registry,
        store: StateStore,
        *,
        ttl: timedelta,
        now: datetime,
        followed: Collection[ImageName] = (),
        settled: Settled | None = None,
    ) -> None:
        self.inner = inner
        self.store = store
        self.ttl = ttl
        self.now = now
        self.followed = frozenset(followed) | (settled.followed if settled else frozenset())
        self._listings: dict[ImageName, str] = dict(settled.listings) if settled else {}
        # the digest each tag names, as asked (or trusted) this pass
        self._checked: dict[tuple[ImageName, str], str | None] = (
            dict(settled.digests) if settled else {}
        )
        self._contents: dict[tuple[ImageName, str], tuple[TagFacts, frozenset[Fact]]] = {}
        self._locks: defaultdict[tuple[ImageName, str], asyncio.Lock] = defaultdict(asyncio.Lock)
        self._learnt = Remembered({}, [], [])

    def settled(self) -> Settled:
        """The tag sets listed and the digests settled so far this pass."""
        return Settled(dict(self._listings), dict(self._checked), self.followed)

    async def list_tags(self, name: ImageName) -> TagList:
        """The inner registry's listing; a changed tag set is noted (and remembered)."""
        listed = await self.inner.list_tags(name)
        listing = self._listings[name] = listing_hash(listed.tags)
        if self.store.listing(name) != listing:
            self._learnt.listings[name] = listing
        return listed

    async def facts(self, name: ImageName, tag: str, wanted: Set[Fact]) -> TagFacts:
        """The `wanted` facts of `name:tag`: remembered ones while trusted, else the registry's
        (only a HEAD when what is remembered about the digest answers the rest)."""
        content = frozenset(wanted) & _CONTENT_FACTS
        async with self._locks[name, tag]:
            if (name, tag) in self._checked:
                digest = self._checked[name, tag]
            else:
                known = self.store.known_digest(name, tag)
                if known is not None and self._trusted(name, known):
                    digest = self._checked[name, tag] = known.digest
                elif known is None or not content <= self._content(name, known.digest)[1]:
                    fetched = await self.inner.facts(name, tag, wanted)
                    self._checked_now(name, tag, fetched.digest)
                    if fetched.digest is not None and content:
                        self._learn(name, fetched.digest, fetched, content)
                    return fetched
                else:  # a HEAD says whether the tag still names what is remembered
                    digest = (await self.inner.facts(name, tag, {Fact.DIGEST})).digest
                    self._checked_now(name, tag, digest)
        if digest is None:
            return TagFacts()
        return await self._of_digest(name, digest, content, wanted)

    def _trusted(self, name: ImageName, known: KnownDigest) -> bool:
        return (
            name not in self.followed
            and known.listing == self._listings.get(name)
            and self.now - known.checked_at < self.ttl
        )

    def _checked_now(self, name: ImageName, tag: str, digest: str | None) -> None:
        self._checked[name, tag] = digest
        listing = self._listings.get(name)
        if digest is not None and listing is not None:
            self._learnt.digests.append((name, tag, digest, listing))

    def _content(self, name: ImageName, digest: str) -> tuple[TagFacts, frozenset[Fact]]:
        """What is known about `name@digest`'s content: learnt this pass, else remembered."""
        known = self._contents.get((name, digest))
        if known is None:
            known = self._contents[name, digest] = self.store.digest_facts(name, digest)
        return known

    def _learn(
        self, name: ImageName, digest: str, fetched: TagFacts, content: frozenset[Fact]
    ) -> None:
        """Add fetched content facts to those known of `name@digest` (none are forgotten)."""
        facts, known = self._content(name, digest)
        merged = TagFacts(
            digest=digest,
            created=fetched.created if Fact.CREATED in content else facts.created,
            platforms=fetched.platforms if Fact.PLATFORMS in content else facts.platforms,
            labels=fetched.labels if Fact.LABELS in content else facts.labels,
        )
        self._contents[name, digest] = (merged, known | content)
        self._learnt.facts.append((name, digest, merged, known | content))

    async def _of_digest(
        self, name: ImageName, digest: str, content: frozenset[Fact], wanted: Set[Fact]
    ) -> TagFacts:
        """The `content` facts of `name@digest`: known, else fetched by digest."""
        if not content:
            return TagFacts(digest=digest)
        async with self._locks[name, digest]:
            facts, known = self._content(name, digest)
            if not content <= known:
                self._learn(name, digest, await self.inner.facts(name, digest, wanted), content)
                facts, known = self._content(name, digest)
        return TagFacts(
            digest=digest,
            created=facts.created if Fact.CREATED in content else None,
            platforms=facts.platforms if Fact.PLATFORMS in content else None,
            labels=facts.labels if Fact.LABELS in content else {},
        )

    def save(self) -> None:
        """Write what this pass learnt to the state file (once; not when it is read-only)."""
        learnt, self._learnt = self._learnt, Remembered({}, [], [])
        self.store.remember(learnt, now=self.now)

    async def aclose(self) -> None:
        """Close the wrapped registry."""
        await self.inner.aclose()

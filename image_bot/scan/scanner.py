"""Generic over Registry: dedupe images, bound concurrency per registry, ScanFailure per image."""

from __future__ import annotations

import asyncio
from asyncio import Task
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Sequence, Set

from image_bot.errors import RegistryError
from image_bot.model import Fact, ImageName, ScanFailure, TagFacts, TagList
from image_bot.scan.registry import Registry

__all__ = ["Listed", "OncePerPass", "fetch_facts", "scan"]

# In-flight listings per registry host; the registry adapter applies its own (smaller) limit
# per connection pool, this only bounds the number of waiting tasks.
_IN_FLIGHT_PER_REGISTRY = 64

Listed = Callable[[ImageName, TagList | ScanFailure], Awaitable[None]]
"""What to do with one image's listing as soon as it arrives (it must not raise)."""


async def scan(
    registry: Registry, names: Iterable[ImageName], *, then: Listed | None = None
) -> dict[ImageName, TagList | ScanFailure]:
    """List the tags of every distinct image once; a failing registry fails only its images.

    `then` is awaited with each image's outcome as soon as it is listed (outside the
    in-flight limit), so work on one image overlaps the listings still on their way.
    """
    unique = list(dict.fromkeys(names))
    limits: defaultdict[str, asyncio.Semaphore] = defaultdict(
        lambda: asyncio.Semaphore(_IN_FLIGHT_PER_REGISTRY)
    )

    async def one(name: ImageName) -> TagList | ScanFailure:
        result: TagList | ScanFailure
        async with limits[name.registry]:
            try:
                result = await registry.list_tags(name)
            except RegistryError as error:
                result = ScanFailure(image=name, error=error)
        if then is not None:
            await then(name, result)
        return result

    results = await asyncio.gather(*(one(name) for name in unique))
    return dict(zip(unique, results, strict=True))


async def fetch_facts(
    registry: Registry, image: ImageName, tags: Sequence[str], wanted: Set[Fact]
) -> dict[str, TagFacts]:
    """The `wanted` facts for each distinct tag, fetched concurrently.

    Raises the first RegistryError (after every request has finished): facts are asked for
    elected candidates only, so a missing one means the decision cannot be made safely.
    """
    unique = list(dict.fromkeys(tags))
    results = await asyncio.gather(
        *(registry.facts(image, tag, wanted) for tag in unique), return_exceptions=True
    )
    facts: dict[str, TagFacts] = {}
    for tag, result in zip(unique, results, strict=True):
        if isinstance(result, BaseException):
            raise result
        facts[tag] = result
    return facts


class OncePerPass:
    """A Registry that asks each (image, tag) once per pass, however many decisions want it.

    References of one image at several tags (staging on 1.1, prod on 1.0) elect the same
    candidates, and each decision would otherwise fetch their digests again. An ask is
    answered by an earlier one for the same or more facts (a manifest GET answers a later
    digest-only ask, so no HEAD follows it); concurrent askers share the one request. If a
    shared request for more facts failed, a smaller ask is tried on its own. Listings pass
    through: `scan` dedupes them.
    """

    def __init__(self, inner: Registry) -> None:
        self.inner = inner
        self._asked: dict[tuple[ImageName, str], list[tuple[frozenset[Fact], Task[TagFacts]]]]
        self._asked = {}

    async def list_tags(self, name: ImageName) -> TagList:
        """The inner registry's listing."""
        return await self.inner.list_tags(name)

    async def facts(self, name: ImageName, tag: str, wanted: Set[Fact]) -> TagFacts:
        """The inner registry's facts, fetched on the first ask for them only."""
        want = frozenset(wanted)
        asked = self._asked.setdefault((name, tag), [])
        for facts, task in reversed(asked):  # the latest first: it replaced a failed one
            if want <= facts:
                try:
                    # shield: one asker being cancelled must not cancel what others await
                    return _only(await asyncio.shield(task), want)
                except RegistryError:
                    if facts == want:
                        raise
                    break
        task = asyncio.create_task(self.inner.facts(name, tag, want))
        asked.append((want, task))
        return await asyncio.shield(task)

    async def aclose(self) -> None:
        """Close the wrapped registry."""
        await self.inner.aclose()


def _only(facts: TagFacts, wanted: frozenset[Fact]) -> TagFacts:
    """`facts` with only the `wanted` ones (as an ask for those alone would return)."""
    return TagFacts(
        digest=facts.digest,
        created=facts.created if Fact.CREATED in wanted else None,
        platforms=facts.platforms if Fact.PLATFORMS in wanted else None,
        labels=facts.labels if Fact.LABELS in wanted else {},
    )

"""Count what a pass reads from registries (tags listed per host), for the service's metrics.

The pipeline's report says what changed, not how much was read; wrapping the registry the
pass opens is the one place that sees every tag listing, whatever the pipeline caches on top.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Set
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from image_bot.model import Fact, ImageName, TagFacts, TagList
from image_bot.scan.registry import Registry

__all__ = ["CountingRegistry", "counting"]


class CountingRegistry:
    """A Registry that adds the number of tags each listing returned to `counts[host]`."""

    def __init__(self, inner: Registry, counts: Counter[str]) -> None:
        self._inner = inner
        self._counts = counts

    async def list_tags(self, name: ImageName) -> TagList:
        listed = await self._inner.list_tags(name)
        self._counts[name.registry] += len(listed.tags)
        return listed

    async def facts(self, name: ImageName, tag: str, wanted: Set[Fact]) -> TagFacts:
        return await self._inner.facts(name, tag, wanted)

    async def aclose(self) -> None:
        await self._inner.aclose()


def counting(
    open_registry: AbstractAsyncContextManager[Registry], counts: Counter[str]
) -> AbstractAsyncContextManager[Registry]:
    """`open_registry`, with its registry counted into `counts`."""

    @asynccontextmanager
    async def opened() -> AsyncIterator[Registry]:
        async with open_registry as inner:
            yield CountingRegistry(inner, counts)

    return opened()

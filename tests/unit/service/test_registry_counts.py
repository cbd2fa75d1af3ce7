"""Tags listed per registry host are counted through the wrapper, whatever the caller does."""

from __future__ import annotations

from collections import Counter
from collections.abc import Set
from types import TracebackType

import pytest

from image_bot.errors import ImageNotFound
from image_bot.model import Fact, ImageName, TagFacts, TagList
from image_bot.service.registry_counts import counting

APP = ImageName("ghcr.io", "acme/app")
WEB = ImageName("registry.example.com:5000", "team/web")


class InMemoryRegistry:
    """A Registry over a dict (the protocol's smallest real implementation)."""

    def __init__(self, tags: dict[ImageName, tuple[str, ...]]) -> None:
        self.tags = tags
        self.closed = False

    async def list_tags(self, name: ImageName) -> TagList:
        if name not in self.tags:
            raise ImageNotFound(name.registry, "no such repository", image=str(name))
        return TagList(name, self.tags[name])

    async def facts(self, name: ImageName, tag: str, wanted: Set[Fact]) -> TagFacts:
        return TagFacts(digest=f"sha256:{tag}")

    async def aclose(self) -> None:
        self.closed = True

    async def __aenter__(self) -> InMemoryRegistry:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()


async def test_counts_tags_per_host_and_passes_everything_through() -> None:
    inner = InMemoryRegistry({APP: ("1.0", "1.1", "2.0"), WEB: ("a", "b")})
    counts: Counter[str] = Counter()
    async with counting(inner, counts) as registry:
        assert (await registry.list_tags(APP)).tags == ("1.0", "1.1", "2.0")
        await registry.list_tags(WEB)
        await registry.list_tags(APP)
        assert (await registry.facts(APP, "1.1", {Fact.DIGEST})).digest == "sha256:1.1"
        with pytest.raises(ImageNotFound):
            await registry.list_tags(ImageName("ghcr.io", "acme/missing"))
    assert counts == {"ghcr.io": 6, "registry.example.com:5000": 2}
    assert inner.closed

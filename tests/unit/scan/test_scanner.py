"""The scanner over any Registry: one listing per image, failures stay with their image."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Set

import pytest

from image_bot.errors import ImageNotFound, RegistryError, RegistryUnavailable
from image_bot.model import Fact, ImageName, ScanFailure, TagFacts, TagList
from image_bot.scan.scanner import OncePerPass, fetch_facts, scan


class MemoryRegistry:
    """A real, in-memory Registry implementation (down hosts fail like an unreachable one)."""

    def __init__(
        self,
        tags: dict[ImageName, tuple[str, ...]],
        down: Set[str] = frozenset(),
        no_platforms: bool = False,
    ) -> None:
        self.tags = tags
        self.down = down
        self.no_platforms = no_platforms  # asking for platforms fails (a broken index)
        self.listings: Counter[ImageName] = Counter()
        self.fact_calls: list[str] = []
        self.wanted: list[frozenset[Fact]] = []

    async def list_tags(self, name: ImageName) -> TagList:
        self.listings[name] += 1
        if name.registry in self.down:
            raise RegistryUnavailable(name.registry, "connection refused", image=str(name))
        if name not in self.tags:
            raise ImageNotFound(name.registry, "NAME_UNKNOWN", image=str(name))
        return TagList(name, self.tags[name])

    async def facts(self, name: ImageName, tag: str, wanted: Set[Fact]) -> TagFacts:
        self.fact_calls.append(tag)
        self.wanted.append(frozenset(wanted))
        await asyncio.sleep(0)  # answers arrive later, as over a network
        if tag not in self.tags.get(name, ()):
            raise ImageNotFound(name.registry, f"tag {tag}", image=str(name))
        if Fact.PLATFORMS in wanted:
            if self.no_platforms:
                raise RegistryError(name.registry, "index unreadable", image=str(name))
            return TagFacts(digest=f"sha256:{tag}", platforms=frozenset({"linux/amd64"}))
        return TagFacts(digest=f"sha256:{tag}")

    async def aclose(self) -> None:
        return None


A = ImageName("a.example", "team/one")
B = ImageName("a.example", "team/two")
DOWN = ImageName("down.example", "team/three")
MISSING = ImageName("a.example", "team/missing")


async def test_each_image_is_listed_once_and_failures_stay_per_image() -> None:
    registry = MemoryRegistry({A: ("1", "2"), B: ("3",)}, down={"down.example"})
    result = await scan(registry, [A, B, A, DOWN, A, MISSING, B])
    assert list(result) == [A, B, DOWN, MISSING]
    assert set(registry.listings.values()) == {1}
    assert result[A] == TagList(A, ("1", "2"))
    assert result[B] == TagList(B, ("3",))
    down = result[DOWN]
    assert isinstance(down, ScanFailure)
    assert isinstance(down.error, RegistryUnavailable)
    assert "down.example" in str(down.error)
    assert isinstance(result[MISSING], ScanFailure)


async def test_fetch_facts_dedupes_tags() -> None:
    registry = MemoryRegistry({A: ("1", "2")})
    facts = await fetch_facts(registry, A, ["1", "2", "1"], {Fact.DIGEST})
    assert facts == {"1": TagFacts(digest="sha256:1"), "2": TagFacts(digest="sha256:2")}
    assert sorted(registry.fact_calls) == ["1", "2"]


async def test_fetch_facts_raises_the_registry_error() -> None:
    registry = MemoryRegistry({A: ("1",)})
    with pytest.raises(ImageNotFound, match="tag gone"):
        await fetch_facts(registry, A, ["1", "gone"], {Fact.DIGEST})


DIGEST, PLATFORMS = frozenset({Fact.DIGEST}), frozenset({Fact.DIGEST, Fact.PLATFORMS})


async def test_once_per_pass_shares_one_request_among_concurrent_askers() -> None:
    registry = MemoryRegistry({A: ("1", "2")})
    once = OncePerPass(registry)
    answers = await asyncio.gather(*(once.facts(A, "1", DIGEST) for _ in range(3)))
    assert answers == [TagFacts(digest="sha256:1")] * 3
    assert registry.fact_calls == ["1"]


async def test_once_per_pass_answers_a_smaller_ask_from_a_larger_one() -> None:
    registry = MemoryRegistry({A: ("1",)})
    once = OncePerPass(registry)
    both = await asyncio.gather(once.facts(A, "1", PLATFORMS), once.facts(A, "1", DIGEST))
    later = await once.facts(A, "1", DIGEST)
    assert both[0] == TagFacts(digest="sha256:1", platforms=frozenset({"linux/amd64"}))
    assert both[1] == later == TagFacts(digest="sha256:1")  # only what was asked for
    assert registry.wanted == [PLATFORMS]


async def test_once_per_pass_asks_again_for_more_than_it_was_told() -> None:
    registry = MemoryRegistry({A: ("1",)})
    once = OncePerPass(registry)
    await once.facts(A, "1", DIGEST)
    await once.facts(A, "1", PLATFORMS)
    await once.facts(A, "1", PLATFORMS)
    assert registry.wanted == [DIGEST, PLATFORMS]


async def test_once_per_pass_a_failed_larger_ask_does_not_fail_a_smaller_one() -> None:
    registry = MemoryRegistry({A: ("1",)}, no_platforms=True)
    once = OncePerPass(registry)
    with pytest.raises(RegistryError, match="index unreadable"):
        await once.facts(A, "1", PLATFORMS)
    assert await once.facts(A, "1", DIGEST) == TagFacts(digest="sha256:1")
    assert await once.facts(A, "1", DIGEST) == TagFacts(digest="sha256:1")
    with pytest.raises(RegistryError, match="index unreadable"):
        await once.facts(A, "1", PLATFORMS)  # the failure is shared, not retried
    assert registry.wanted == [PLATFORMS, DIGEST]

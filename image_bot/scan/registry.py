"""Registry protocol: all that the pipeline and the scanner know about registries."""

from __future__ import annotations

from collections.abc import Set
from typing import Protocol

from image_bot.model import Fact, ImageName, TagFacts, TagList

__all__ = ["Registry"]


class Registry(Protocol):
    """Reads tags and per-tag facts from container registries.

    Implementations raise only `image_bot.errors.RegistryError` subclasses.
    """

    async def list_tags(self, name: ImageName) -> TagList:
        """Every tag of `name` (all pages), in registry order."""
        ...

    async def facts(self, name: ImageName, tag: str, wanted: Set[Fact]) -> TagFacts:
        """The `wanted` facts about `name:tag` (or `name@digest` when `tag` is a digest, as
        `state.RememberedFacts` asks); fetches the config blob only if needed."""
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...

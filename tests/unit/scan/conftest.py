"""Helpers for the scan unit tests: an OCIRegistry that records its sleeps instead of sleeping."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path

import pytest

from image_bot.scan.hosts import RegistrySettings
from image_bot.scan.oci import OCIRegistry


class Sleeps(list[float]):
    """Records each requested pause; returns at once so retry tests stay fast."""

    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


MakeRegistry = Callable[..., OCIRegistry]


@pytest.fixture
async def make_registry(tmp_path: Path, sleeps: Sleeps) -> AsyncIterator[MakeRegistry]:
    """Build OCIRegistry instances with no docker config (unless given) and recorded sleeps."""
    made: list[OCIRegistry] = []

    def make(settings: Sequence[RegistrySettings] = (), **kwargs: object) -> OCIRegistry:
        kwargs.setdefault("docker_config", tmp_path / "no-docker-config.json")
        kwargs.setdefault("sleep", sleeps)
        registry = OCIRegistry(settings, **kwargs)  # type: ignore[arg-type]
        made.append(registry)
        return registry

    yield make
    for registry in made:
        await registry.aclose()

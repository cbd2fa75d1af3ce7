"""One conformance suite for every Registry: what the pipeline may rely on, whatever the
implementation and the auth mode, checked against real docker-registry processes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from image_bot.errors import ImageNotFound, RegistryError
from image_bot.model import Fact, ImageName
from image_bot.scan.hosts import RegistrySettings
from image_bot.scan.oci import OCIRegistry
from image_bot.scan.registry import Registry
from image_bot.state import CachingRegistry, StateStore
from tests.support.registry import RunningRegistry

pytestmark = pytest.mark.integration

CREATED = datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC)
LABELS = {"org.opencontainers.image.source": "https://example.com/app"}


@dataclass
class Case:
    running: RunningRegistry
    registry: Registry


def _oci(running: RunningRegistry, tmp_path: Path) -> OCIRegistry:
    settings = RegistrySettings(
        running.host, insecure=True, username=running.username, password=running.password
    )
    return OCIRegistry([settings], docker_config=tmp_path / "none.json")


IMPLEMENTATIONS: dict[str, tuple[str, Callable[[RunningRegistry, Path], Registry]]] = {
    "oci-anonymous": ("registry", _oci),
    "oci-basic": ("basic_registry", _oci),
    "oci-token": ("token_registry", _oci),
    "caching-over-oci": (
        "token_registry",
        lambda running, tmp: CachingRegistry(
            _oci(running, tmp),
            StateStore.in_dir(tmp / "state"),
            ttl=timedelta(hours=1),
            now=datetime.now(UTC),
        ),
    ),
}


@pytest.fixture(params=sorted(IMPLEMENTATIONS))
async def case(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Case]:
    fixture, make = IMPLEMENTATIONS[request.param]
    running = request.getfixturevalue(fixture)
    assert isinstance(running, RunningRegistry)
    registry = make(running, tmp_path)
    yield Case(running, registry)
    await registry.aclose()
    if isinstance(registry, CachingRegistry):
        registry.store.close()


async def test_lists_every_tag_of_the_image(case: Case, repo_name: str) -> None:
    tags = [f"2.{i}.0" for i in range(150)]
    case.running.push_tags(repo_name, tags)
    name = ImageName(case.running.host, repo_name)
    listed = await case.registry.list_tags(name)
    assert listed.image == name
    assert sorted(listed.tags) == sorted(tags)
    assert len(set(listed.tags)) == len(listed.tags)


async def test_unknown_image_and_tag_are_image_not_found(case: Case, repo_name: str) -> None:
    name = ImageName(case.running.host, repo_name)
    with pytest.raises(ImageNotFound):
        await case.registry.list_tags(name)
    case.running.push_image(repo_name, "1.0")
    with pytest.raises(ImageNotFound):
        await case.registry.facts(name, "9.9", {Fact.DIGEST})


async def test_facts_report_what_was_pushed(case: Case, repo_name: str) -> None:
    digest = case.running.push_image(
        repo_name,
        "1.0",
        platforms=("linux/amd64", "linux/arm64"),
        created=CREATED,
        labels=LABELS,
    )
    name = ImageName(case.running.host, repo_name)
    facts = await case.registry.facts(name, "1.0", set(Fact))
    assert facts.digest == digest
    assert facts.platforms == {"linux/amd64", "linux/arm64"}
    assert facts.created == CREATED
    assert dict(facts.labels) == LABELS
    assert (await case.registry.facts(name, "1.0", {Fact.DIGEST})).digest == digest


async def test_only_registry_errors_escape(case: Case) -> None:
    name = ImageName(case.running.host, "UPPER/case")  # not a valid repository name
    with pytest.raises(RegistryError):
        await case.registry.list_tags(name)

"""OCIRegistry and scan() against real docker-registry processes (distribution 2.8.2)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from image_bot.config import Config
from image_bot.errors import ImageNotFound, RegistryAuthError, RegistryUnavailable
from image_bot.model import Fact, ImageName, Occurrence, OccurrenceKind, ScanFailure, TagList
from image_bot.pipeline.decisions import scan_and_decide
from image_bot.reference import parse_reference
from image_bot.scan.hosts import RegistrySettings
from image_bot.scan.oci import OCIRegistry
from image_bot.scan.scanner import scan
from tests.support.registry import RunningRegistry, start_registry

pytestmark = pytest.mark.integration


def _client(
    *registries: RunningRegistry, password: str | None = None, tmp: Path, **kwargs: object
) -> OCIRegistry:
    settings = [
        RegistrySettings(
            reg.host,
            insecure=True,
            username=reg.username,
            password=password if password is not None and reg.username else reg.password,
        )
        for reg in registries
    ]
    return OCIRegistry(settings, docker_config=tmp / "no-config.json", **kwargs)  # type: ignore[arg-type]


@pytest.fixture(params=["registry", "basic_registry", "token_registry"])
def any_registry(request: pytest.FixtureRequest) -> RunningRegistry:
    running = request.getfixturevalue(request.param)
    assert isinstance(running, RunningRegistry)
    return running


async def test_list_tags(any_registry: RunningRegistry, repo_name: str, tmp_path: Path) -> None:
    tags = [f"1.{i}.0" for i in range(1200)]
    any_registry.push_tags(repo_name, tags)
    async with _client(any_registry, tmp=tmp_path) as client:
        result = await client.list_tags(ImageName(any_registry.host, repo_name))
    assert sorted(result.tags) == sorted(tags)  # 2.8 answers unsorted and in one page


@pytest.fixture(params=["basic_registry", "token_registry"])
def auth_registry(request: pytest.FixtureRequest) -> RunningRegistry:
    running = request.getfixturevalue(request.param)
    assert isinstance(running, RunningRegistry)
    return running


async def test_wrong_password_is_an_auth_error(
    auth_registry: RunningRegistry, repo_name: str, tmp_path: Path
) -> None:
    any_registry = auth_registry
    any_registry.push_tags(repo_name, ["1"])
    async with _client(any_registry, password="not-the-password", tmp=tmp_path) as client:
        with pytest.raises(RegistryAuthError) as caught:
            await client.list_tags(ImageName(any_registry.host, repo_name))
    assert any_registry.host in str(caught.value)
    assert "not-the-password" not in str(caught.value)


async def test_missing_credentials_are_an_auth_error(
    basic_registry: RunningRegistry, repo_name: str, tmp_path: Path
) -> None:
    settings = [RegistrySettings(basic_registry.host, insecure=True)]
    async with OCIRegistry(settings, docker_config=tmp_path / "none.json") as client:
        with pytest.raises(RegistryAuthError, match="no credentials"):
            await client.list_tags(ImageName(basic_registry.host, repo_name))


async def test_unknown_repository_is_image_not_found(
    any_registry: RunningRegistry, repo_name: str, tmp_path: Path
) -> None:
    async with _client(any_registry, tmp=tmp_path) as client:
        with pytest.raises(ImageNotFound, match="NAME_UNKNOWN"):
            await client.list_tags(ImageName(any_registry.host, repo_name))
        any_registry.push_tags(repo_name, ["1"])
        with pytest.raises(ImageNotFound):
            await client.facts(ImageName(any_registry.host, repo_name), "2", {Fact.DIGEST})


async def test_digests_match_what_was_pushed(
    any_registry: RunningRegistry, repo_name: str, tmp_path: Path
) -> None:
    single = any_registry.push_image(repo_name, "1.0")
    multi = any_registry.push_image(repo_name, "2.0", platforms=("linux/amd64", "linux/arm64"))
    name = ImageName(any_registry.host, repo_name)
    async with _client(any_registry, tmp=tmp_path) as client:
        assert (await client.facts(name, "1.0", {Fact.DIGEST})).digest == single
        assert (await client.facts(name, "2.0", {Fact.DIGEST})).digest == multi
        # a GET (for platforms) reports the same digest as the HEAD
        assert (await client.facts(name, "2.0", {Fact.PLATFORMS})).digest == multi


async def test_platforms_created_and_labels(
    token_registry: RunningRegistry, repo_name: str, tmp_path: Path
) -> None:
    created = datetime(2024, 5, 1, 10, 20, 30, tzinfo=UTC)
    labels = {
        "org.opencontainers.image.source": "https://github.com/example/app",
        "org.opencontainers.image.revision": "0123abc",
    }
    token_registry.push_image(
        repo_name,
        "3.0",
        platforms=("linux/amd64", "linux/arm64/v8", "linux/arm/v7"),
        created=created,
        labels=labels,
    )
    token_registry.push_image(repo_name, "3.0-arm", platforms=("linux/arm64/v8",))
    name = ImageName(token_registry.host, repo_name)
    async with _client(token_registry, tmp=tmp_path) as client:
        facts = await client.facts(name, "3.0", set(Fact))
        arm = await client.facts(name, "3.0-arm", {Fact.PLATFORMS})
        digest_only = await client.facts(name, "3.0", {Fact.DIGEST})
    assert facts.platforms == {"linux/amd64", "linux/arm64/v8", "linux/arm/v7"}
    assert facts.created == created
    assert dict(facts.labels) == labels
    assert arm.platforms == {"linux/arm64/v8"}
    assert digest_only.created is None
    assert digest_only.labels == {}


async def test_tokens_are_reused_per_repository(
    token_registry: RunningRegistry, repo_name: str, tmp_path: Path
) -> None:
    server = token_registry.token_server
    assert server is not None
    token_registry.push_image(repo_name, "1.0")
    name = ImageName(token_registry.host, repo_name)
    before = server.requests
    async with _client(token_registry, tmp=tmp_path) as client:
        await client.list_tags(name)
        await client.facts(name, "1.0", {Fact.DIGEST})
        await client.facts(name, "1.0", {Fact.CREATED})
    assert server.requests - before == 1


async def test_unreachable_registry_fails_only_its_images(
    registry: RunningRegistry, repo_name: str, tmp_path: Path
) -> None:
    registry.push_tags(repo_name, ["1", "2"])
    with start_registry(tmp_path / "doomed") as doomed:
        doomed.push_tags("team/gone", ["1"])
        doomed.stop()  # killed: connections are refused from now on
        up, down = ImageName(registry.host, repo_name), ImageName(doomed.host, "team/gone")
        async with _client(registry, doomed, tmp=tmp_path, retries=1, backoff=0.01) as client:
            result = await scan(client, [down, up, down])
    assert isinstance(result[up], TagList)
    assert sorted(result[up].tags) == ["1", "2"]
    failure = result[down]
    assert isinstance(failure, ScanFailure)
    assert isinstance(failure.error, RegistryUnavailable)
    assert doomed.host in str(failure.error)
    assert "ConnectError" in str(failure.error)


async def test_one_listing_per_image_however_many_occurrences(
    registry: RunningRegistry, repo_name: str, tmp_path: Path
) -> None:
    images = [ImageName(registry.host, f"{repo_name}/app{i}") for i in range(5)]
    for image in images:
        registry.push_tags(image.repository, ["1.0", "1.1"])
    occurrences = images * 20
    async with _client(registry, tmp=tmp_path) as client:
        result = await scan(client, occurrences)
        assert client.requests[registry.host] == len(images)
    assert list(result) == images
    assert all(isinstance(value, TagList) for value in result.values())


async def test_a_pass_asks_each_tags_facts_once_across_references(
    registry: RunningRegistry, repo_name: str, tmp_path: Path
) -> None:
    registry.push_tags(repo_name, ["1.0", "1.1", "1.2"], distinct=True)
    refs = [parse_reference(f"{registry.host}/{repo_name}:{tag}") for tag in ("1.0", "1.1")]
    occurrences = [
        Occurrence("f.yaml", n, (), OccurrenceKind.POD_SPEC, ref, {}) for n, ref in enumerate(refs)
    ]
    client = _client(registry, tmp=tmp_path)

    @asynccontextmanager
    async def open_registry() -> AsyncIterator[OCIRegistry]:
        async with client:
            yield client

    decided = await scan_and_decide(
        Config(),
        open_registry,
        occurrences,
        state=None,
        tag_cache_ttl=timedelta(0),
        now=datetime.now(UTC),
    )
    targets = {d.current.tag: d.target.tag for d in decided.decisions.values() if d.target}
    assert targets == {"1.0": "1.2", "1.1": "1.2"}
    # one listing, then the digests of 1.0, 1.1 and 1.2: 1.2 is asked for once, not twice
    assert client.requests[registry.host] == 1 + 3

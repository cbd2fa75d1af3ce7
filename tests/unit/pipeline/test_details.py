"""PR details when the registry cannot answer (the old version gone costs its labels only), and
what they ask of it (the old version's labels only where the new version names its source)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Set
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest

from image_bot.config import Config
from image_bot.edit.find import find_in_text
from image_bot.errors import RegistryError
from image_bot.model import Change, ChangeDetails, Fact, ImageName, TagFacts, TagList
from image_bot.pipeline.details import Describer
from image_bot.reference import with_tag
from image_bot.scan.registry import Registry

DIGEST = "sha256:" + "ab" * 32
NOW = datetime(2026, 12, 4, tzinfo=UTC)
SOURCE = {"org.opencontainers.image.source": "https://github.com/acme/web"}


class OnlyNewTags:
    """A registry that knows the new tag and nothing else (the old one was cleaned up)."""

    async def list_tags(self, name: ImageName) -> TagList:
        raise AssertionError("details never list tags")

    async def facts(self, name: ImageName, tag: str, wanted: Set[Fact]) -> TagFacts:
        if tag != "2.0":
            raise RegistryError("ghcr.io", "MANIFEST_UNKNOWN", image=f"{name}:{tag}")
        return TagFacts(digest=DIGEST, labels={**SOURCE, "org.opencontainers.image.version": "2.0"})

    async def aclose(self) -> None:
        return None


@asynccontextmanager
async def _open() -> AsyncIterator[Registry]:
    yield OnlyNewTags()


def _change(tmp_path: Path) -> Change:
    text = "services:\n  web:\n    image: ghcr.io/acme/web:1.0\n"
    (tmp_path / "compose.yaml").write_text(text)
    (occurrence,) = find_in_text(text, "compose.yaml").occurrences
    return Change(occurrence, occurrence.ref, with_tag(occurrence.ref, "2.0", None))


def test_a_deleted_old_tag_keeps_the_new_versions_details(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = Config.model_validate({"release_notes": {"enabled": False}})
    describer = Describer(config, _open, NOW)
    change = _change(tmp_path)
    with caplog.at_level(logging.INFO, logger="image_bot.pipeline"):
        (details,) = describer([change], lambda _: "images[web]").values()
    assert details.digest == DIGEST
    assert details.update_type.value == "major"
    (record,) = [r for r in caplog.records if "old version" in r.getMessage()]
    assert record.levelno == logging.INFO
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


class Labelled:
    """A registry whose tags carry the given labels; it records what it was asked."""

    def __init__(self, labels: dict[str, dict[str, str]]) -> None:
        self.labels = labels
        self.asked: list[tuple[str, frozenset[Fact]]] = []

    async def list_tags(self, name: ImageName) -> TagList:
        raise AssertionError("details never list tags")

    async def facts(self, name: ImageName, tag: str, wanted: Set[Fact]) -> TagFacts:
        self.asked.append((tag, frozenset(wanted)))
        return TagFacts(digest=DIGEST, labels=self.labels.get(tag, {}))

    async def aclose(self) -> None:
        return None


def _describe(registry: Labelled, change: Change) -> ChangeDetails:
    @asynccontextmanager
    async def opened() -> AsyncIterator[Registry]:
        yield registry

    config = Config.model_validate({"release_notes": {"enabled": False}})
    (details,) = Describer(config, opened, NOW)([change], lambda _: "images[web]").values()
    return details


def test_the_old_version_is_not_asked_when_the_new_one_names_no_source(tmp_path: Path) -> None:
    registry = Labelled({"2.0": {"org.opencontainers.image.version": "2.0"}})
    details = _describe(registry, _change(tmp_path))
    assert [tag for tag, _ in registry.asked] == ["2.0"]
    assert details.digest == DIGEST
    assert details.source is None
    assert details.compare is None


def test_the_old_versions_revision_makes_the_compare_link(tmp_path: Path) -> None:
    revision = "org.opencontainers.image.revision"
    registry = Labelled({"2.0": {**SOURCE, revision: "b" * 40}, "1.0": {revision: "a" * 40}})
    details = _describe(registry, _change(tmp_path))
    assert [tag for tag, _ in registry.asked] == ["2.0", "1.0"]
    assert registry.asked[1][1] == {Fact.LABELS}  # the old version: its labels only
    assert details.source == "https://github.com/acme/web"
    assert details.compare == f"https://github.com/acme/web/compare/{'a' * 40}...{'b' * 40}"

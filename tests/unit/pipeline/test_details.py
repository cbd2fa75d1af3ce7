"""PR details when the registry cannot answer: the old version gone costs its labels only."""

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
from image_bot.model import Change, Fact, ImageName, TagFacts, TagList
from image_bot.pipeline.details import Describer
from image_bot.reference import with_tag
from image_bot.scan.registry import Registry

DIGEST = "sha256:" + "ab" * 32
NOW = datetime(2026, 12, 4, tzinfo=UTC)


class OnlyNewTags:
    """A registry that knows the new tag and nothing else (the old one was cleaned up)."""

    async def list_tags(self, name: ImageName) -> TagList:
        raise AssertionError("details never list tags")

    async def facts(self, name: ImageName, tag: str, wanted: Set[Fact]) -> TagFacts:
        if tag != "2.0":
            raise RegistryError("ghcr.io", "MANIFEST_UNKNOWN", image=f"{name}:{tag}")
        return TagFacts(digest=DIGEST, labels={"org.opencontainers.image.version": "2.0"})

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

"""Manifest, index and config parsing."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from image_bot.scan.manifests import (
    OCI_MANIFEST,
    Manifest,
    ManifestCache,
    ManifestFormatError,
    parse_config,
    parse_manifest,
    parse_timestamp,
)


def test_index_without_media_type_field_uses_content_type() -> None:
    body = json.dumps(
        {
            "schemaVersion": 2,
            "manifests": [
                {
                    "digest": "sha256:1",
                    "platform": {"os": "linux", "architecture": "arm", "variant": "v7"},
                },
                {"digest": "sha256:2", "platform": {"os": "windows", "architecture": "amd64"}},
            ],
        }
    ).encode()
    manifest = parse_manifest(body, "application/vnd.docker.distribution.manifest.list.v2+json")
    assert manifest.is_index
    assert manifest.platforms == {"linux/arm/v7", "windows/amd64"}
    assert manifest.preferred_child() == "sha256:1"  # no linux/amd64: the first one


def test_unknown_media_type_is_refused() -> None:
    with pytest.raises(ManifestFormatError):
        parse_manifest(b'{"schemaVersion": 2, "mediaType": "application/x-helm"}', None)
    with pytest.raises(ManifestFormatError):
        parse_manifest(b"[]", None)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-05-01T10:20:30Z", datetime(2024, 5, 1, 10, 20, 30, tzinfo=UTC)),
        ("2024-05-01T10:20:30.123456789Z", datetime(2024, 5, 1, 10, 20, 30, 123456, tzinfo=UTC)),
        ("2024-05-01T12:20:30+02:00", datetime(2024, 5, 1, 10, 20, 30, tzinfo=UTC)),
        ("1970-01-01T00:00:00Z", None),  # reproducible builds: no real time
        ("0001-01-01T00:00:00Z", None),
        ("yesterday", None),
        (None, None),
    ],
)
def test_parse_timestamp(text: str | None, expected: datetime | None) -> None:
    assert parse_timestamp(text) == expected


def test_config_without_labels() -> None:
    config = parse_config(b'{"os": "linux", "architecture": "amd64", "config": {"Labels": null}}')
    assert (config.platform, config.created, dict(config.labels)) == ("linux/amd64", None, {})


def test_the_manifest_cache_keeps_the_newest_entries_by_digest() -> None:
    cache = ManifestCache(max_entries=2)
    first, second, third = (Manifest(OCI_MANIFEST, config_digest=f"sha256:{n}") for n in "abc")
    cache.put("ghcr.io", "acme/web", "sha256:1", first)
    cache.put("ghcr.io", "acme/web", "sha256:2", second)
    cache.put("ghcr.io", "acme/web", "sha256:3", third)
    assert len(cache) == 2
    assert cache.get("ghcr.io", "acme/web", "sha256:1") is None  # the oldest went
    assert cache.get("ghcr.io", "acme/web", "sha256:3") is third
    assert cache.get("ghcr.io", "acme/api", "sha256:3") is None  # per repository

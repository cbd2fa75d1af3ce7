"""Manifest, index and image-config JSON: media types, platforms, created time, labels."""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from image_bot.json_input import load_json

__all__ = [
    "ACCEPT_MANIFESTS",
    "ImageConfig",
    "Manifest",
    "ManifestCache",
    "ManifestFormatError",
    "content_digest",
    "parse_config",
    "parse_manifest",
    "parse_timestamp",
]

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
_INDEXES = frozenset({OCI_INDEX, DOCKER_LIST})
_IMAGES = frozenset({OCI_MANIFEST, DOCKER_MANIFEST})
# Without an explicit Accept, distribution 2.8 converts to schema1 (another digest) and
# answers 404 for OCI manifests; so every manifest request lists all four types.
ACCEPT_MANIFESTS = ", ".join((OCI_INDEX, OCI_MANIFEST, DOCKER_LIST, DOCKER_MANIFEST))

_FRACTION = re.compile(r"(\.\d{6})\d+")


class ManifestFormatError(ValueError):
    """The registry sent a manifest or config we cannot read."""


@dataclass(frozen=True, slots=True)
class Manifest:
    """The parts of a manifest (`config` set) or an index (`children` set) that facts need."""

    media_type: str
    config_digest: str | None = None
    children: tuple[tuple[str, str], ...] = ()  # (platform "os/arch[/variant]", digest)
    annotations: Mapping[str, str] = field(default_factory=dict)  # `org.opencontainers.*` only

    @property
    def is_index(self) -> bool:
        return self.media_type in _INDEXES

    @property
    def platforms(self) -> frozenset[str]:
        return frozenset(platform for platform, _ in self.children)

    def preferred_child(self) -> str | None:
        """The digest to read config facts from: linux/amd64 if present, else the first."""
        for platform, digest in self.children:
            if platform == "linux/amd64":
                return digest
        return self.children[0][1] if self.children else None


@dataclass(frozen=True, slots=True)
class ImageConfig:
    """Facts from an image config blob."""

    platform: str | None
    created: datetime | None
    labels: Mapping[str, str]


def content_digest(body: bytes) -> str:
    """`sha256:<hex>` of a manifest or blob body."""
    return "sha256:" + hashlib.sha256(body).hexdigest()


def _json_object(body: bytes, what: str) -> dict[str, object]:
    try:
        data = load_json(body)
    except ValueError as error:
        raise ManifestFormatError(f"{what} is not JSON: {str(error)[:200]}") from None
    if not isinstance(data, dict):
        raise ManifestFormatError(f"{what} is not a JSON object")
    return data


def _platform(spec: object) -> str | None:
    if not isinstance(spec, dict):
        return None
    os_name, arch, variant = spec.get("os"), spec.get("architecture"), spec.get("variant")
    if not isinstance(os_name, str) or not isinstance(arch, str) or not os_name or not arch:
        return None
    if os_name == "unknown" or arch == "unknown":
        return None  # buildkit attestation manifests, not a runnable platform
    return (
        f"{os_name}/{arch}/{variant}"
        if isinstance(variant, str) and variant
        else f"{os_name}/{arch}"
    )


def _annotations(data: dict[str, object]) -> dict[str, str]:
    """The `org.opencontainers.image.*` annotations (source, revision, version...), bounded."""
    raw = data.get("annotations")
    if not isinstance(raw, dict):
        return {}
    return {
        key: value[:1000]
        for key, value in raw.items()
        if isinstance(key, str)
        and key.startswith("org.opencontainers.image.")
        and isinstance(value, str)
    }


def parse_manifest(body: bytes, content_type: str | None) -> Manifest:
    """Read an image manifest or an index; schema1 and unknown types are errors."""
    data = _json_object(body, "manifest")
    media_type = data.get("mediaType")
    if not isinstance(media_type, str) or not media_type:
        media_type = (content_type or "").split(";", 1)[0].strip()
    if not media_type and data.get("schemaVersion") == 2:
        media_type = OCI_INDEX if "manifests" in data else OCI_MANIFEST
    if media_type in _INDEXES:
        entries = data.get("manifests")
        children = []
        for entry in entries if isinstance(entries, list) else []:
            if isinstance(entry, dict) and isinstance(entry.get("digest"), str):
                platform = _platform(entry.get("platform"))
                if platform is not None:
                    children.append((platform, str(entry["digest"])))
        return Manifest(media_type, children=tuple(children), annotations=_annotations(data))
    if media_type in _IMAGES:
        config = data.get("config")
        digest = config.get("digest") if isinstance(config, dict) else None
        if not isinstance(digest, str):
            raise ManifestFormatError("image manifest without a config digest")
        return Manifest(media_type, config_digest=digest, annotations=_annotations(data))
    raise ManifestFormatError(f"unsupported manifest type {media_type or 'schema1'!r}")


def parse_timestamp(text: object) -> datetime | None:
    """An RFC 3339 time (nanoseconds allowed) as an aware UTC datetime; None if unreadable."""
    if not isinstance(text, str) or not text:
        return None
    cleaned = _FRACTION.sub(r"\1", text.strip())
    if cleaned.endswith(("Z", "z")):
        cleaned = cleaned[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(cleaned)
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        if parsed.year <= 1970:
            return None  # reproducible builds stamp the epoch (or 0001-01-01): no real time
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError):  # not a time, or beyond year 9999 in UTC
        return None


class ManifestCache:
    """Manifests read in a pass, parsed, by (registry, repository, digest of their bytes):
    a manifest by digest never changes, so a pass's later registry sessions (the pull
    requests' details after the scan) need not read one the scan read. The oldest go
    beyond `max_entries`."""

    def __init__(self, max_entries: int = 4096) -> None:
        self.max_entries = max_entries
        self._manifests: dict[tuple[str, str, str], Manifest] = {}
        self._lock = threading.Lock()  # the pass's registries may run on several threads

    def get(self, registry: str, repository: str, digest: str) -> Manifest | None:
        """The manifest whose bytes have `digest`, if it was read."""
        return self._manifests.get((registry, repository, digest))

    def put(self, registry: str, repository: str, digest: str, manifest: Manifest) -> None:
        """Keep `manifest` under `digest`, which must be its bytes' (`content_digest`)."""
        with self._lock:
            self._manifests[(registry, repository, digest)] = manifest
            while len(self._manifests) > self.max_entries:
                del self._manifests[next(iter(self._manifests))]

    def __len__(self) -> int:
        return len(self._manifests)


def parse_config(body: bytes) -> ImageConfig:
    """Platform, created time and labels from an image config blob."""
    data = _json_object(body, "image config")
    config = data.get("config")
    raw_labels = config.get("Labels") if isinstance(config, dict) else None
    # labels are strings by the image spec; other values are left out, not stringified
    labels = (
        {str(k): v for k, v in raw_labels.items() if isinstance(v, str)}
        if isinstance(raw_labels, dict)
        else {}
    )
    return ImageConfig(
        platform=_platform(data), created=parse_timestamp(data.get("created")), labels=labels
    )

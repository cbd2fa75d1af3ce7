"""OCI labels -> the image's source repository on a known forge, and compare links (pure).

`org.opencontainers.image.source` is hostile input (anyone who pushes the image writes it):
only a plain `http(s)://host/path` URL of bounded length is taken, and links are built from
its parts, never pasted. The forge (GitHub or GitLab) is known by host: github.com,
gitlab.com, the configured forges' hosts and `release_notes.hosts`; on another host the
source is still linked, without compare view or release notes.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

__all__ = [
    "LABEL_REVISION",
    "LABEL_SOURCE",
    "LABEL_VERSION",
    "SourceHost",
    "SourceKind",
    "SourceRepository",
    "compare_url",
    "known_hosts",
    "safe_revision",
    "source_repository",
]

LABEL_SOURCE = "org.opencontainers.image.source"
LABEL_REVISION = "org.opencontainers.image.revision"
LABEL_VERSION = "org.opencontainers.image.version"

_MAX_URL = 300
_URL = re.compile(r"https?://[A-Za-z0-9.-]+(?::[0-9]{1,5})?(?:/[A-Za-z0-9._~%/+-]*)?")
_SCP = re.compile(r"git@(?P<host>[A-Za-z0-9.-]+):(?P<path>[A-Za-z0-9._~/-]+)")
_SEGMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_REVISION = re.compile(r"[0-9a-fA-F]{7,64}|[A-Za-z0-9][A-Za-z0-9._/+-]{0,127}")


class SourceKind(StrEnum):
    """The forges whose compare views and releases image-bot knows."""

    GITHUB = "github"
    GITLAB = "gitlab"


@dataclass(frozen=True, slots=True)
class SourceHost:
    """A host whose repositories are on `kind`, with its API (and a token, if configured)."""

    kind: SourceKind
    api_url: str
    token: str | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class SourceRepository:
    """A source repository: its web URL, and where it lives when the host is a known forge."""

    url: str  # `https://github.com/acme/app` (no `.git`, no trailing slash)
    host: str  # `github.com`, `127.0.0.1:8080`
    path: str  # `acme/app`, `group/sub/app`
    forge: SourceHost | None = None


def known_hosts(extra: Mapping[str, SourceHost] | None = None) -> dict[str, SourceHost]:
    """github.com and gitlab.com, then `extra` (configured forges and hosts; they win)."""
    hosts = {
        "github.com": SourceHost(SourceKind.GITHUB, "https://api.github.com"),
        "gitlab.com": SourceHost(SourceKind.GITLAB, "https://gitlab.com/api/v4"),
    }
    hosts.update({host.lower(): value for host, value in (extra or {}).items()})
    return hosts


def source_repository(
    labels: Mapping[str, str], hosts: Mapping[str, SourceHost]
) -> SourceRepository | None:
    """The repository `org.opencontainers.image.source` names, or None when it is absent or
    not a URL we accept (a web URL, or `git@host:path`)."""
    raw = labels.get(LABEL_SOURCE, "").strip()
    if not raw or len(raw) > _MAX_URL:
        return None
    scp = _SCP.fullmatch(raw)
    if scp is not None:
        raw = f"https://{scp['host']}/{scp['path']}"
    if _URL.fullmatch(raw) is None:
        return None
    parsed = urllib.parse.urlsplit(raw)
    host = parsed.netloc.lower()
    segments = [part for part in urllib.parse.unquote(parsed.path).split("/") if part]
    if segments:
        segments[-1] = segments[-1].removesuffix(".git")
    forge = hosts.get(host)
    if forge is not None and forge.kind is SourceKind.GITHUB:
        segments = segments[:2]
    elif forge is not None:
        segments = segments[: segments.index("-")] if "-" in segments else segments
    if not segments or not all(_SEGMENT.fullmatch(part) for part in segments):
        return None
    if forge is not None and len(segments) < 2:
        return None
    path = "/".join(segments)
    return SourceRepository(f"{parsed.scheme}://{host}/{path}", host, path, forge)


def safe_revision(labels: Mapping[str, str], key: str = LABEL_REVISION) -> str | None:
    """A label's value when it reads as a commit or tag name (else None: never linked)."""
    value = labels.get(key, "").strip()
    return value if _REVISION.fullmatch(value) and ".." not in value else None


def compare_url(source: SourceRepository, old: str, new: str) -> str | None:
    """The forge's compare view from `old` to `new` (revisions checked by `safe_revision`)."""
    if source.forge is None or old == new:
        return None
    quoted = f"{urllib.parse.quote(old, safe='')}...{urllib.parse.quote(new, safe='')}"
    if source.forge.kind is SourceKind.GITHUB:
        return f"{source.url}/compare/{quoted}"
    return f"{source.url}/-/compare/{quoted}"

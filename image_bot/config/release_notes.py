"""`release_notes`: which forges image-bot reads an image's source releases from, and how much."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import Field

from image_bot.config.fields import OptionalSecret, Section
from image_bot.config.policy import Duration

__all__ = ["ReleaseNotesSpec", "SourceHostSpec"]


class SourceHostSpec(Section):
    """A self-hosted GitHub or GitLab that image sources point to."""

    host: str = Field(pattern=r"^[A-Za-z0-9.-]+(:[0-9]+)?$")
    """The host as in the `org.opencontainers.image.source` URL: `git.example.com`."""
    type: Literal["github", "gitlab"]
    """Which forge it is (its compare links and release API)."""
    api_url: str | None = Field(default=None, pattern=r"^https?://")
    """Its API (default: GitHub Enterprise `https://HOST/api/v3`, GitLab `https://HOST/api/v4`)."""
    token: OptionalSecret = None
    """A token to read releases with (default: anonymous). Only this host ever receives it;
    the forges' own tokens are never used for sources, which image labels choose."""


class ReleaseNotesSpec(Section):
    """Release notes in pull requests: read from the image's source repository."""

    enabled: bool = True
    """Read the releases between the old and the new version (GitHub and GitLab sources)."""
    max_chars: int = Field(default=8000, ge=500, le=50_000)
    """At most this much release-note text per change; the rest is a link."""
    max_releases: int = Field(default=10, ge=1, le=30)
    """At most this many releases per change, newest first."""
    timeout: Duration = Field(default=timedelta(seconds=10), gt=timedelta(0))
    """At most this long for one source's releases."""
    cache_ttl: Duration = Field(default=timedelta(hours=1), ge=timedelta(0))
    """Reuse a source's releases from the state file this long (a release newer than the
    cached ones is fetched at once)."""
    hosts: tuple[SourceHostSpec, ...] = ()
    """Self-hosted forges sources may be on (github.com and gitlab.com are known, and so
    are the hosts of the configured `repositories[].forge`, without their tokens)."""

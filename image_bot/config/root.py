"""The root of the config file: registries, named and default policies, image rules."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from fnmatch import fnmatchcase
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Discriminator, Field, Tag, model_validator

from image_bot.config.fields import OptionalSecret, Section
from image_bot.config.github_app import GitHubAppServiceSpec
from image_bot.config.policy import Duration, PolicySpec
from image_bot.config.release_notes import ReleaseNotesSpec
from image_bot.config.repository import RepositorySpec
from image_bot.config.service import ServiceSpec
from image_bot.config.state import StateSpec
from image_bot.model import ImageName
from image_bot.reference import name_matches, name_spellings
from image_bot.scan.cloud.kinds import CloudAuth, detect

__all__ = ["AwsSpec", "Config", "ImageSpec", "RegistrySpec"]


class AwsSpec(Section):
    """ECR: which AWS identity reads the registry (default: botocore's standard chain)."""

    profile: str | None = None
    """A profile of the AWS config files, instead of `AWS_PROFILE` or the default."""
    role_arn: str | None = Field(default=None, pattern=r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$")
    """A role to assume first, e.g. in the account that owns the registry."""


class RegistrySpec(Section):
    """Settings for one registry host: credentials, mirror, plain http, concurrency."""

    host: str = Field(pattern=r"^[A-Za-z0-9.-]+(:[0-9]+)?$|^\[[0-9a-fA-F:]+\](:[0-9]+)?$")
    """Registry host as in image names: `docker.io`, `ghcr.io`, `registry.example.com:5000`."""
    mirror: str | None = Field(default=None, pattern=r"^https?://")
    """URL of a pull-through mirror to read tags from instead (`https://mirror.example.com`)."""
    insecure: bool = False
    """Talk plain http to this host (and allow credentials over it); certificates are still
    checked wherever TLS is used."""
    username: str | None = None
    """User for basic auth or the token exchange. Without it: anonymous or docker config."""
    password: OptionalSecret = None
    """Password or token for `username`; write it as `${ENV}` or `${file:/path}`."""
    concurrency: int = Field(default=8, ge=1, le=64)
    """At most this many requests in flight to this host."""
    token_realms: tuple[str, ...] = ()
    """Extra hosts whose token endpoint may receive these credentials (besides the host)."""
    timeout: Duration = Field(default=timedelta(seconds=60), gt=timedelta(0))
    """At most this long for one request to this host, its whole answer included (`30s`)."""
    auth: Literal["ecr", "gcr", "acr", "none"] | None = None
    """Native cloud auth: `ecr` (AWS), `gcr` (Google Artifact/Container Registry), `acr`
    (Azure), each with its extra installed (`image-bot[aws]`, `[gcp]`, `[azure]`). Unset:
    chosen by the host's name; `none`: never (username/password or docker config only)."""
    aws: AwsSpec | None = None
    """ECR only: the AWS profile, or a role to assume."""

    @model_validator(mode="after")
    def _aws_only_for_ecr(self) -> RegistrySpec:
        kind = self.auth or detect(self.host)
        if self.aws is not None and kind != CloudAuth.ECR:
            msg = "aws applies to ECR registries only (auth: ecr)"
            raise ValueError(msg)
        return self

    @model_validator(mode="after")
    def _password_needs_user(self) -> RegistrySpec:
        if self.password is not None and self.username is None:
            msg = "password given without username"
            raise ValueError(msg)
        return self


def _discriminate_policy(value: object) -> str:
    return "policy-name" if isinstance(value, str) else "policy-mapping"


PolicyOrName = Annotated[
    Annotated[PolicySpec, Tag("policy-mapping")] | Annotated[str, Tag("policy-name")],
    Discriminator(_discriminate_policy),
]


class ImageSpec(Section):
    """A policy for the images whose name matches a glob."""

    name: str = Field(min_length=1)
    """Glob on the image name without tag: `nginx`, `bitnami/*`, `ghcr.io/acme/*`, `*`."""
    policy: PolicyOrName
    """A policy written here, or the name of one in `policies`."""

    def matches(self, image: ImageName) -> bool:
        """True when `name` matches any spelling of `image` (`nginx`, `library/nginx`, ...)."""
        return name_matches(image, self.name)


_GLOB_CHARACTERS = frozenset("*?[")


@dataclass(frozen=True)
class _EntryIndex:
    """`images` entries: names without glob characters (name -> first position), and the
    globs in order. The first entry that matches wins, as a scan in order would find it."""

    images: tuple[ImageSpec, ...]
    exact: dict[str, int]
    globs: tuple[tuple[int, str], ...]

    @classmethod
    def of(cls, images: tuple[ImageSpec, ...]) -> _EntryIndex:
        exact: dict[str, int] = {}
        globs: list[tuple[int, str]] = []
        for position, entry in enumerate(images):
            if _GLOB_CHARACTERS.isdisjoint(entry.name):
                exact.setdefault(entry.name, position)
            else:
                globs.append((position, entry.name))
        return cls(images, exact, tuple(globs))

    def first(self, image: ImageName) -> ImageSpec | None:
        spellings = name_spellings(image)
        found = min((self.exact[s] for s in spellings if s in self.exact), default=None)
        for position, pattern in self.globs:
            if found is not None and position >= found:
                break
            if any(fnmatchcase(spelling, pattern) for spelling in spellings):
                return self.images[position]
        return None if found is None else self.images[found]


class Config(Section):
    """The image-bot configuration file."""

    state_dir: Path | None = None
    """Where the state file lives: first-seen time per digest, tag cache (default:
    `$XDG_STATE_HOME/image-bot`). Clones go to `$XDG_CACHE_HOME/image-bot`."""
    state: StateSpec | None = None
    """Shared state in PostgreSQL (replicas, shards) instead of the state file."""
    docker_config: Path | None = None
    """A docker `config.json` to read registry credentials from (default: `$DOCKER_CONFIG`)."""
    registries: tuple[RegistrySpec, ...] = ()
    """Per-registry settings; registries not listed are used anonymously (or via docker config)."""
    policies: dict[str, PolicySpec] = Field(default_factory=dict)
    """Named policies: referred to by `images[].policy` and by markers
    (`# {"$imagepolicy": "flux-system:app"}` uses `flux-system:app`, else `app`)."""
    default_policy: PolicySpec = PolicySpec()
    """The policy of images that no marker and no `images` entry names."""
    images: tuple[ImageSpec, ...] = ()
    """Policies by image name; the first matching entry wins."""
    repositories: tuple[RepositorySpec, ...] = ()
    """The repositories to update."""
    release_notes: ReleaseNotesSpec = ReleaseNotesSpec()
    """Release notes (and source links) in pull requests, from the images' OCI labels."""
    service: ServiceSpec = ServiceSpec()
    """`image-bot serve` settings (schedule, listen address, webhooks)."""
    github_app: GitHubAppServiceSpec | None = None
    """`image-bot serve` only: also update every repository the GitHub App is installed on."""

    @model_validator(mode="after")
    def _unique_registries(self) -> Config:
        hosts = [registry.host.lower() for registry in self.registries]
        duplicate = next((host for host in hosts if hosts.count(host) > 1), None)
        if duplicate is not None:
            msg = f"registry {duplicate} is listed twice"
            raise ValueError(msg)
        return self

    def policy_for(self, image: ImageName, marker: str | None = None) -> PolicySpec:
        """The policy of `image`: the marker's named policy, else the first matching
        `images` entry, else `default_policy`. Names are checked by `load_config`."""
        if marker is not None:
            named = self.named_policy(marker)
            if named is not None:
                return named
        entry = self.image_entry(image)
        if entry is None:
            return self.default_policy
        return self.policies[entry.policy] if isinstance(entry.policy, str) else entry.policy

    def image_entry(self, image: ImageName) -> ImageSpec | None:
        """The first `images` entry whose name matches `image` (as `ImageSpec.matches`)."""
        index = self.image_entry_index
        if index.images is not self.images:  # a model_copy with other images keeps the cache
            index = self.__dict__["image_entry_index"] = _EntryIndex.of(self.images)
        return index.first(image)

    @cached_property
    def image_entry_index(self) -> _EntryIndex:
        """`images` by name, so that a lookup per reference is not a match per entry."""
        return _EntryIndex.of(self.images)

    def policy_source(self, image: ImageName, marker: str | None = None) -> str:
        """Where the policy `policy_for` picks is written: `policies.web` (named, by an
        `images` entry or a marker), `images[nginx*]` (written inline) or `default_policy`."""
        if marker is not None and self.named_policy(marker) is not None:
            name = marker if marker in self.policies else marker.rpartition(":")[2]
            return f"policies.{name}"
        entry = self.image_entry(image)  # by name: not a match per entry per reference
        if entry is None:
            return "default_policy"
        if isinstance(entry.policy, str):
            return f"policies.{entry.policy}"
        return f"images[{entry.name}]"

    def named_policy(self, name: str) -> PolicySpec | None:
        """`policies[name]`; for a Flux `namespace:name` marker also `policies[name]`."""
        if name in self.policies:
            return self.policies[name]
        return self.policies.get(name.rpartition(":")[2])

    def policy_specs(self) -> Iterator[tuple[tuple[str | int, ...], PolicySpec]]:
        """Every policy written in the file, with its location (named, default, inline)."""
        for name, policy in self.policies.items():
            yield ("policies", name), policy
        yield ("default_policy",), self.default_policy
        for index, entry in enumerate(self.images):
            if not isinstance(entry.policy, str):
                yield ("images", index, "policy"), entry.policy

    def policy_references(self) -> Iterator[tuple[tuple[str | int, ...], str]]:
        """Every place that names a policy: (location, name), for checking they exist."""
        for index, entry in enumerate(self.images):
            if isinstance(entry.policy, str):
                yield ("images", index, "policy"), entry.policy

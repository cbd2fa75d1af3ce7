"""Pydantic models of the user's intent (the config file and `--policy`): data only.

Validation here is about shape; meaning (does the range parse, does the regex compile) is
checked where the value is used (`decide.build`) and reported as a ConfigError naming the field.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterator
from datetime import timedelta
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    SecretStr,
    Tag,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from image_bot.errors import InvalidReference
from image_bot.model import ImageName
from image_bot.reference import DOCKER_HUB, parse_name

__all__ = [
    "TEMPLATE_FIELDS",
    "CommitSpec",
    "Config",
    "Duration",
    "FilterSpec",
    "ForgeSpec",
    "GitHubAppSpec",
    "GroupSpec",
    "GroupingSpec",
    "ImageSpec",
    "LimitsSpec",
    "PolicySpec",
    "PullRequestSpec",
    "RegistrySpec",
    "RepositorySpec",
    "ScheduleSpec",
    "ServiceSpec",
    "TargetSpec",
    "WebhooksSpec",
    "parse_duration",
    "parse_yaml_path",
]

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(w|d|h|m|s)")
_UNIT_SECONDS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}


def parse_duration(value: object) -> object:
    """Read `90m`, `36h`, `7d`, `1w2d` (or a number of seconds) as a timedelta.

    Anything else is passed through for pydantic to accept (a timedelta, ISO 8601) or reject.
    """
    if isinstance(value, int | float) and not isinstance(value, bool):
        return timedelta(seconds=value)
    if isinstance(value, str):
        text = value.strip().replace(" ", "")
        if text and _DURATION_PART.sub("", text) == "":
            seconds = sum(
                float(number) * _UNIT_SECONDS[unit] for number, unit in _DURATION_PART.findall(text)
            )
            return timedelta(seconds=seconds)
    return value


Duration = Annotated[
    timedelta,
    BeforeValidator(parse_duration),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "examples": ["90m", "36h", "7d", "1w2d"]},
                {"type": "number", "minimum": 0},
            ],
            "description": "A duration: `90m`, `36h`, `7d`, `1w2d`, or a number of seconds.",
        }
    ),
]


class _Strict(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, populate_by_name=True, use_attribute_docstrings=True
    )


class FilterSpec(_Strict):
    """Keep only tags matching `pattern`; order them by `extract` (`$name` or `${name}`)."""

    pattern: str
    """Regular expression a tag must match (fully); named groups can be extracted."""
    extract: str | None = None
    """What to order by, built from the match: `$name` or `${name}` of a named group."""


class PolicySpec(_Strict):
    """How to choose the tag an image moves to. Same shape in the config file and `--policy`.

    At most one ordering (`semver`, `numerical`, `alphabetical`, `newest_build`); none means
    `semver: "*"`: the newest stable version in the current tag's variant.
    """

    semver: str | None = None
    """Semver range (Flux/Masterminds grammar): `^1.2`, `~1.25`, `>=1.0 <2`, `1.x`, `*`."""
    numerical: Literal["asc", "desc"] | None = None
    """Order tags (or the filter's extract) as numbers; `asc` picks the highest."""
    alphabetical: Literal["asc", "desc"] | None = None
    """Order tags (or the filter's extract) as text; `asc` picks the last (e.g. RFC 3339)."""
    newest_build: bool = Field(default=False, alias="newest-build")
    """Pick the most recently built image (reads each candidate's creation time)."""
    filter: FilterSpec | None = None
    """Keep only tags matching a regex, and order by a part of it."""
    ignore: tuple[str, ...] = ()
    """Glob patterns of tags never chosen (`*-rc*`, `latest`)."""
    prerelease: bool = False
    """Allow pre-release versions (`1.3.0-rc.1`) to be chosen."""
    digest: Literal["never", "pin", "follow"] = "never"
    """`pin` writes `tag@digest`; `follow` also updates the digest when a tag is re-pushed."""
    min_age: Duration | None = Field(default=None, alias="min-age")
    """Only choose images at least this old (build time, or first seen by image-bot)."""
    platforms: tuple[str, ...] = ()
    """Only choose images that exist for all of these platforms (`linux/arm64`)."""
    allow_downgrade: bool = Field(default=False, alias="allow-downgrade")
    """Allow moving to a lower version than the current one (rollback by policy)."""

    @field_validator("numerical", "alphabetical", mode="before")
    @classmethod
    def _order_any_case(cls, value: object) -> object:
        # Flux spells the order `ASC`/`DESC`; accept both spellings.
        return value.lower() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _one_ordering(self) -> PolicySpec:
        chosen = [
            name
            for name, value in (
                ("semver", self.semver),
                ("numerical", self.numerical),
                ("alphabetical", self.alphabetical),
                ("newest_build", self.newest_build or None),
            )
            if value is not None
        ]
        if len(chosen) > 1:
            msg = f"choose one ordering, not {' and '.join(chosen)}"
            raise ValueError(msg)
        return self


# --- the config file -------------------------------------------------------------------------
# One YAML file (`app/configfile.py` reads it). Field docstrings are the schema descriptions,
# and so the reference in docs/configuration.md: write them for users.

TEMPLATE_FIELDS = frozenset(
    {"summary", "changes", "count", "group", "branch", "base", "repository"}
)
"""Names a commit or pull-request template may use, as `{name}` (`str.format` syntax)."""

_YAML_PATH_STEP = re.compile(
    r"""\.?(?:\[(?P<index>\d+|\*)\]|\["(?P<quoted>[^"]+)"\]|(?P<key>[^.\[\]]+))"""
)
_BRANCH_SAFE = re.compile(r"[A-Za-z0-9._/-]*")
_CRON_FIELDS = (5, 6)


def parse_yaml_path(text: str) -> tuple[str | int | None, ...]:
    """`spec.containers[*].image` -> ('spec', 'containers', None, 'image'); None is `[*]`.

    Keys are dotted, list items `[0]` (or `[*]` for every item), odd keys `["x.y/z"]`.
    """
    parts: list[str | int | None] = []
    position = 0
    while position < len(text):
        match = _YAML_PATH_STEP.match(text, position)
        if match is None or match.end() == position:
            msg = f'cannot read a YAML path at {text[position:]!r} (write a.b[0]["c.d"])'
            raise ValueError(msg)
        index = match.group("index")
        if index is not None:
            parts.append(None if index == "*" else int(index))
        else:
            parts.append(match.group("quoted") or match.group("key"))
        position = match.end()
    if not parts:
        msg = "a YAML path is not empty"
        raise ValueError(msg)
    return tuple(parts)


def _check_template(text: str) -> str:
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    except ValueError as error:
        msg = f"bad template ({error}); write a literal brace as {{{{ or }}}}"
        raise ValueError(msg) from None
    unknown = sorted(names - TEMPLATE_FIELDS)
    if unknown:
        msg = f"unknown template field {{{unknown[0]}}}; use one of " + ", ".join(
            f"{{{name}}}" for name in sorted(TEMPLATE_FIELDS)
        )
        raise ValueError(msg)
    return text


def _check_branch_safe(text: str) -> str:
    if not _BRANCH_SAFE.fullmatch(text) or ".." in text or text.startswith(("/", "-", ".")):
        msg = "use letters, digits and . _ / - (a git branch name part)"
        raise ValueError(msg)
    return text


def _check_cron(text: str) -> str:
    if len(text.split()) not in _CRON_FIELDS:
        msg = "a cron expression has 5 fields: minute hour day-of-month month day-of-week"
        raise ValueError(msg)
    return text


def _check_relative(text: str) -> str:
    if text.startswith("/") or ".." in text.split("/"):
        msg = "a path inside the repository (relative, without ..)"
        raise ValueError(msg)
    return text


def _empty_is_none(value: object) -> object:
    return None if value == "" else value


Template = Annotated[str, AfterValidator(_check_template)]
OptionalSecret = Annotated[SecretStr | None, BeforeValidator(_empty_is_none)]
"""A secret that may be absent; an empty string (`${VAR:-}` with VAR unset) is absent."""
BranchSafe = Annotated[str, AfterValidator(_check_branch_safe)]
RepoPath = Annotated[str, AfterValidator(_check_relative)]
Positive = Annotated[int, Field(ge=1)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


class RegistrySpec(_Section):
    """Settings for one registry host: credentials, mirror, plain http, concurrency."""

    host: str = Field(pattern=r"^[A-Za-z0-9.-]+(:[0-9]+)?$|^\[[0-9a-fA-F:]+\](:[0-9]+)?$")
    """Registry host as in image names: `docker.io`, `ghcr.io`, `registry.example.com:5000`."""
    mirror: str | None = Field(default=None, pattern=r"^https?://")
    """URL of a pull-through mirror to read tags from instead (`https://mirror.example.com`)."""
    insecure: bool = False
    """Talk plain http (and accept any TLS certificate) to this host."""
    username: str | None = None
    """User for basic auth or the token exchange. Without it: anonymous or docker config."""
    password: OptionalSecret = None
    """Password or token for `username`; write it as `${ENV}` or `${file:/path}`."""
    concurrency: int = Field(default=8, ge=1, le=64)
    """At most this many requests in flight to this host."""
    token_realms: tuple[str, ...] = ()
    """Extra hosts whose token endpoint may receive these credentials (besides the host)."""

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


class ImageSpec(_Section):
    """A policy for the images whose name matches a glob."""

    name: str = Field(min_length=1)
    """Glob on the image name without tag: `nginx`, `bitnami/*`, `ghcr.io/acme/*`, `*`."""
    policy: PolicyOrName
    """A policy written here, or the name of one in `policies`."""

    def matches(self, image: ImageName) -> bool:
        """True when `name` matches any spelling of `image` (`nginx`, `library/nginx`, ...)."""
        return any(fnmatchcase(spelling, self.name) for spelling in _spellings(image))


def _spellings(image: ImageName) -> tuple[str, ...]:
    spellings = [str(image)]
    if image.registry == DOCKER_HUB:
        spellings.append(image.repository)
        if image.repository.startswith("library/"):
            spellings.append(image.repository.removeprefix("library/"))
    return tuple(spellings)


class GitHubAppSpec(_Section):
    """Authenticate as a GitHub App installation instead of with a token."""

    app_id: int
    """The App's numeric id (App settings page)."""
    private_key: SecretStr
    """The App's PEM private key; write it as `${file:/run/secrets/app.pem}`."""
    installation_id: int | None = None
    """Installation to act as; default: looked up from the repository."""


ForgeKind = Literal["local", "github", "gitlab"]


def _forge_shorthand(value: object) -> object:
    return {"type": value} if isinstance(value, str) else value


class ForgeSpec(_Section):
    """Where pull requests go: `local` (branches only), `github` or `gitlab`."""

    type: ForgeKind = "local"
    """`local` pushes branches only (no pull requests); `github` or `gitlab` open them."""
    url: str | None = None
    """Web base URL for self-hosted forges: `https://github.example.com`, `https://gitlab.example.com`."""
    api_url: str | None = None
    """API base URL when it is not derived from `url` (GitHub Enterprise: `URL/api/v3`)."""
    token: OptionalSecret = None
    """API token (GitHub PAT, GitLab project/personal access token); write it as `${ENV}`."""
    app: GitHubAppSpec | None = None
    """GitHub App credentials (GitHub only; instead of `token`)."""

    @model_validator(mode="after")
    def _fits_type(self) -> ForgeSpec:
        if self.app is not None and self.type != "github":
            msg = "app is for forge type github only"
            raise ValueError(msg)
        if self.app is not None and self.token is not None:
            msg = "give token or app, not both"
            raise ValueError(msg)
        if self.type == "local" and any((self.url, self.api_url, self.token)):
            msg = "a local forge takes no url, api_url or token"
            raise ValueError(msg)
        return self

    @property
    def api_base(self) -> str | None:
        """The API base URL to talk to (None for `local`)."""
        if self.type == "local":
            return None
        if self.api_url:
            return self.api_url.rstrip("/")
        if self.type == "github":
            return f"{self.url.rstrip('/')}/api/v3" if self.url else "https://api.github.com"
        return (self.url or "https://gitlab.com").rstrip("/")


ForgeField = Annotated[
    ForgeSpec, BeforeValidator(_forge_shorthand, json_schema_input_type=ForgeSpec | ForgeKind)
]


class TargetSpec(_Section):
    """A value no finder knows: a YAML path in some files that holds an image or a tag."""

    files: str = Field(min_length=1)
    """Glob of repository files (`deploy/*/values.yaml`)."""
    path: str
    """YAML path to the value: `image.tag`, `spec.containers[*].image`, `a["dotted.key"]`."""
    image: str | None = None
    """The image the value belongs to (required for `part: tag`): `ghcr.io/acme/api`."""
    part: Literal["whole", "tag"] = "whole"
    """`tag`: the value is just the tag; `whole`: a full reference (`name:tag[@digest]`)."""

    @field_validator("path")
    @classmethod
    def _path_parses(cls, value: str) -> str:
        parse_yaml_path(value)
        return value

    @field_validator("image")
    @classmethod
    def _image_parses(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                parse_name(value)
            except InvalidReference as error:
                raise ValueError(error.why) from None
        return value

    @model_validator(mode="after")
    def _tag_needs_image(self) -> TargetSpec:
        if self.part == "tag" and self.image is None:
            msg = "part: tag needs image (the name the tag belongs to)"
            raise ValueError(msg)
        return self

    @property
    def yaml_path(self) -> tuple[str | int | None, ...]:
        """`path` as keys, indexes and None for `[*]`."""
        return parse_yaml_path(self.path)


class CommitSpec(_Section):
    """Who commits, and the commit message."""

    author_name: str = "image-bot"
    """Commit author and committer name."""
    author_email: str = "image-bot@localhost"
    """Commit author and committer email."""
    message: Template = "{summary}\n\n{changes}"
    """Template: {summary} {changes} {count} {group} {branch} {base} {repository}."""


class PullRequestSpec(_Section):
    """How pull requests (merge requests) look."""

    title: Template = "{summary}"
    """Title template (same fields as commit.message)."""
    body: Template | None = None
    """Body template; default: a table of the changes. A hidden marker is always appended."""
    labels: tuple[str, ...] = ("image-bot",)
    """Labels to set (created when missing, where the forge allows)."""
    reviewers: tuple[str, ...] = ()
    """Users to request a review from."""
    assignees: tuple[str, ...] = ()
    """Users to assign."""
    draft: bool = False
    """Open as draft."""
    automerge: bool = False
    """Ask the forge to merge once checks pass (GitHub auto-merge, GitLab auto-merge)."""


class GroupSpec(_Section):
    """A named group: one branch for every image matching any of `images`."""

    name: BranchSafe = Field(min_length=1)
    """Group name, used in the branch name (`image-bot/<name>`)."""
    images: tuple[str, ...] = Field(min_length=1)
    """Globs on image names, as in `images[].name`."""


class GroupingSpec(_Section):
    """How changes are split into branches (and so pull requests)."""

    strategy: Literal["per-image", "all", "per-directory", "named"] = "per-image"
    """`per-image`: a branch per image; `all`: one branch; `per-directory`: one per directory
    of changed files (an environment); `named`: by `groups` (other images per-image)."""
    groups: tuple[GroupSpec, ...] = ()
    """The groups of `strategy: named`, first match wins."""

    @model_validator(mode="after")
    def _groups_fit(self) -> GroupingSpec:
        if self.strategy == "named" and not self.groups:
            msg = "strategy named needs groups"
            raise ValueError(msg)
        if self.strategy != "named" and self.groups:
            msg = f"groups are only read with strategy named, not {self.strategy}"
            raise ValueError(msg)
        names = [group.name for group in self.groups]
        if len(set(names)) != len(names):
            msg = "group names must be unique"
            raise ValueError(msg)
        return self


class LimitsSpec(_Section):
    """Caps on how much the bot opens (none = no cap)."""

    max_open_pull_requests: Positive | None = 10
    """Open at most this many bot pull requests in the repository at once."""
    max_pull_requests_per_hour: Positive | None = None
    """Open at most this many new pull requests per hour."""


class ScheduleSpec(_Section):
    """When `image-bot serve` runs a pass: every `interval`, or on a `cron` expression."""

    interval: Duration | None = None
    """Time between passes: `10m`, `1h`."""
    cron: Annotated[str, AfterValidator(_check_cron)] | None = None
    """Cron expression (UTC): `*/15 * * * *`."""
    jitter: Duration = timedelta(0)
    """Start up to this much later, at random, to spread load (`30s`)."""

    @model_validator(mode="after")
    def _one_trigger(self) -> ScheduleSpec:
        if (self.interval is None) == (self.cron is None):
            msg = "give interval or cron (one of them)"
            raise ValueError(msg)
        if self.interval is not None and self.interval <= timedelta(0):
            msg = "interval must be positive"
            raise ValueError(msg)
        if self.jitter < timedelta(0):
            msg = "jitter cannot be negative"
            raise ValueError(msg)
        return self


class RepositorySpec(_Section):
    """One manifests repository to keep up to date."""

    url: str = Field(min_length=1)
    """Clone URL (`https://github.com/acme/deploy.git`) or a local path."""
    project: str | None = None
    """Project path on the forge (`acme/deploy`, `group/sub/deploy`); default: from `url`."""
    forge: ForgeField = ForgeSpec()
    """`local`, `github` or `gitlab`, or a mapping with `type` and credentials."""
    base: str = "main"
    """Branch to read manifests from and to open pull requests against."""
    branch_prefix: BranchSafe = "image-bot/"
    """Prefix of the bot's branches; the bot only ever touches branches under it."""
    paths: tuple[RepoPath, ...] = (".",)
    """Directories to scan, relative to the repository root."""
    include: tuple[str, ...] = ()
    """Globs of files to read (default: every `*.yaml`/`*.yml` and the `extra_names`)."""
    exclude: tuple[str, ...] = ()
    """Globs of files or directories to skip (`**/templates/**`, `archive/**`)."""
    extra_names: tuple[str, ...] = ()
    """More file names to read besides the YAML ones (`Chart.lock`, `compose.override`)."""
    max_file_bytes: Positive = 1_048_576
    """Skip (and report) files larger than this."""
    targets: tuple[TargetSpec, ...] = ()
    """Values no finder knows about, by file glob and YAML path."""
    commit: CommitSpec = CommitSpec()
    """Commit author and message."""
    pull_request: PullRequestSpec = PullRequestSpec()
    """Pull request title, body, labels, people, draft and automerge."""
    grouping: GroupingSpec = GroupingSpec()
    """How changes are split into branches."""
    direct_commit: bool = False
    """Push the changes to `base` directly, with no branch or pull request."""
    limits: LimitsSpec = LimitsSpec()
    """Caps on open pull requests."""
    schedule: ScheduleSpec | None = None
    """`image-bot serve` only: this repository's own schedule (default: `service.schedule`)."""

    @property
    def project_name(self) -> str:
        """`project`, or the path of `url` without `.git`: `acme/deploy`."""
        if self.project:
            return self.project
        path = self.url.rstrip("/").removesuffix(".git")
        if "://" in path:
            path = path.split("://", 1)[1].partition("/")[2]
        elif ":" in path.split("/", 1)[0]:  # scp-like git@host:acme/deploy
            path = path.split(":", 1)[1]
        return path.strip("/")


class WebhooksSpec(_Section):
    """`image-bot serve` only: secrets that webhook senders must present (unset = route off)."""

    github: OptionalSecret = None
    """GitHub webhook secret (checks `X-Hub-Signature-256`)."""
    gitlab: OptionalSecret = None
    """GitLab webhook secret token (checks `X-Gitlab-Token`)."""
    docker_hub: OptionalSecret = None
    """Token that must appear in the Docker Hub webhook URL path."""
    harbor: OptionalSecret = None
    """Harbor webhook auth header value (checks `Authorization`)."""
    quay: OptionalSecret = None
    """Token that must appear in the Quay notification URL path."""
    generic: OptionalSecret = None
    """HMAC-SHA256 key of the generic webhook (checks `X-Signature-256`)."""


class ServiceSpec(_Section):
    """`image-bot serve` only: the long-running service."""

    schedule: ScheduleSpec = ScheduleSpec(interval=timedelta(minutes=10))
    """When passes run (each repository may override it)."""
    host: str = "0.0.0.0"  # noqa: S104  (the service runs in a container; set 127.0.0.1 outside)
    """Address the HTTP server (health, metrics, status, webhooks) listens on."""
    port: int = Field(default=8080, ge=1, le=65535)
    """Port the HTTP server listens on."""
    webhooks: WebhooksSpec = WebhooksSpec()
    """Webhook secrets; a trigger runs a pass for the repositories using the pushed image."""


class Config(_Section):
    """The image-bot configuration file."""

    state_dir: Path | None = None
    """Where the bot keeps clones and first-seen times (default: `$XDG_STATE_HOME/image-bot`)."""
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
    service: ServiceSpec = ServiceSpec()
    """`image-bot serve` settings (schedule, listen address, webhooks)."""

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
        for entry in self.images:
            if entry.matches(image):
                if isinstance(entry.policy, str):
                    return self.policies[entry.policy]
                return entry.policy
        return self.default_policy

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

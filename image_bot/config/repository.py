"""What to do in one repository: forge, files, commits, pull requests, grouping, limits."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, SecretStr, field_validator, model_validator

from image_bot.config.fields import (
    BranchSafe,
    OptionalSecret,
    Positive,
    RepoPath,
    Section,
    Template,
    parse_yaml_path,
)
from image_bot.config.policy import Duration
from image_bot.config.service import ScheduleSpec
from image_bot.config.stages import StageSpec, check_stages, located, stage_graph
from image_bot.edit.find import CustomTarget
from image_bot.edit.scope import Scope
from image_bot.errors import InvalidReference
from image_bot.model import Part
from image_bot.promote.stages import StageGraph
from image_bot.publish.settings import CommitSettings, PublishSettings, PullRequestSettings
from image_bot.reference import parse_name

__all__ = [
    "CommitSpec",
    "DashboardSpec",
    "ForgeSpec",
    "GitHubAppSpec",
    "GroupSpec",
    "GroupingSpec",
    "LimitsSpec",
    "PullRequestSpec",
    "RepositorySpec",
    "TargetSpec",
]


class GitHubAppSpec(Section):
    """Authenticate as a GitHub App installation instead of with a token."""

    app_id: int
    """The App's numeric id (App settings page)."""
    private_key: SecretStr
    """The App's PEM private key; write it as `${file:/run/secrets/app.pem}`."""
    installation_id: int | None = None
    """Installation to act as; default: looked up from the repository."""


UpdateTypeName = Literal[
    "major", "minor", "patch", "pre-release", "digest-only", "rebuild", "other"
]
"""The values of `model.UpdateType` (a test keeps them equal)."""

ForgeType = Literal["local", "github", "gitlab"]
"""The forge types: the keys of `publish.forges.FORGE_KINDS` (a test keeps them equal)."""


def _forge_shorthand(value: object) -> object:
    return {"type": value} if isinstance(value, str) else value


class ForgeSpec(Section):
    """Where pull requests go: `local` (branches only), `github` or `gitlab`."""

    type: ForgeType = "local"
    """`local` pushes branches only (no pull requests); `github` or `gitlab` open them."""
    url: str | None = None
    """Web base URL for self-hosted forges: `https://github.example.com`, `https://gitlab.example.com`."""
    api_url: str | None = None
    """API base URL when it is not derived from `url` (GitHub Enterprise: `URL/api/v3`)."""
    token: OptionalSecret = None
    """API token (GitHub PAT, GitLab project/personal access token); write it as `${ENV}`."""
    app: GitHubAppSpec | None = None
    """GitHub App credentials (GitHub only; instead of `token`)."""
    write_interval: Duration | None = Field(default=None, ge=timedelta(0), le=timedelta(minutes=1))
    """GitHub only: the least time between two writes (content-creating requests) to this
    GitHub's API, taken in turns by the repositories on it that give the same value and,
    with a PostgreSQL state, by every process (default `1s`, GitHub's advice; `0s` for a
    GitHub Enterprise server without secondary rate limits)."""

    @model_validator(mode="after")
    def _fits_type(self) -> ForgeSpec:
        if self.app is not None and self.type != "github":
            msg = "app is for forge type github only"
            raise ValueError(msg)
        if self.write_interval is not None and self.type != "github":
            raise located("write_interval is for forge type github only", ("write_interval",))
        if self.app is not None and self.token is not None:
            msg = "give token or app, not both"
            raise ValueError(msg)
        if self.type == "local" and any((self.url, self.api_url, self.token)):
            msg = "a local forge takes no url, api_url or token"
            raise ValueError(msg)
        return self


ForgeField = Annotated[
    ForgeSpec, BeforeValidator(_forge_shorthand, json_schema_input_type=ForgeSpec | ForgeType)
]


class TargetSpec(Section):
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


class CommitSpec(Section):
    """Who commits, and the commit message."""

    author_name: str = "image-bot"
    """Commit author and committer name."""
    author_email: str = "image-bot@localhost"
    """Commit author and committer email."""
    message: Template = "{summary}\n\n{changes}"
    """Template: {summary} {changes} {count} {group} {branch} {base} {repository}; or
    Jinja2 (sandboxed) when it has `{{` or `{%` (docs/pull-requests.md)."""
    signed: bool = False
    """GitHub App only: GitHub makes the commits through its API as the App and signs them
    (*Verified*), instead of a git push; `author_name`/`author_email` are then the App's."""

    def settings(self) -> CommitSettings:
        """The frozen settings publishing commits with."""
        return CommitSettings(self.author_name, self.author_email, self.message)


class PullRequestSpec(Section):
    """How pull requests (merge requests) look."""

    title: Template = "{summary}"
    """Title template (same fields as commit.message)."""
    body: Template | None = None
    """Body template (`{field}` style, or Jinja2 when it has `{{` or `{%`, with the changes
    as a list to loop over); default: a table of the changes, then per change its update
    type, age, digest, platforms, policy, source and compare links and release notes. A
    hidden marker is always appended."""
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
    labels_by_update_type: dict[UpdateTypeName, tuple[str, ...]] = Field(default_factory=dict)
    """More labels by how far a change moves: `{major: [major, breaking], digest-only:
    [rebuild]}`; keys: major, minor, patch, pre-release, digest-only, rebuild, other."""

    def settings(self) -> PullRequestSettings:
        """The frozen settings publishing opens pull requests with."""
        return PullRequestSettings(
            title=self.title,
            body=self.body,
            labels=self.labels,
            reviewers=self.reviewers,
            assignees=self.assignees,
            draft=self.draft,
            automerge=self.automerge,
            update_type_labels=tuple(sorted(self.labels_by_update_type.items())),
        )


class GroupSpec(Section):
    """A named group: one branch for every image matching any of `images`."""

    name: BranchSafe = Field(min_length=1)
    """Group name, used in the branch name (`image-bot/<name>`)."""
    images: tuple[str, ...] = Field(min_length=1)
    """Globs on image names, as in `images[].name`."""


class GroupingSpec(Section):
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


class LimitsSpec(Section):
    """Caps on how much the bot opens (none = no cap)."""

    max_open_pull_requests: Positive | None = 10
    """Open at most this many bot pull requests in the repository at once."""
    max_pull_requests_per_hour: Positive | None = None
    """Open at most this many new pull requests per hour."""


class DashboardSpec(Section):
    """One issue that lists what the bot proposes, waits on and was told to leave alone."""

    enabled: bool = False
    """Keep a dashboard issue (GitHub issue / GitLab issue) in the repository; also where
    ignores, holds and pins are remembered (docs/commands.md)."""
    title: str = Field(default="image-bot dashboard", min_length=1, max_length=200)
    """The issue's title."""
    label: str = Field(default="image-bot-dashboard", pattern=r"^[A-Za-z0-9._ :/-]{1,50}$")
    """The label that finds the issue again (one read per pass); keep it on the issue."""


class RepositorySpec(Section):
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
    """Directories (or files) to scan, relative to the repository root. Each must exist: one
    that does not fails the repository (exit 1) and nothing is published for it."""
    include: tuple[str, ...] = ()
    """Globs of files to read (default: every `*.yaml`/`*.yml` and the `extra_names`)."""
    exclude: tuple[str, ...] = ()
    """Globs of files or directories to skip (`**/templates/**`, `archive/**`)."""
    extra_names: tuple[str, ...] = ()
    """More file names to read besides the YAML ones (`Chart.lock`, `compose.override`)."""
    max_file_bytes: Positive = 1_048_576
    """Skip (and report) files larger than this."""
    ci_files: bool = True
    """Update images in CI files (GitHub Actions, GitLab CI, Woodpecker, Drone) too."""
    update: Literal["all", "configured"] = "all"
    """`all`: every image reference found; `configured`: only references that a Flux
    `$imagepolicy` marker, an `images` entry or a `targets` entry names (the rest are neither
    read from registries nor changed), as Flux and Argo CD Image Updater do."""
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
    stages: tuple[StageSpec, ...] = ()
    """Environments in order (`dev`, `staging`, `prod`): a later stage takes the exact versions
    its upstream runs, once its gates pass (see docs/promotion.md)."""
    dashboard: DashboardSpec = DashboardSpec()
    """The dashboard issue (opt-in)."""
    commands: bool = True
    """Obey `/image-bot ...` comments of people with write access, read once per pass
    (GitHub: one more read per pass, the open pull requests' comment counts)."""

    @model_validator(mode="after")
    def _dashboard_needs_issues(self) -> RepositorySpec:
        if self.dashboard.enabled and self.forge.type == "local":
            msg = "dashboard needs a forge with issues (github or gitlab)"
            raise ValueError(msg)
        return self

    @model_validator(mode="after")
    def _signed_needs_an_app(self) -> RepositorySpec:
        if self.commit.signed and (self.forge.type != "github" or self.forge.app is None):
            msg = "commit.signed needs forge type github with app (GitHub signs App commits)"
            raise ValueError(msg)
        return self

    @model_validator(mode="after")
    def _stages_fit(self) -> RepositorySpec:
        if self.stages:
            check_stages(self.stages, repository_paths=self.paths, forge=self.forge.type)
            if self.direct_commit and any(stage.promote_from for stage in self.stages):
                raise located("promotions open pull requests; direct_commit cannot", ("stages",))
        return self

    def stage_graph(self) -> StageGraph:
        """The repository's stages as frozen settings (empty without stages)."""
        return stage_graph(self.stages)

    def scope(self) -> Scope:
        """The files this repository's references are read from (frozen, for `edit`)."""
        return Scope(
            directories=self.paths,
            include=self.include,
            exclude=self.exclude,
            extra_names=self.extra_names,
            targets=tuple(
                CustomTarget(
                    files=t.files,
                    path=t.path,
                    image=t.image,
                    part=Part.TAG if t.part == "tag" else Part.WHOLE,
                )
                for t in self.targets
            ),
            max_bytes=self.max_file_bytes,
            ci_files=self.ci_files,
        )

    def publish_settings(self) -> PublishSettings:
        """The frozen settings publishing runs with for this repository."""
        return PublishSettings(
            base=self.base,
            branch_prefix=self.branch_prefix,
            commit=self.commit.settings(),
            pull_request=self.pull_request.settings(),
        )

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

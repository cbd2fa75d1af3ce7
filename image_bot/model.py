"""Frozen values that cross stage boundaries: scan -> decide -> edit -> publish.

No behaviour beyond small helpers; each stage takes and returns these types.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from image_bot.errors import RegistryError

__all__ = [
    "Change",
    "ChangeDetails",
    "CheckState",
    "Comment",
    "Decision",
    "Edit",
    "Fact",
    "FileChange",
    "ImageName",
    "ImageRef",
    "Issue",
    "Occurrence",
    "OccurrenceKind",
    "Part",
    "Promotion",
    "PullRequest",
    "PullRequestState",
    "ReleaseNote",
    "ReleaseNotes",
    "ScanFailure",
    "ScanResult",
    "Skipped",
    "Span",
    "StageVersion",
    "TagFacts",
    "TagList",
    "Trigger",
    "UpdatePlan",
    "UpdateType",
    "Waiting",
]


# --- image names ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, order=True)
class ImageName:
    """A normalized repository: `docker.io` + `library/nginx`. The scan dedup key."""

    registry: str
    repository: str

    def __str__(self) -> str:
        return f"{self.registry}/{self.repository}"


@dataclass(frozen=True, slots=True)
class ImageRef:
    """A reference as found or proposed: name, optional tag and digest, and its spelling.

    `text` is the reference as the user wrote it (`nginx:1.25`), so a rewrite can keep the
    short form instead of expanding it to `docker.io/library/nginx:1.25`.
    """

    name: ImageName
    tag: str | None = None
    digest: str | None = None
    text: str = ""

    def __str__(self) -> str:
        return self.text or self.canonical

    @property
    def canonical(self) -> str:
        """The fully qualified form: `docker.io/library/nginx:1.25@sha256:...`."""
        out = str(self.name)
        if self.tag is not None:
            out += f":{self.tag}"
        if self.digest is not None:
            out += f"@{self.digest}"
        return out


# --- scan ------------------------------------------------------------------------------------


class Fact(StrEnum):
    """Registry facts beyond the tag list that a policy may need for some tags."""

    DIGEST = "digest"
    CREATED = "created"
    PLATFORMS = "platforms"
    LABELS = "labels"


@dataclass(frozen=True, slots=True)
class TagFacts:
    """What the registry says about one tag (only the facts that were asked for)."""

    digest: str | None = None
    created: datetime | None = None
    platforms: frozenset[str] | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    first_seen: datetime | None = None  # when image-bot first saw `digest` (state store)


@dataclass(frozen=True, slots=True)
class TagList:
    """The tags of one repository, plus facts for the tags a policy asked about."""

    image: ImageName
    tags: tuple[str, ...]
    facts: Mapping[str, TagFacts] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ScanFailure:
    """A repository whose tags could not be listed; the error is already redacted."""

    image: ImageName
    error: RegistryError


ScanResult = Mapping[ImageName, TagList | ScanFailure]


# --- decide ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Decision:
    """A policy's verdict for one image.

    `target` is None when nothing should change. `rejected` lists (tag, why) for every
    tag that lost, which is what `image-bot tags` prints. When `missing` is not empty the
    policy could not decide yet: it needs `needs` facts for those tags (elect, then resolve),
    and `rejected` stays empty until the verdict (listing 100,000 reasons per fact round
    would cost more than the election).
    """

    current: ImageRef
    target: ImageRef | None
    reason: str
    rejected: tuple[tuple[str, str], ...] = ()
    missing: tuple[str, ...] = ()
    ready: tuple[tuple[str, datetime], ...] = ()  # (tag, when it passes min_age): waiting

    @property
    def changes(self) -> bool:
        return self.target is not None and (
            self.target.tag != self.current.tag or self.target.digest != self.current.digest
        )


# --- edit ------------------------------------------------------------------------------------


class Part(StrEnum):
    """Which piece of a reference a span holds."""

    WHOLE = "whole"
    REGISTRY = "registry"
    NAME = "name"
    TAG = "tag"
    DIGEST = "digest"


class OccurrenceKind(StrEnum):
    """How a reference was found."""

    POD_SPEC = "pod-spec"
    KUSTOMIZE = "kustomize"
    HELM_VALUES = "helm-values"
    COMPOSE = "compose"
    MARKER = "marker"
    CUSTOM = "custom"
    IMAGE_FIELD = "image-field"  # an `image`/`*Image` field of any other object (CRs, values)
    HELM_TEMPLATE = "helm-template"  # a literal `image:` in a chart's templates/ (line-level)
    GITHUB_ACTIONS = "github-actions"  # job/service containers and docker:// steps
    GITLAB_CI = "gitlab-ci"  # image and services of .gitlab-ci.yml jobs
    WOODPECKER = "woodpecker"  # steps and services of .woodpecker pipelines
    DRONE = "drone"  # steps and services of .drone.yml pipelines


@dataclass(frozen=True, slots=True)
class Span:
    """Offsets into the decoded file text (`end` exclusive); `line`/`column` are 1-based."""

    start: int
    end: int
    line: int
    column: int


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One image reference in one manifest, with the exact spans of its parts."""

    path: str
    document: int
    yaml_path: tuple[str | int, ...]
    kind: OccurrenceKind
    ref: ImageRef
    spans: Mapping[Part, Span]
    policy: str | None = None

    @property
    def primary(self) -> Span:
        """The span of the scalar an update changes: the tag, else the digest, else the whole
        reference or its name (what `file:line` in refs, reports and pull requests names).
        """
        for part in _PRIMARY_PARTS:
            span = self.spans.get(part)
            if span is not None:
                return span
        return min(self.spans.values(), key=lambda span: span.start)

    @property
    def line(self) -> int:
        return self.primary.line

    @property
    def column(self) -> int:
        return self.primary.column


_PRIMARY_PARTS = (Part.TAG, Part.DIGEST, Part.WHOLE, Part.NAME, Part.REGISTRY)


@dataclass(frozen=True, slots=True)
class Skipped:
    """A file (or part of one) that was not touched, and why."""

    path: str
    reason: str
    line: int | None = None


@dataclass(frozen=True, slots=True)
class Change:
    """A decision that moves a reference: old -> new at one occurrence."""

    occurrence: Occurrence
    old: ImageRef
    new: ImageRef


@dataclass(frozen=True, slots=True)
class Edit:
    """Replace `old` at `span` with `new`."""

    span: Span
    old: str
    new: str


@dataclass(frozen=True, slots=True)
class FileChange:
    """The new content of one file and the edits that made it."""

    path: str
    before_sha256: str
    after: str
    edits: tuple[Edit, ...]


# --- plan and publish -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Promotion:
    """What a promotion (or rollback) plan tells its pull request: the hop, and one line of
    trail per version (the commit and pull request that introduced it, when, soak, checks)."""

    stage: str
    upstream: tuple[str, ...]  # the stages the versions come from (none for a rollback)
    trail: tuple[str, ...] = ()
    rollback: bool = False  # back to a version the stage ran before (`image-bot rollback`)


@dataclass(frozen=True, slots=True)
class UpdatePlan:
    """The changes that go on one bot branch of one repository (one pull request)."""

    repo: str
    base: str
    branch: str
    group: str
    changes: tuple[Change, ...]
    fingerprint: str  # hash of the intended changes; equal to an open PR's marker = nothing to do
    promotion: Promotion | None = None  # set when the versions come from an upstream stage
    automerge: bool | None = None  # None: the repository's pull_request.automerge


class CheckState(StrEnum):
    """What a forge says about a commit's checks (CI runs and statuses), all taken together."""

    SUCCESS = "success"  # every check and status finished green
    PENDING = "pending"  # some still running or queued
    FAILURE = "failure"  # one failed, errored, timed out or was cancelled
    NONE = "none"  # nothing reported for the commit


class UpdateType(StrEnum):
    """How far a change moves, read from the old and new tags (`decide.update_type`)."""

    MAJOR = "major"
    MINOR = "minor"
    PATCH = "patch"
    PRERELEASE = "pre-release"  # the new tag is a pre-release (`2.0.0-rc.1`)
    DIGEST_ONLY = "digest-only"  # the same tag (or none): only the digest moves
    REBUILD = "rebuild"  # the same version rebuilt (Bitnami `-r4` -> `-r5`)
    OTHER = "other"  # tags that are not versions (`main-3f2a9c1` -> `main-77b0e12`)


@dataclass(frozen=True, slots=True)
class ReleaseNote:
    """One release of an image's source repository; `body` is already neutralised markdown."""

    tag: str
    name: str
    url: str
    body: str
    published: datetime | None = None


@dataclass(frozen=True, slots=True)
class ReleaseNotes:
    """The releases between an old and a new version, newest first (trimmed to a size), or
    why there are none (`missing`: one line)."""

    releases: tuple[ReleaseNote, ...] = ()
    more: str | None = None  # where the rest is (the source's releases page), when trimmed
    missing: str | None = None


@dataclass(frozen=True, slots=True)
class ChangeDetails:
    """What a reviewer wants to know about one old -> new move, beyond the references.

    Registry facts are those of the new version (`created` from its config blob,
    `first_seen` from the state store); `source`, revisions and `compare` come from the OCI
    labels (`org.opencontainers.image.source`, `.revision`, `.version`) of both versions.
    """

    image: str  # canonical name
    old: str  # canonical references
    new: str
    update_type: UpdateType
    policy: str = ""  # where the policy that chose it is written (`policies.web`)
    digest: str | None = None
    platforms: tuple[str, ...] = ()
    created: datetime | None = None
    first_seen: datetime | None = None
    source: str | None = None  # the source repository's web URL
    old_revision: str | None = None
    new_revision: str | None = None
    compare: str | None = None  # the forge's compare view of old_revision...new_revision
    notes: ReleaseNotes | None = None


class PullRequestState(StrEnum):
    """Where a pull request stands."""

    OPEN = "open"
    CLOSED = "closed"
    MERGED = "merged"


@dataclass(frozen=True, slots=True)
class PullRequest:
    """A pull/merge request as the forge reports it; `fingerprint` is from the bot's marker."""

    number: int
    url: str
    branch: str
    base: str
    head_sha: str
    state: PullRequestState
    title: str = ""
    fingerprint: str | None = None  # from the bot's hidden marker; None: not (recognisably) ours
    proposals: tuple[str, ...] = ()  # canonical refs it proposed (`docker.io/library/nginx:1.27`)
    labels: tuple[str, ...] = ()
    draft: bool = False
    # requested reviewers: logins / usernames (`org/team` on GitHub)
    reviewers: tuple[str, ...] = ()
    assignees: tuple[str, ...] = ()
    created_at: datetime | None = None  # for the opened-per-hour limit (publish.limits)
    body: str = ""  # as the forge holds it (marker included); rewritten to record notices
    notices: tuple[str, ...] = ()  # one-time comments already acknowledged (publish.marker)


@dataclass(frozen=True, slots=True)
class Issue:
    """A plain issue the bot keeps (the dashboard), with its body and comment count."""

    number: int
    url: str
    title: str
    body: str
    comments: int = 0


@dataclass(frozen=True, slots=True)
class Comment:
    """A comment on a pull request or issue (GitHub issue comment, GitLab note)."""

    id: int
    author: str  # login / username
    body: str
    author_id: int | None = None  # GitLab asks membership by id
    bot: bool = False  # an App or a bot account: never obeyed


# --- stages -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StageVersion:
    """What one stage runs of one image (a cell of `image-bot envs`) and how far it is behind
    its upstream: how many versions the upstream ran since, from when (None: first stage)."""

    stage: str
    image: ImageName
    tag: str | None
    digest: str | None
    since: datetime
    behind_versions: int | None = None
    behind_since: datetime | None = None


@dataclass(frozen=True, slots=True)
class Waiting:
    """A promotion that is wanted but not allowed yet: why, and when it will be (None: when
    someone acts, a hold lifted or checks turned green)."""

    stage: str
    image: ImageName
    version: str  # what it would move to: `1.2.0@sha256:0123456789ab`
    reason: str
    opens_at: datetime | None = None

    def __str__(self) -> str:
        return f"{self.stage}: {self.image} {self.version}: {self.reason}"


@dataclass(frozen=True, slots=True)
class Trigger:
    """What a webhook asks for: a targeted pass for `images`, a re-plan of `repositories`."""

    images: tuple[ImageName, ...] = ()
    repositories: tuple[str, ...] = ()
    reason: str = ""

    @property
    def is_empty(self) -> bool:
        """True when the delivery was valid but asks for nothing (a delete, a pull...)."""
        return not self.images and not self.repositories
